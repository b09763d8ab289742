// Turns one run's results into the markdown sections of docs/benchmarks.md and the SVG charts of
// docs/charts/: prints them, and with `write` replaces the sections (through replaceSection, leaving
// the other scripts' sections alone), writes the charts and saves the raw results to bench/results.json.

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PUBLISHED } from "./images.ts";
import { replaceSection } from "./report.ts";
import { type MemoryResult, median, type Results, spread } from "./results.ts";
import { barChart, compact } from "./svg.ts";
import { SERVER_BOUND_SHARE, serverBoundId } from "./throughput.ts";

export const SERVER_SECTION = "Throughput, latency, memory";
export const IMAGE_SECTION = "Image size";
/** The headline of issue 4: speck against these three, 64 keep-alive connections. */
const HEADLINE_PEERS = ["nginx", "h2o", "lighttpd"];
const HEADLINE_CELLS = ["ka64-90B", "ka64-10KB", "ka64-300KB"];

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e6 ? 2 : 1)} MB`;
const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const ms = (value: number) =>
  value >= 10 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toFixed(2);
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : "–");
const bytesLabel = (bytes: number) => {
  const units: [number, string][] = [
    [1e9, "GB"],
    [1e6, "MB"],
    [1e3, "kB"],
  ];
  for (const [size, unit] of units)
    if (bytes >= size) return `${Number((bytes / size).toPrecision(3))} ${unit}`;
  return `${bytes} B`;
};

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

function requestsPerSecond(r: Results, cell: string, server: string): number[] {
  return (r.load[cell]?.[server] ?? []).map((x) => x.requestsPerSecond);
}

const rps = (r: Results, cell: string, server: string) => median(requestsPerSecond(r, cell, server));

function table(header: string[], rows: string[][], align: string[]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${align.join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

function machine(r: Results): string {
  const m = r.machine;
  const rows = Object.entries(r.versions).map(([name, version]) => [name, version]);
  return `${r.mode === "quick" ? "**Quick mode** (fewer loads, shorter and fewer rounds): indicative only; `npm run bench -- --write` replaces it.\n\n" : ""}Run: ${r.mode} mode, started ${r.started.slice(0, 16).replace("T", " ")} UTC. Machine: **${m.cpus} CPUs** (\`nproc\`),
${m.model}, Linux ${m.kernel}, shared with other work (load average ${m.loadBefore.toFixed(1)} before,
${m.loadAfter.toFixed(1)} after). With only two cores, every server runs on one core (\`taskset -c ${r.pinning.server}\`,
one worker or thread: nginx \`worker_processes 1\`, h2o \`num-threads: 1\`, Go and Caddy see one CPU,
speck \`SPECK_WORKERS=1\`) and the load generator (wrk or h2load, one thread) with this harness on the
other (\`taskset -c ${r.pinning.client}\`). On a machine this small the load generator's one core can
be the limit for the fastest servers, which narrows the ratios between them.

Rounds are interleaved: each round starts every server (all on the same core, idle but for the one
under load) and warms each up for 1 s; then each load runs for ${r.duration} s against every server back
to back, a different server first each time, so a burst from the machine's other work hits all alike. Figures are medians of ${r.rounds} rounds; ± is
half the range between the slowest and the fastest round.

${table(["server", "version"], rows, ["---", "---"])}

Configurations: \`bench/peers.ts\` (nginx: sendfile, tcp_nopush, open_file_cache, access_log off,
gzip_static; h2o: file.send-compressed; Caddy: file_server precompressed br gzip; lighttpd: sendfile
backend, long keep-alive; BusyBox httpd and Go's http.FileServer as shipped). The site (\`bench/site.ts\`): speck's docs example
plus a 90 B text file, a 10 KB HTML page, a 300 KB script and a 5 MB video, with \`.gz\` and \`.br\`
siblings of the two compressible files (speck packs them with \`--precompressed\`).`;
}

