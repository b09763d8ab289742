// Loads the configuration and compiles the site into pack bytes: the shared first half of serve,
// pack and build, with a progress bar for compression on a TTY; and the server for a pack. The
// commands import this module when they run, not when the CLI starts: the config schema and the
// code generator are most of its start-up time.

import { SingleBar } from "cli-progress";
import { loadConfig } from "../config/load.ts";
import type { SpeckConfig } from "../config/schema.ts";
import type { Platform } from "../image/index.ts";
import { buildServer, linkServer, serverFeatures } from "../native/server/index.ts";
import { targetForArch } from "../native/target/index.ts";
import { type PackBytes, packChunks } from "../pack/write.ts";
import { compileSite, type SiteReport } from "../site/compile.ts";
import { overridesFrom, type SiteFlags } from "./site-options.ts";

export interface BuiltSite {
  config: SpeckConfig;
  configFile: string | undefined;
  pack: PackBytes;
  report: SiteReport;
}

export async function loadSiteConfig(folder: string | undefined, flags: SiteFlags) {
  return loadConfig({ folder, configFile: flags.config, overrides: overridesFrom(flags) });
}

export interface BuildPackOptions {
  /** No progress bar (for --json). */
  quiet?: boolean;
  /** The command's outputs: left out of the site when they are inside it, so no build packs the last. */
  outputs?: readonly string[];
}

/** Compiles `config`'s site into a pack, showing compression progress on a terminal. */
export async function buildPack(
  config: SpeckConfig,
  { quiet = false, outputs = [] }: BuildPackOptions = {},
): Promise<{ pack: PackBytes; report: SiteReport }> {
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
    leaveOut: outputs,
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
  return { pack: packChunks(input), report };
}

/**
 * The native server for `platform`, with the access features `pack` needs and no others:
 * squeezed, or as linked with `squeeze: false`.
 */
export function serverFor(platform: Platform, pack: PackBytes, squeeze = true): Uint8Array {
  const target = targetForArch(platform.architecture);
  const options = { features: serverFeatures(pack.chunks[0]) };
  return squeeze ? buildServer(target, options).elf : linkServer(target, options).elf;
}
