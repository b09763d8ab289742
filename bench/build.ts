// Build-time benchmark: compiling a large real documentation site (Debian's python3.11-doc HTML:
// thousands of files, tens of MB) against the work floor, which is the gzip -9 and brotli -q 11
// command-line tools compressing the same files on every core; plus an unchanged rebuild.
//
//   node --import tsx bench/build.ts [--rounds 3] [--site DIR] [--write]
//
// --write replaces the "Build time" section of docs/benchmarks.md with the results.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { validateConfig } from "../src/config/load.ts";
import { writePack } from "../src/pack/write.ts";
import { compileSite } from "../src/site/compile.ts";
import { contentType, isCompressible } from "../src/site/content-type.ts";
import { scanSite } from "../src/site/scan.ts";
import { replaceSection } from "./report.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1]! : fallback;
};
const rounds = Number(option("--rounds", "3"));
const DEFAULT_SITE = "/usr/share/doc/python3.11/html";
const site = option("--site", DEFAULT_SITE);
if (!existsSync(site)) {
  console.error(
    `bench/build: ${site} is missing; install it with: apt-get install python3.11-doc (or pass --site DIR)`,
  );
  process.exit(2);
}
for (const tool of ["gzip", "brotli", "xargs"]) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    console.error(
      `bench/build: ${tool} is missing; install it with: apt-get install ${tool === "brotli" ? "brotli" : "findutils gzip"}`,
    );
    process.exit(2);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const config = validateConfig({}, "bench", site);
const files = scanSite(site);
const totalBytes = files.reduce((n, f) => n + f.size, 0);
const compressible = files.filter(
  (f) => isCompressible(contentType(f.relative)) && f.size >= config.compression.minSize,
);
const listFile = join(mkdtempSync(join(tmpdir(), "speck-bench-")), "files");
writeFileSync(listFile, compressible.map((f) => f.absolute).join("\0"));
const jobs = String(availableParallelism());

interface Timing {
  /** Wall-clock milliseconds. */
  wall: number;
  /** CPU milliseconds (user + system) of every thread and child process doing the work. */
  cpu: number;
}

/** Seconds from the shell's `times` notation, e.g. "1m2.345s". */
const shellSeconds = (text: string): number => {
  const m = /^(\d+)m([\d.]+)s$/.exec(text);
  if (!m) throw new Error(`bench/build: cannot read the shell's times output ${JSON.stringify(text)}`);
  return Number(m[1]) * 60 + Number(m[2]);
};

function floorOnce(): Timing {
  const t = performance.now();
  // one process per file, no shell in between, every core busy; both tools in turn; then the
  // children's CPU time as the shell's `times` reports it (second line: user, system)
  const script = ["gzip -9 -c", "brotli -q 11 -c"]
    .map((command) => `xargs -0 -P ${jobs} -n 1 ${command} < ${listFile} > /dev/null`)
    .concat("times")
    .join("; ");
  const times = execFileSync("sh", ["-c", script], { encoding: "utf8" }).trim().split("\n");
  const [user, system] = times.at(-1)!.trim().split(/\s+/).map(shellSeconds);
  return { wall: performance.now() - t, cpu: (user! + system!) * 1000 };
}

async function speckOnce(cacheDir: string): Promise<Timing> {
  const t = performance.now();
  const cpu = process.cpuUsage(); // the whole process: main thread and compression workers
  const { input } = await compileSite(config, { cacheDir });
  writePack(input);
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - t, cpu: (used.user + used.system) / 1000 };
}

const floor: Timing[] = [];
const cold: Timing[] = [];
const warm: Timing[] = [];
for (let round = 0; round < rounds; round++) {
  floor.push(floorOnce());
  const cacheDir = mkdtempSync(join(tmpdir(), "speck-bench-cache-"));
  cold.push(await speckOnce(cacheDir));
  warm.push(await speckOnce(cacheDir));
  rmSync(cacheDir, { recursive: true, force: true });
  const show = (x: Timing) => `${(x.wall / 1000).toFixed(2)} s (cpu ${(x.cpu / 1000).toFixed(2)} s)`;
  console.error(
    `round ${round + 1}/${rounds}: floor ${show(floor.at(-1)!)}, speck ${show(cold.at(-1)!)}, rebuild ${show(warm.at(-1)!)}`,
  );
}

const wall = (xs: Timing[]) => median(xs.map((x) => x.wall));
const cpu = (xs: Timing[]) => median(xs.map((x) => x.cpu));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const loadAverage = loadavg()[0]!.toFixed(1);
const table = `Site: \`${site}\`${site === DEFAULT_SITE ? " (Debian python3.11-doc)" : ""}: ${files.length} files, ${(totalBytes / 1e6).toFixed(1)} MB, ${compressible.length} compressed (compressible types of at least ${config.compression.minSize} bytes).
Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} CPUs, shared with other work (load average ${loadAverage} at the end). Medians of ${rounds} interleaved rounds.

| | wall time | vs floor | CPU time | vs floor |
|---|---:|---:|---:|---:|
| floor: \`gzip -9\` + \`brotli -q 11\` on all cores (xargs -P ${jobs}) | ${seconds(wall(floor))} | 1.00x | ${seconds(cpu(floor))} | 1.00x |
| \`speck\` cold build (scan, hash, gzip + brotli, routes, pack) | ${seconds(wall(cold))} | ${(wall(cold) / wall(floor)).toFixed(2)}x | ${seconds(cpu(cold))} | ${(cpu(cold) / cpu(floor)).toFixed(2)}x |
| \`speck\` unchanged rebuild (compression cache warm) | ${seconds(wall(warm))} | | ${seconds(cpu(warm))} | |

Rounds (wall time, floor / speck / rebuild): ${floor.map((f, i) => `${seconds(f.wall)} / ${seconds(cold[i]!.wall)} / ${seconds(warm[i]!.wall)}`).join("; ")}.

Goal: within 1.3x of the floor, unchanged rebuild under 2 s. On a shared machine the wall times
swing with the neighbours' load; CPU time, the work done, is the steadier comparison.
Reproduce: \`apt-get install python3.11-doc brotli && node --import tsx bench/build.ts --rounds 3 --write\`.`;
console.log(table);
if (args.includes("--write")) {
  const path = new URL("../docs/benchmarks.md", import.meta.url);
  writeFileSync(
    path,
    replaceSection(existsSync(path) ? readFileSync(path, "utf8") : "", "Build time", table),
  );
}