function headline(r: Results): string {
  const peers = HEADLINE_PEERS.filter((p) => r.versions[p]);
  const rows = (cells: string[]) =>
    cells
      .filter((cell) => r.load[cell]?.speck)
      .map((cell) => {
        const speck = rps(r, cell, "speck");
        const ratios = peers.map((p) => speck / rps(r, cell, p));
        const file = r.cells.find((c) => c.id === cell)!.file;
        const goal =
          file === "90 B"
            ? { text: "≥ 1.3x nginx, ≥ 1.0x h2o", met: ratios[0]! >= 1.3 && ratios[1]! >= 1.0 }
            : { text: "≥ 1.0x the fastest", met: Math.min(...ratios) >= 1.0 };
        return [
          file,
          compact(speck),
          ...peers.map((p) => compact(rps(r, cell, p))),
          ...ratios.map(ratio),
          goal.text,
          goal.met ? "yes" : "**no**",
        ];
      });
  const header = ["file", "speck", ...peers, ...peers.map((p) => `speck / ${p}`), "goal", "met"];
  const align = ["---", ...Array(1 + peers.length * 2).fill("---:"), "---", "---"];
  const fromH2load = rows(HEADLINE_CELLS.map((cell) => cell.replace("ka64", "h2load64")));
  const bound = rows(HEADLINE_CELLS.map(serverBoundId));
  const cpu = (cell: string, server: string) => median(r.cpu?.[cell]?.[server] ?? []);
  const cpuRows = HEADLINE_CELLS.filter((cell) => r.cpu?.[cell]?.speck).map((cell) => [
    r.cells.find((c) => c.id === cell)!.file,
    ms(cpu(cell, "speck")),
    ...peers.map((p) => ms(cpu(cell, p))),
    ...peers.map((p) => ratio(cpu(cell, p) / cpu(cell, "speck"))),
  ]);
  const speckMemory = r.memory.speck;
  let memory = "Memory: not measured in this run.";
  if (speckMemory && "rest" in speckMemory) {
    const tenK = speckMemory.idle.find((i) => i.connections === 10_000);
    const rest = speckMemory.rest;
    const verdict = (ok: boolean) => (ok ? "met" : "**not met**");
    memory = `Memory goals: under 100 KiB per idle worker, and 10,000 idle keep-alive connections in under 8 MB.
speck's one worker holds ${kilobytes(rest.rss)} resident at rest, of which ${kilobytes(rest.anon)} private (the rest is
the mapped server and pack, shared with the page cache): ${verdict(rest.anon < 100 * 1024)} counting private memory,
${verdict(rest.rss < 100 * 1024)} counting every resident page.${
      tenK
        ? ` With ${tenK.open.toLocaleString("en-US")} idle connections open it holds ${megabytes(tenK.resident.rss)} in total
(${perConnection(speckMemory, tenK.connections)} per connection): ${verdict(tenK.resident.rss < 8e6)}.`
        : ""
    }`;
  }
  return `### Headline: speck against nginx, h2o and lighttpd (issue 4)

One core each, 64 keep-alive connections (wrk), requests per second, medians:

${table(header, rows(HEADLINE_CELLS), align)}

${
  cpuRows.length
    ? `The server's CPU time per request in the same wrk loads (microseconds of user and system time of its
processes, from /proc; lower is better): the work each request costs, which the machine's other load
disturbs much less than requests per second.

${table(["file", "speck", ...peers, ...peers.map((p) => `${p} / speck`)], cpuRows, [
  "---",
  ...Array(1 + peers.length * 2).fill("---:"),
])}

`
    : ""
}${
  fromH2load.length
    ? `The same loads from h2load, a lighter client than wrk (whose one thread can be the limit here):

${table(header, fromH2load, align)}

`
    : ""
}${
  bound.length
    ? `The same wrk loads with every server held to ${SERVER_BOUND_SHARE * 100}% of its core (a CPU cgroup quota, \`bench/quota.ts\`),
so that the server, not wrk's one core, is the limit: requests per second then rank the servers' own
work, as they would on a machine with cores to spare for the load generator:

${table(header, bound, align)}

`
    : ""
}${memory}`;
}

function perConnection(m: MemoryResult, connections: number): string {
  const held = m.idle.find((i) => i.connections === connections);
  if (!held || held.open === 0) return "–";
  return `${Math.round((held.resident.rss - m.rest.rss) / held.open).toLocaleString("en-US")} B`;
}

function throughputTables(r: Results): string {
  const servers = Object.keys(r.versions);
  const requests = r.cells.map((cell) => [
    cell.title,
    ...servers.map((s) => {
      const xs = requestsPerSecond(r, cell.id, s);
      return xs.length ? `${compact(median(xs))} ±${(spread(xs) * 100).toFixed(0)}%` : "–";
    }),
  ]);
  const cpuTable = r.cells.map((cell) => [
    cell.title,
    ...servers.map((s) => {
      const xs = r.cpu?.[cell.id]?.[s] ?? [];
      return xs.length ? ms(median(xs)) : "–";
    }),
  ]);
  const latency = r.cells.map((cell) => [
    cell.title,
    ...servers.map((s) => {
      const xs = r.load[cell.id]?.[s] ?? [];
      return xs.length ? `${ms(median(xs.map((x) => x.p50)))} / ${ms(median(xs.map((x) => x.p99)))}` : "–";
    }),
  ]);
  const encodings = r.cells
    .filter((cell) => /^(gzip|br)/.test(cell.id))
    .map((cell) => [
      cell.title,
      ...servers.map((s) => {
        const probe = r.probes[cell.id]?.[s];
        return probe ? `${probe.encoding}, ${bytesLabel(probe.bytes)}` : "–";
      }),
    ]);
  const errors = r.cells.flatMap((cell) =>
    servers.flatMap((s) => {
      const n = (r.load[cell.id]?.[s] ?? []).reduce((sum, x) => sum + x.errors, 0);
      return n > 0 ? [`${s} on "${cell.title}": ${n}`] : [];
    }),
  );
  const align = ["---", ...servers.map(() => "---:")];
  return `### Requests per second

