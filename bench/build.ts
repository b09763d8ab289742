// Build-time benchmark: compiling a large real documentation site (Debian's python3.11-doc HTML:
// thousands of files, tens of MB) against the work floor, which is the gzip -9 and brotli -q 11
// command-line tools compressing the same files on every core; plus an unchanged rebuild.
//
//   node --import tsx bench/build.ts [--rounds 3] [--site DIR] [--write]
//
// --write replaces the "Build time" section of docs/benchmarks.md with the results.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
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
const site = option("--site", "/usr/share/doc/python3.11/html");
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

function floorOnce(): number {
  const t = performance.now();
  // one process per file, no shell in between, every core busy; both tools in turn
  for (const command of ["gzip -9 -c", "brotli -q 11 -c"])
    execFileSync("sh", ["-c", `xargs -0 -P ${jobs} -n 1 ${command} < ${listFile} > /dev/null`]);
  return performance.now() - t;
}

async function speckOnce(cacheDir: string): Promise<number> {
  const t = performance.now();
  const { input } = await compileSite(config, { cacheDir });
  writePack(input);
  return performance.now() - t;
}

const floor: number[] = [];
const cold: number[] = [];
const warm: number[] = [];
for (let round = 0; round < rounds; round++) {
  floor.push(floorOnce());
  const cacheDir = mkdtempSync(join(tmpdir(), "speck-bench-cache-"));
  cold.push(await speckOnce(cacheDir));
  warm.push(await speckOnce(cacheDir));
  rmSync(cacheDir, { recursive: true, force: true });
  console.error(
    `round ${round + 1}/${rounds}: floor ${floor.at(-1)!.toFixed(0)} ms, speck ${cold.at(-1)!.toFixed(0)} ms, rebuild ${warm.at(-1)!.toFixed(0)} ms`,
  );
}

const result = {
  site,
  files: files.length,
  megabytes: totalBytes / 1e6,
  compressible: compressible.length,
  floorMs: median(floor),
  speckMs: median(cold),
  rebuildMs: median(warm),
};
const ratio = result.speckMs / result.floorMs;
const table = `Site: \`${site}\` (Debian python3.11-doc): ${result.files} files, ${result.megabytes.toFixed(1)} MB, ${result.compressible} compressible.
Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} CPUs. Medians of ${rounds} interleaved rounds.

| | time | vs floor |
|---|---:|---:|
| floor: \`gzip -9\` + \`brotli -q 11\` on all cores (xargs -P ${jobs}) | ${(result.floorMs / 1000).toFixed(2)} s | 1.00x |
| \`speck\` cold build (scan, hash, gzip + brotli, pack) | ${(result.speckMs / 1000).toFixed(2)} s | ${ratio.toFixed(2)}x |
| \`speck\` unchanged rebuild (compression cache warm) | ${(result.rebuildMs / 1000).toFixed(2)} s | |

Goal: within 1.3x of the floor, unchanged rebuild under 2 s.
Reproduce: \`apt-get install python3.11-doc brotli && node --import tsx bench/build.ts --rounds 3\`.`;
console.log(table);
if (args.includes("--write")) {
  const path = new URL("../docs/benchmarks.md", import.meta.url);
  writeFileSync(
    path,
    replaceSection(existsSync(path) ? readFileSync(path, "utf8") : "", "Build time", table),
  );
}
