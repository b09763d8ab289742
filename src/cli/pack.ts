// `speck pack [folder] -o FILE`: writes the compiled pack to a file.

import { resolve } from "node:path";
import type { Command } from "commander";
import { buildPack, loadSiteConfig } from "./build-site.ts";
import { addSiteOptions, type SiteFlags } from "./site-options.ts";
import { writeFileAtomic } from "./write-file.ts";

export function packCommand(cli: Command): void {
  addSiteOptions(
    cli
      .command("pack")
      .argument("[folder]", "the site folder")
      .description("compile a site into a .pack file")
      .option("-o, --output <file>", "where to write the pack", "site.pack"),
  ).action(async (folder: string | undefined, flags: SiteFlags & { output: string }) => {
    const { config } = await loadSiteConfig(folder, flags);
    const { pack, report } = await buildPack(config);
    const path = resolve(flags.output);
    writeFileAtomic(path, pack);
    process.stdout.write(
      `speck: wrote ${flags.output}: ${pack.length} bytes, ${report.routes} routes, ${report.variants.gzip} gzip and ${report.variants.br} brotli variants (${report.compression.compressed} compressed, ${report.compression.cached} from cache)\n`,
    );
  });
}