![requests per second by file size](charts/requests-by-size.svg)

![requests per second for the 90 B file by connection pattern](charts/requests-by-connections.svg)

${table(["load", ...servers], requests, align)}

BusyBox httpd closes every connection after one answer, so in its "keep-alive" rows wrk reconnects
for every request, and h2load cannot load it at all (–).

### Server CPU time per request (µs)

![CPU time per request by file size](charts/cpu-by-size.svg)

${table(["load", ...servers], cpuTable, align)}

### Latency, p50 / p99 (ms)

${table(["load", ...servers], latency, align)}

### What each server sent when compression was offered

A server that cannot serve the precompressed file answers with the whole file (identity), so its
requests per second in those rows move more bytes and are not comparable.

${table(["load", ...servers], encodings, align)}

${errors.length ? `Errors and non-2xx answers during the loads: ${errors.join("; ")}.` : "No load saw an error or a non-2xx answer."}`;
}

function memoryTable(r: Results): string {
  const servers = Object.keys(r.versions);
  const counts = [
    ...new Set(Object.values(r.memory).flatMap((m) => ("idle" in m ? m.idle.map((i) => i.connections) : []))),
  ].sort((a, b) => a - b);
  const rows = servers.map((s) => {
    const m = r.memory[s];
    if (!m) return [s, "not measured", ...counts.map(() => ""), ""];
    if ("skipped" in m) return [s, `not measured: ${m.skipped}`, ...counts.map(() => ""), ""];
    return [
      s,
      `${megabytes(m.rest.rss)} (${megabytes(m.rest.anon)} private)`,
      ...counts.map((c) => {
        const held = m.idle.find((i) => i.connections === c)!;
        return `${megabytes(held.resident.rss)}${held.open < c ? ` (${held.open.toLocaleString("en-US")} stayed open)` : ""}`;
      }),
      perConnection(m, counts.at(-1)!),
    ];
  });
  return `### Memory

