// Server size: the native server's bytes per target (ELF parts, the largest functions), what each
// optional access feature adds, and the hello example's image as `docker images` counts it (the
// server plus the pack, unpacked). No peers: the goals are issue 4's and issue 5's.
//
//   node --import tsx bench/size.ts [--write]
//
// --write replaces the "Server size" section of docs/benchmarks.md.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { featureCosts, serverReport } from "../src/cli/server-report.ts";
import { replaceSection } from "./report.ts";
import { packSite } from "./speck.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const PLATFORMS = ["linux/amd64", "linux/arm64"];
const GOALS: Record<string, number> = { "linux/amd64": 5 * 1024, "linux/arm64/v8": 6 * 1024 };
/** Issue 5: the hello image under 6 kB as `docker images` reports it (decimal kilobytes). */
const HELLO_GOAL = 6000;
const TOP = 8;

const thousands = (n: number) => n.toLocaleString("en-US");
const revision = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
  cwd: REPO,
  encoding: "utf8",
}).trim();

const reports = PLATFORMS.map((platform) => serverReport(platform));
const work = mkdtempSync(join(tmpdir(), "speck-size-"));
let helloPack: number;
try {
  packSite(join(REPO, "examples/hello"), join(work, "site.pack"));
  helloPack = readFileSync(join(work, "site.pack")).length;
} finally {
  rmSync(work, { recursive: true, force: true });
}

const partsTable = [
  "| target | ELF bytes | headers | decoder | coded server | goal | met |",
  "|---|---:|---:|---:|---:|---:|---|",
  ...reports.map(({ platform, squeezed }) => {
    const goal = GOALS[platform]!;
    return `| ${platform} | ${thousands(squeezed.total)} | ${squeezed.headers} | ${squeezed.decoder} | ${thousands(squeezed.stream)} | ≤ ${thousands(goal)} | ${squeezed.total <= goal ? "yes" : "**no**"} |`;
  }),
].join("\n");

const linkedTable = [
  "| target | linked bytes | headers | code | rodata | data |",
  "|---|---:|---:|---:|---:|---:|",
  ...reports.map(
    ({ platform, sizes }) =>
      `| ${platform} | ${thousands(sizes.total)} | ${sizes.headers} | ${thousands(sizes.text)} | ${sizes.rodata} | ${sizes.data} |`,
  ),
].join("\n");

const functionsTable = [
  `| function | ${reports.map((r) => r.platform).join(" | ")} |`,
  `|---|${reports.map(() => "---:").join("|")}|`,
  ...reports[0]!.sizes.functions
    .slice(0, TOP)
    .map(
      (f) =>
        `| \`${f.name}\` | ${reports.map((r) => r.sizes.functions.find((g) => g.name === f.name)?.size ?? "–").join(" | ")} |`,
    ),
].join("\n");

const costs = featureCosts(PLATFORMS);
const costsTable = [
  `| access features | ${reports.map((r) => r.platform).join(" | ")} |`,
  `|---|${reports.map(() => "---:").join("|")}|`,
  ...costs.map((row) => {
    const cells = row.bytes.map((n, i) =>
      row.features.length === 0 ? thousands(n) : `${thousands(n)} (+${thousands(n - costs[0]!.bytes[i]!)})`,
    );
    return `| ${row.label} | ${cells.join(" | ")} |`;
  }),
].join("\n");

const hello = reports.map(({ platform, squeezed }) => ({ platform, bytes: squeezed.total + helloPack }));
const helloLines = hello
  .map(
    ({ platform, bytes }) =>
      `- ${platform}: ${thousands(bytes)} bytes (${(bytes / 1000).toFixed(1)} kB; goal under ${HELLO_GOAL / 1000} kB: ${bytes < HELLO_GOAL ? "met" : "**not met**"})`,
  )
  .join("\n");

const section = `Measured at ${revision} by \`node --import tsx bench/size.ts --write\` (\`buildServer(target)\`,
the same figures as \`speck inspect --server\`): the server with every feature of issue 4, and the
optional access features (\`src/access/features.ts\`) only for packs that use them. Images ship it
squeezed ([native.md](native.md#squeezing)): a decoder and the range-coded server, which it
writes back into memory at start.

${partsTable}

The server it restores, as linked:

${linkedTable}

The largest functions (bytes of code; \`speck inspect --server\` lists them all):

${functionsTable}

What the optional access features add to the shipped, squeezed server (\`speck inspect --server
--feature-costs\`); a site without access rules pays none of it:

${costsTable}

The hello example's image as \`docker images\` reports it, which counts the unpacked files: the
server plus the pack (${thousands(helloPack)} bytes: heads, the error responses and the index for one
page):

${helloLines}`;

console.log(`## Server size\n\n${section}`);
if (process.argv.includes("--write")) {
  const path = join(REPO, "docs/benchmarks.md");
  writeFileSync(`${path}.tmp`, replaceSection(readFileSync(path, "utf8"), "Server size", section));
  renameSync(`${path}.tmp`, path);
}
