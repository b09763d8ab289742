// Loads the configuration and compiles the site into pack bytes: the shared first half of serve,
// pack and build, with a progress bar for compression on a TTY.

import { SingleBar } from "cli-progress";
import { loadConfig } from "../config/load.ts";
import type { SpeckConfig } from "../config/schema.ts";
import { writePack } from "../pack/write.ts";
import { compileSite, type SiteReport } from "../site/compile.ts";
import { overridesFrom, type SiteFlags } from "./site-options.ts";

export interface BuiltSite {
  config: SpeckConfig;
  configFile: string | undefined;
  pack: Uint8Array;
  report: SiteReport;
}

export async function loadSiteConfig(folder: string | undefined, flags: SiteFlags) {
  return loadConfig({ folder, configFile: flags.config, overrides: overridesFrom(flags) });
}

/** Compiles `config`'s site into a pack, showing compression progress on a terminal. */
export async function buildPack(
  config: SpeckConfig,
  quiet = false,
): Promise<{ pack: Uint8Array; report: SiteReport }> {
  const bar =
    !quiet && process.stderr.isTTY
      ? new SingleBar({
          format: "compressing {bar} {value}/{total}",
          stream: process.stderr,
          clearOnComplete: true,
          hideCursor: true,
        })
      : undefined;
  let started = false;
  const { input, report } = await compileSite(config, {
    onProgress: (done, total) => {
      if (!bar) return;
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
  });
  if (started) bar?.stop();
  for (const warning of report.warnings) process.stderr.write(`speck: warning: ${warning}\n`);
  return { pack: writePack(input), report };
}