Resident memory (VmRSS, summed over the server's processes) right after start and one request, then
while a client holds idle keep-alive connections, each having fetched the 90 B file once
(\`bench/memory.ts\`). Resident memory includes the pages of mapped files (speck's pack, the
servers' binaries and libraries) that the kernel maps in; it may map a whole 2 MB page-cache folio at
once, so the "private" figure (RssAnon) is the memory the server itself allocated. Per idle connection: (memory with ${counts.at(-1)?.toLocaleString("en-US")} − at rest) / connections open.

![memory by idle connections](charts/memory.svg)

${table(
  ["server", "at rest", ...counts.map((c) => `${c.toLocaleString("en-US")} idle`), "per idle connection"],
  rows,
  ["---", "---:", ...counts.map(() => "---:"), "---:"],
)}`;
}

function startupTable(r: Results): string {
  const rows = Object.keys(r.versions)
    .filter((s) => r.startup[s]?.length)
    .map((s) => {
      const xs = r.startup[s]!;
      return [s, ms(median(xs)), `${ms(Math.min(...xs))} – ${ms(Math.max(...xs))}`, String(xs.length)];
    });
  return `### Start-up

Milliseconds from spawning the server to its first answered HTTP request (polled about every
millisecond), over every start of this run. It includes spawning through \`taskset\` (and \`env\` for
speck) from Node on a busy machine, so differences of a few tens of milliseconds are noise.

${table(["server", "median ms", "range", "starts"], rows, ["---", "---:", "---:", "---:"])}`;
}

function imageSection(r: Results): string {
  const images = r.images;
  if (!images) return `Not measured in this run${r.failures.length ? ` (${r.failures.join("; ")})` : ""}.`;
  const speckOf = (site: string) => images.built.find((b) => b.name === "speck" && b.site === site)!.bytes;
  const speckCompressed = (site: string) =>
    images.built.find((b) => b.name === "speck" && b.site === site)!.compressed;
  const times = (value: number, base: number) => (value === base ? "1x" : `${(value / base).toFixed(1)}x`);
  const rows = images.built.map((b) => [
    b.name,
    b.site,
    bytesLabel(b.bytes),
    times(b.bytes, speckOf(b.site)),
    bytesLabel(b.compressed),
    times(b.compressed, speckCompressed(b.site)),
  ]);
  const sites = Object.entries(images.sites).map(
    ([name, s]) => `${name}: \`${s.folder}\` (${s.files} files, ${bytesLabel(s.bytes)})`,
  );
  const t = images.times;
  const seconds = (xs: number[]) => `${(median(xs) / 1000).toFixed(2)} s`;
  const builtWith = images.speck
    ? `with speck ${images.speck}, docker ${images.docker}`
    : `in this run (docker ${images.docker})`;
  return `Images built ${builtWith}, sizes as \`docker image inspect\` reports
them (uncompressed layers), and saved and gzipped. Sites: ${sites.join("; ")}. speck: \`speck build SITE -o site.tar
--platform linux/amd64\` then \`docker load\`. BusyBox httpd and Go: \`docker build\` of \`FROM scratch\`
with the binary and the site folder (Debian's \`busybox-static\`, the whole multi-call binary; Go's
\`http.FileServer\` built with \`CGO_ENABLED=0 -ldflags=-s -w\`) (\`bench/images.ts\`).

![image size](charts/images.svg)

${table(["image", "site", "size", "vs speck", "compressed", "vs speck"], rows, [
  "---",
  "---",
  "---:",
  "---:",
  "---:",
  "---:",
])}

"compressed" is \`docker save | gzip -6\`, close to what a registry pull transfers and comparable
with the published sizes below. speck's pack keeps each compressible file with its gzip and brotli
variants beside it, so for a large site both its image and its transfer are bigger than an image of
the plain files: the server's bytes matter only for small sites.

Published sizes (not rebuilt here: building them needs the network):

${table(
  ["image", "size", "what", "source"],
  PUBLISHED.map((p) => [p.name, bytesLabel(p.bytes), p.what, p.source]),
  ["---", "---:", "---", "---"],
)}

### Image build time

The ${images.timedSite} (${images.sites[images.timedSite]!.files} files), medians of ${t.speckCold.length} round(s).
speck compresses every compressible file with gzip -9 and brotli -q 11 and generates the server;
docker build only copies the files into a layer (no compression), so "cold" favours docker. speck
runs as \`node bin/speck.js\` from this source checkout (TypeScript through tsx), which adds about a
second of start-up to each build.

${table(
  ["", "cold", "warm"],
  [
    ["`speck build` (empty compression cache / cache warm)", seconds(t.speckCold), seconds(t.speckWarm)],
    [
      "`docker build` BusyBox FROM scratch (--no-cache / cached)",
      seconds(t.dockerCold),
      seconds(t.dockerWarm),
    ],
  ],
  ["---", "---:", "---:"],
)}`;
}

/** The charts of `r`: file name in docs/charts/ → SVG. */
export function charts(r: Results): Record<string, string> {
  const servers = Object.keys(r.versions);
  const byCell = (cells: { id: string; label: string }[]) =>
    cells
      .filter((c) => r.load[c.id])
      .map((c) => servers.map((s) => (r.load[c.id]![s] ? rps(r, c.id, s) : null)));
  const sizeCells = r.cells.filter((c) => c.id.startsWith("ka64-")).map((c) => ({ id: c.id, label: c.file }));
  const patternCells = [
    { id: "ka1-90B", label: "1 keep-alive connection" },
    { id: "ka64-90B", label: "64 keep-alive connections" },
    { id: "ka1000-90B", label: "1,000 keep-alive connections" },
    { id: "close64-90B", label: "new connection per request" },
    { id: "pipe64x16-90B", label: "64 × 16 pipelined (h2load)" },
  ].filter((c) => r.load[c.id]);
  const out: Record<string, string> = {
    "requests-by-size.svg": barChart({
      title: "Requests per second by file size (64 keep-alive connections, one core each)",
      unit: "requests per second",
      groups: sizeCells.map((c) => c.label),
      series: servers,
      values: byCell(sizeCells),
      scale: "per-group",
      highlight: "speck",
    }),
    "requests-by-connections.svg": barChart({
      title: "Requests per second for the 90 B file by connection pattern",
      unit: "requests per second",
      groups: patternCells.map((c) => c.label),
      series: servers,
      values: byCell(patternCells),
      highlight: "speck",
    }),
  };
  if (sizeCells.some((c) => r.cpu?.[c.id])) {
    out["cpu-by-size.svg"] = barChart({
      title: "Server CPU time per request by file size (64 keep-alive connections; shorter is better)",
      unit: "microseconds of CPU per request",
      groups: sizeCells.map((c) => c.label),
      series: servers,
      values: sizeCells.map((c) =>
        servers.map((s) => (r.cpu?.[c.id]?.[s] ? median(r.cpu[c.id]![s]!) : null)),
      ),
      scale: "per-group",
      format: (value) => `${ms(value)} µs`,
      highlight: "speck",
    });
  }
  const measured = servers.filter((s) => r.memory[s] && "rest" in r.memory[s]!);
  if (measured.length) {
    const memory = (s: string) => r.memory[s] as MemoryResult;
    const counts = memory(measured[0]!).idle.map((i) => i.connections);
    out["memory.svg"] = barChart({
      title: "Resident memory by idle keep-alive connections",
      unit: "bytes resident",
      groups: ["at rest", ...counts.map((c) => `${c.toLocaleString("en-US")} idle connections`)],
      series: measured,
      values: [
        measured.map((s) => memory(s).rest.rss),
        ...counts.map((c) =>
          measured.map((s) => memory(s).idle.find((i) => i.connections === c)?.resident.rss ?? null),
        ),
      ],
      scale: "log",
      format: bytesLabel,
      highlight: "speck",
    });
  }
  if (r.images) {
    const built = r.images.built.map((b) => ({ label: `${b.name} (${b.site})`, bytes: b.compressed }));
    const published = PUBLISHED.map((p) => ({
      label: `${p.name.split(" (")[0]} (published)`,
      bytes: p.bytes,
    }));
    const all = [...built, ...published];
    out["images.svg"] = barChart({
      title: "Image size, compressed (what a pull transfers)",
      unit: "bytes",
      groups: [""],
      series: all.map((x) => x.label),
      values: [all.map((x) => x.bytes)],
      scale: "log",
      format: bytesLabel,
      highlight: "speck",
    });
  }
  return out;
}

/** The markdown of the two sections this benchmark owns, by title. */
export function renderSections(r: Results): Record<string, string> {
  const failures = r.failures.length ? `\n\nFailures in this run: ${r.failures.join("; ")}.` : "";
  const servers = `${machine(r)}

${headline(r)}

${throughputTables(r)}

${memoryTable(r)}

${startupTable(r)}${failures}

Reproduce: \`apt-get install wrk nghttp2-client nginx-light h2o lighttpd caddy busybox-static golang-go docker.io\`,
then \`npm run bench -- --write\` (full: every load, ${r.mode === "full" ? r.rounds : 3} rounds, images and build time;
about 30 minutes) or \`npm run bench:quick\` (a few minutes). Raw results: \`bench/results.json\`.`;
  return { [SERVER_SECTION]: servers, [IMAGE_SECTION]: imageSection(r) };
}

/** Prints the sections; with `write`, publishes them, the charts and bench/results.json. */
export function publish(r: Results, options: { write: boolean; repo: string }): void {
  const sections = renderSections(r);
  const servers = sections[SERVER_SECTION]!;
  const images = sections[IMAGE_SECTION]!;
  console.log(`## ${SERVER_SECTION}\n\n${servers}\n\n## ${IMAGE_SECTION}\n\n${images}`);
  if (!options.write) return;
  for (const [name, svg] of Object.entries(charts(r)).sort())
    writeAtomic(join(options.repo, "docs/charts", name), svg);
  const path = join(options.repo, "docs/benchmarks.md");
  let document = existsSync(path) ? readFileSync(path, "utf8") : "";
  document = replaceSection(document, SERVER_SECTION, servers);
  if (r.images || !document.includes(`## ${IMAGE_SECTION}\n`))
    document = replaceSection(document, IMAGE_SECTION, images);
  writeAtomic(path, document);
  writeAtomic(join(options.repo, "bench/results.json"), `${JSON.stringify(r, null, 1)}\n`);
}
