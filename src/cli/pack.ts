// `speck pack [folder] -o FILE`: compiles the site and writes the pack file alone.

import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { buildPack, loadSiteConfig } from "./build-site.ts";
import { addSiteOptions, type SiteFlags } from "./site-options.ts";
import { writeFileAtomic } from "./write-file.ts";

export function packCommand(cli: Command): void {
  addSiteOptions(
    cli
      .command("pack")
      .argument("[folder]", "the site folder (default: the config's root, else the current folder)")
      .description("compile a site into a .pack file")
      .option("-o, --output <file>", "where to write the pack", "site.pack")
      .addOption(new Option("--out <file>", "same as --output").hideHelp()),
  ).action(async (folder: string | undefined, flags: SiteFlags & { output: string; out?: string }) => {
    const output = flags.out ?? flags.output;
    const { config } = await loadSiteConfig(folder, flags);
    const started = Date.now();
    const { pack, report } = await buildPack(config);
    writeFileAtomic(resolve(output), pack);
    const { routes, variants, compression } = report;
    process.stdout.write(
      `speck: wrote ${output} (${pack.length} bytes) in ${Date.now() - started} ms: ${report.files} files, ${routes} routes, ${variants.gzip} gzip and ${variants.br} brotli variants (${compression.compressed} compressed, ${compression.cached} from cache)\n`,
    );
  });
}
