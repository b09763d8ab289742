// `speck inspect --server`: where the native server's bytes go, per IR function, for each platform.
// `speck inspect FILE.pack`: where a pack's bytes go, and its routes.

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parsePlatforms, platformName } from "../image/index.ts";
import type { LinkedSizes } from "../native/link.ts";
import { buildServer } from "../native/server/index.ts";
import { targetForArch } from "../native/target/index.ts";
import { PackError, readPack } from "../pack/read.ts";
import { packStats } from "../pack/stats.ts";
import { UsageError } from "./errors.ts";

interface InspectFlags {
  server?: boolean;
  platform: string;
  json?: boolean;
}

/** One platform's server sizes, functions largest first (then by name, for stable output). */
export function serverReport(platform: string): { platform: string; sizes: LinkedSizes } {
  const [parsed] = parsePlatforms(platform);
  const sizes = buildServer(targetForArch(parsed!.architecture)).sizes;
  const functions = [...sizes.functions].sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1));
  return { platform: platformName(parsed!), sizes: { ...sizes, functions } };
}

function printServer(report: { platform: string; sizes: LinkedSizes }): string {
  const { platform, sizes } = report;
  const lines = [
    `${platform}: ${sizes.total} bytes = headers ${sizes.headers} + code ${sizes.text} + rodata ${sizes.rodata} + data ${sizes.data} (+ ${sizes.bss} zeroed at run time)`,
    ...sizes.functions.map((f) => `  ${String(f.size).padStart(6)}  ${f.name}`),
  ];
  return `${lines.join("\n")}\n`;
}

export function inspectCommand(cli: Command): void {
  cli
    .command("inspect")
    .argument("[pack]", "a .pack file to describe")
    .description("show where the bytes of the native server (--server) or of a pack go")
    .option("--server", "bytes per function of the native server")
    .option("--platform <list>", "platforms for --server", "linux/amd64,linux/arm64")
    .option("--json", "print JSON")
    .action((pack: string | undefined, flags: InspectFlags) => {
      if (Boolean(flags.server) === Boolean(pack))
        throw new UsageError(
          "speck inspect needs either --server or a .pack file, e.g. speck inspect site.pack",
        );
      if (flags.server) {
        const reports = parsePlatforms(flags.platform).map((p) => serverReport(platformName(p)));
        process.stdout.write(
          flags.json
            ? `${JSON.stringify(
                reports.map((r) => ({
                  ...r,
                  sizes: {
                    ...r.sizes,
                    functions: r.sizes.functions.map(({ name, size }) => ({ name, size })),
                  },
                })),
                null,
                2,
              )}\n`
            : reports.map(printServer).join("\n"),
        );
        return;
      }
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(pack!);
      } catch (error) {
        throw new UsageError(`cannot read ${pack}: ${(error as NodeJS.ErrnoException).code}`);
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
          `  heads ${stats.headers}, identity bodies ${stats.identity}, gzip ${stats.gzip}, brotli ${stats.br}, index ${stats.index}`,
          "  largest:",
          ...stats.largest.map((l) => `  ${String(l.bytes).padStart(10)}  ${l.path}`),
          "  routes:",
          ...routes.map((r) => `    ${r}`),
        ].join("\n") + "\n",
      );
    });
}
