// `speck inspect --server`: where the native server's bytes go, per IR function, for each platform.
// `speck inspect FILE.pack`: where a pack's bytes go, and its routes.

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ACCESS_FEATURES, type AccessFeature, featureNames } from "../access/features.ts";
import { parsePlatforms, platformName } from "../image/index.ts";
import { PackError, readPack } from "../pack/read.ts";
import { packStats } from "../pack/stats.ts";
import { UsageError } from "./errors.ts";
import type { featureCosts, ServerReport } from "./server-report.ts";

interface InspectFlags {
  server?: boolean;
  platform: string;
  features?: string;
  featureCosts?: boolean;
  json?: boolean;
}

function printCosts(platforms: string[], rows: ReturnType<typeof featureCosts>): string {
  const cells = (row: (typeof rows)[number]) =>
    row.bytes.map((n, i) => (row.features.length === 0 ? `${n}` : `${n} (+${n - rows[0]!.bytes[i]!})`));
  const lines = [
    `| access features | ${platforms.join(" | ")} |`,
    `|---|${platforms.map(() => "---:").join("|")}|`,
    ...rows.map(
      (row) =>
        `| ${row.label}${row.features.length ? ` (\`${row.features.join(",")}\`)` : ""} | ${cells(row).join(" | ")} |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** `--features ip,auth` as feature names; a wrong one is a UsageError naming the accepted ones. */
function parseFeatures(list: string | undefined): AccessFeature[] {
  if (list === undefined || list === "") return [];
  const names = list === "all" ? ACCESS_FEATURES.filter((name) => name !== "proxy") : list.split(",");
  for (const name of names)
    if (!(ACCESS_FEATURES as string[]).includes(name))
      throw new UsageError(
        `--features ${list}: "${name}" is not an access feature; use ${ACCESS_FEATURES.join(", ")} or all`,
      );
  return names as AccessFeature[];
}

function printServer(report: ServerReport): string {
  const { platform, sizes, squeezed } = report;
  const features = report.features.length ? ` with ${report.features.join(", ")}` : "";
  const lines = [
    `${platform}${features}: ${squeezed.total} bytes = headers ${squeezed.headers} + decoder ${squeezed.decoder} + coded server ${squeezed.stream}`,
    `  the server it unpacks at start: ${sizes.total} bytes = headers ${sizes.headers} + code ${sizes.text} + rodata ${sizes.rodata} + data ${sizes.data} (+ ${sizes.bss} zeroed at run time)`,
    ...sizes.functions.map((f) => `  ${String(f.size).padStart(6)}  ${f.name}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** `--server`: the code generator loads only here, since it is most of the CLI's start-up time. */
async function printServerSizes(flags: InspectFlags): Promise<void> {
  const { featureCosts, serverReport } = await import("./server-report.ts");
  const platforms = parsePlatforms(flags.platform).map((p) => platformName(p));
  if (flags.featureCosts) {
    const rows = featureCosts(platforms);
    process.stdout.write(
      flags.json ? `${JSON.stringify({ platforms, rows }, null, 2)}\n` : printCosts(platforms, rows),
    );
    return;
  }
  const features = parseFeatures(flags.features);
  const reports = platforms.map((platform) => serverReport(platform, features));
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(
          reports.map((r) => ({
            ...r,
            sizes: { ...r.sizes, functions: r.sizes.functions.map(({ name, size }) => ({ name, size })) },
          })),
          null,
          2,
        )}\n`
      : reports.map(printServer).join("\n"),
  );
}

export function inspectCommand(cli: Command): void {
  cli
    .command("inspect")
    .argument("[pack]", "a .pack file to describe")
    .description("show where the bytes of the native server (--server) or of a pack go")
    .option("--server", "bytes per function of the native server")
    .option("--platform <list>", "platforms for --server", "linux/amd64,linux/arm64")
    .option(
      "--features <list>",
      `the server for packs with access rules: ${ACCESS_FEATURES.join(",")} or all`,
    )
    .option("--feature-costs", "with --server: a table of the server's bytes for each access feature")
    .option("--json", "print JSON")
    .action(async (pack: string | undefined, flags: InspectFlags) => {
      if (Boolean(flags.server) === Boolean(pack))
        throw new UsageError(
          "speck inspect needs either --server or a .pack file, e.g. speck inspect site.pack",
        );
      if (flags.server) return printServerSizes(flags);
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(pack!);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ERR_FS_FILE_TOO_LARGE")
          throw new UsageError(
            `${pack} is over 2 GiB, more than speck inspect reads; speck build prints the same figures for a site of any size`,
          );
        throw new UsageError(`cannot read ${pack}: ${code}`);
      }
      let parsed: ReturnType<typeof readPack>;
      try {
        parsed = readPack(bytes);
      } catch (error) {
        if (error instanceof PackError) throw new UsageError(`${pack}: ${error.message}`);
        throw error;
      }
      const stats = packStats(parsed, 10);
      const routes = parsed.routes().map((r) => r.path);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...stats, paths: routes }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        [
          `${pack}: ${stats.total} bytes, ${stats.routes} routes`,
          ...(parsed.access
            ? [
                `  access rules: ${featureNames(parsed.access.features).join(", ")} (section ${parsed.access.section.length} bytes)`,
              ]
            : []),
          `  heads ${stats.headers}, identity bodies ${stats.identity}, gzip ${stats.gzip}, brotli ${stats.br}, index ${stats.index}`,
          "  largest:",
          ...stats.largest.map((l) => `  ${String(l.bytes).padStart(10)}  ${l.path}`),
          "  routes:",
          ...routes.map((r) => `    ${r}`),
        ].join("\n") + "\n",
      );
    });
}
