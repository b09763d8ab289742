// Registry push benchmark: a 200 MB site (random, incompressible files, so the pack layer is
// about 200 MB) built once into an OCI layout, then pushed by `speck push` and by
// `skopeo copy oci:LAYOUT docker://...` to a fresh local registry (Debian's docker-registry,
// distribution 2.8, on 127.0.0.1) each time, in interleaved rounds; medians and the ratio.
// speck runs compiled (tsc into a temporary package), as an installed speck does.
//
//   nice node --import tsx bench/push.ts [--rounds 3] [--megabytes 200] [--write]
//
// --write replaces the "Registry push" section of docs/benchmarks.md with the results.

import { execFileSync, spawnSync } from "node:child_process";
import { createCipheriv } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { readLayout } from "../src/image/index.ts";
import { startRegistry } from "../test/support/registry.ts";
import { replaceSection } from "./report.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1]! : fallback;
};
const rounds = Number(option("--rounds", "3"));
const megabytes = Number(option("--megabytes", "200"));
for (const [tool, pkg] of [
  ["skopeo", "skopeo"],
  ["docker-registry", "docker-registry"],
] as const) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    console.error(`bench/push: ${tool} is missing; install it with: apt-get install ${pkg}`);
    process.exit(2);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const work = mkdtempSync(join(tmpdir(), "speck-bench-push-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** `megabytes` of incompressible bytes in 1 MB files: AES-CTR of zeros, the same on every run. */
function makeSite(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const cipher = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(1_000_000);
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>bench</title><h1>200 MB of media</h1>\n");
  for (let i = 0; i < megabytes; i++) {
    writeFileSync(join(dir, `media-${String(i).padStart(3, "0")}.bin`), cipher.update(zeros));
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

interface Timing {
  wall: number;
  /** CPU time of the pushing process (user + system), from the shell's `times`. */
  cpu: number;
}

const shellSeconds = (text: string): number => {
  const m = /^(\d+)m([\d.]+)s$/.exec(text);
  if (!m) throw new Error(`bench/push: cannot read the shell's times output ${JSON.stringify(text)}`);
  return Number(m[1]) * 60 + Number(m[2]);
};

/** Runs `command` in a shell and times it: wall time here, CPU time from `times`. */
function timed(command: string[]): Timing {
  const quoted = command.map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(" ");
  const t = performance.now();
  const out = execFileSync(
    "sh",
    [
      "-c",
      `${quoted} >/dev/null 2>${join(work, "stderr")} || { cat ${join(work, "stderr")} >&2; exit 1; }; times`,
    ],
    {
      encoding: "utf8",
    },
  );
  const wall = performance.now() - t;
  const [user, system] = out.trim().split("\n").at(-1)!.trim().split(/\s+/).map(shellSeconds);
  return { wall, cpu: (user! + system!) * 1000 };
}

/** speck compiled into a temporary package (dist/ beside bin/), as npm installs it. */
function compiledCli(): string {
  const pkg = join(work, "package");
  mkdirSync(join(pkg, "bin"), { recursive: true });
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  execFileSync(
    process.execPath,
    [tsc, "-p", join(ROOT, "tsconfig.build.json"), "--outDir", join(pkg, "dist")],
    {
      stdio: "inherit",
    },
  );
  copyFileSync(join(ROOT, "bin/speck.js"), join(pkg, "bin/speck.js"));
  copyFileSync(join(ROOT, "package.json"), join(pkg, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"));
  return join(pkg, "bin/speck.js");
}

const CLI = compiledCli();
const site = join(work, "site");
const layout = join(work, "layout");
makeSite(site);
const built = performance.now();
execFileSync(process.execPath, [CLI, "build", site, "-o", layout, "-t", "bench/site:1", "--no-compress"], {
  stdio: ["ignore", "ignore", "inherit"],
});
const buildMs = performance.now() - built;
const image = readLayout(layout);
const packLayer = Math.max(...image.images.flatMap((i) => i.manifest.layers.map((l) => l.size)));
const pushedBytes = folderBytes(join(layout, "blobs"));
console.error(
  `bench/push: layout of ${(pushedBytes / 1e6).toFixed(1)} MB (pack layer ${(packLayer / 1e6).toFixed(1)} MB), built in ${(buildMs / 1000).toFixed(1)} s`,
);

/** Pushes with `tool` to a fresh registry, so that nothing is there to skip or mount. */
async function pushOnce(tool: "speck" | "skopeo"): Promise<Timing> {
  const registry = await startRegistry();
  try {
    const ref = `${registry.host}/bench/${tool}:1`;
    const timing = timed(
      tool === "speck"
        ? [process.execPath, CLI, "push", layout, ref]
        : ["skopeo", "copy", "--all", "--dest-tls-verify=false", `oci:${layout}`, `docker://${ref}`],
    );
    const stored = folderBytes(join(registry.root, "data"));
    if (stored < packLayer) throw new Error(`bench/push: the ${tool} push stored only ${stored} bytes`);
    return timing;
  } finally {
    await registry.stop();
  }
}

const speck: Timing[] = [];
const skopeo: Timing[] = [];
for (let round = 0; round < rounds; round++) {
  // a different tool first in each round, so the machine's other work disturbs both alike
  const order = round % 2 === 0 ? (["speck", "skopeo"] as const) : (["skopeo", "speck"] as const);
  for (const tool of order) (tool === "speck" ? speck : skopeo).push(await pushOnce(tool));
  const show = (x: Timing) => `${(x.wall / 1000).toFixed(2)} s (cpu ${(x.cpu / 1000).toFixed(2)} s)`;
  console.error(`round ${round + 1}/${rounds}: speck ${show(speck.at(-1)!)}, skopeo ${show(skopeo.at(-1)!)}`);
}

const wall = (xs: Timing[]) => median(xs.map((x) => x.wall));
const cpu = (xs: Timing[]) => median(xs.map((x) => x.cpu));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (ms: number) => `${(pushedBytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
const skopeoVersion = execFileSync("skopeo", ["--version"], { encoding: "utf8" })
  .trim()
  .replace(/^skopeo version /, "");
const registryVersion = execFileSync("docker-registry", ["--version"], { encoding: "utf8" })
  .trim()
  .split(" ")
  .at(-1);
const table = `Image: a ${megabytes} MB site of random (incompressible) 1 MB files, \`speck build -o\` into an OCI layout of two platforms: ${(pushedBytes / 1e6).toFixed(1)} MB of blobs, the pack layer ${(packLayer / 1e6).toFixed(1)} MB.
Registry: Debian's docker-registry ${registryVersion} on 127.0.0.1, filesystem storage, a fresh one for every push (nothing to skip or mount). skopeo ${skopeoVersion}.
Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} CPUs, shared with other engineers' work (load average ${loadavg()[0]!.toFixed(1)} at the end); run under \`nice\`. Medians of ${rounds} interleaved rounds; wall time from start to exit of each command (speck compiled, as installed: about 0.3 s of it is Node loading the CLI), CPU time of the pushing process.

| | wall time | throughput | CPU time | vs skopeo (wall) |
|---|---:|---:|---:|---:|
| \`skopeo copy --all oci:LAYOUT docker://…\` | ${seconds(wall(skopeo))} | ${rate(wall(skopeo))} | ${seconds(cpu(skopeo))} | 1.00x |
| \`speck push LAYOUT …\` | ${seconds(wall(speck))} | ${rate(wall(speck))} | ${seconds(cpu(speck))} | ${(wall(speck) / wall(skopeo)).toFixed(2)}x |

Rounds (wall time, speck / skopeo): ${speck.map((s, i) => `${seconds(s.wall)} / ${seconds(skopeo[i]!.wall)}`).join("; ")}.

speck sends the pack layer in 16 MiB PATCH chunks, reading and hashing the next chunk while the
registry takes the current one (so an interrupted upload can resume; two chunks in memory);
skopeo streams each layer in one PATCH. Both go over loopback, so the figure is mostly the cost
of reading, hashing and sending, and of the registry hashing and writing to disk.
Reproduce: \`apt-get install docker-registry skopeo && nice node --import tsx bench/push.ts --rounds 3 --write\`.`;
console.log(table);
if (args.includes("--write")) {
  const path = new URL("../docs/benchmarks.md", import.meta.url);
  writeFileSync(
    path,
    replaceSection(existsSync(path) ? readFileSync(path, "utf8") : "", "Registry push", table),
  );
}
