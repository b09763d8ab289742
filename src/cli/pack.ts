// `speck pack [folder] -o FILE.pack`: compiles the site and writes the pack file alone.
// `speck pack [folder] -o DIR`: writes the pack, the server for one platform and a Dockerfile FROM
// scratch into DIR, for pipelines that build images with Dockerfiles.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { type Command, Option } from "commander";
import {
  DEFAULT_PORT,
  DEFAULT_USER,
  dockerfile,
  PACK_MODE,
  PACK_PATH,
  parsePlatforms,
  platformName,
  runConfig,
  SERVER_PATH,
} from "../image/index.ts";
import { packPieces } from "../pack/write.ts";
import { UsageError } from "./errors.ts";
import { addSiteOptions, NO_SQUEEZE_HELP, type SiteFlags } from "./site-options.ts";
import { writeFileAtomic, writePieces } from "./write-file.ts";

interface PackFlags extends SiteFlags {
  output: string;
  out?: string;
  platform?: string;
  squeeze: boolean;
}

const HOST_PLATFORM = process.arch === "arm64" ? "linux/arm64" : "linux/amd64";

export function packCommand(cli: Command): void {
  addSiteOptions(
    cli
      .command("pack")
      .argument("[folder]", "the site folder (default: the config's root, else the current folder)")
      .description("compile a site into a .pack file, or a folder with the server and a Dockerfile")
      .option("-o, --output <path>", "FILE.pack, or a folder for `docker build`", "site.pack")
      .addOption(new Option("--out <file>", "same as --output").hideHelp())
      .option("--platform <platform>", "the server's platform in a folder (default: this machine's)")
      .option("--no-squeeze", NO_SQUEEZE_HELP),
  ).action(async (folder: string | undefined, flags: PackFlags) => {
    const output = resolve(flags.out ?? flags.output);
    const toFolder = extname(output) !== ".pack";
    if (!toFolder && flags.platform)
      throw new UsageError("--platform needs a folder output: a .pack file holds no server");
    const platforms = toFolder ? parsePlatforms(flags.platform ?? HOST_PLATFORM) : [];
    if (platforms.length > 1)
      throw new UsageError("a folder holds one server: give one --platform (linux/amd64 or linux/arm64)");
    const { buildPack, loadSiteConfig, serverFor } = await import("./build-site.ts");
    const { config } = await loadSiteConfig(folder, flags);
    const started = Date.now();
    const { pack, report } = await buildPack(config, { outputs: [output] });
    const { routes, variants, compression } = report;
    const what = `${report.files} files, ${routes} routes, ${variants.gzip} gzip and ${variants.br} brotli variants (${compression.compressed} compressed, ${compression.cached} from cache)`;
    if (!toFolder) {
      writeFileAtomic(output, packPieces(pack));
      process.stdout.write(
        `speck: wrote ${flags.out ?? flags.output} (${pack.size} bytes) in ${Date.now() - started} ms: ${what}\n`,
      );
      return;
    }
    const platform = platforms[0]!;
    const server = serverFor(platform, pack, flags.squeeze);
    const run = runConfig({ port: DEFAULT_PORT, user: DEFAULT_USER, labels: {} });
    writeFolder(output, [
      { name: SERVER_PATH, bytes: server, mode: 0o555 },
      { name: PACK_PATH, bytes: packPieces(pack), mode: PACK_MODE },
      { name: "Dockerfile", bytes: new TextEncoder().encode(dockerfile(run)), mode: 0o644 },
    ]);
    process.stdout.write(
      `speck: wrote ${output}/ in ${Date.now() - started} ms: ${SERVER_PATH} for ${platformName(platform)} (${server.length} bytes), ${PACK_PATH} (${pack.size} bytes: ${what}), Dockerfile\n` +
        `next: docker build -t site ${output} && docker run --rm -p 8080:8080 site\n`,
    );
  });
}

/**
 * Writes files into `folder`: into a fresh sibling folder renamed into place when `folder` does not
 * exist, else each file through a temporary name, so a failure leaves nothing half-written.
 */
function writeFolder(
  folder: string,
  files: { name: string; bytes: Uint8Array | Iterable<Uint8Array>; mode: number }[],
): void {
  const staging = join(dirname(folder), `.${basename(folder)}.tmp-${process.pid}`);
  try {
    if (existsSync(folder) && readdirSync(folder).length > 0 && !readdirSync(folder).includes(PACK_PATH))
      throw new Error(`it is not empty and holds no ${PACK_PATH}; choose an empty or new folder`);
    mkdirSync(staging, { recursive: true });
    for (const { name, bytes, mode } of files) writePieces(join(staging, name), bytes, mode);
    if (!existsSync(folder)) renameSync(staging, folder);
    else for (const { name } of files) renameSync(join(staging, name), join(folder, name));
  } catch (error) {
    throw new UsageError(
      `cannot write ${folder}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
