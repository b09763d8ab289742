// `speck build [folder] --output DIR|FILE.tar`: compiles the site, generates the server for each
// platform and writes the image as an OCI layout folder or a tarball for `docker load`/`podman load`.

import { extname, resolve } from "node:path";
import type { Command } from "commander";
import {
  buildImage,
  gitMetadata,
  parsePlatforms,
  readLayout,
  resolveCreated,
  writeDockerArchive,
  writeLayout,
} from "../image/index.ts";
import { packPieces } from "../pack/write.ts";
import { UsageError } from "./errors.ts";
import { addPushOptions, type PushFlags, pushFromFlags, pushLines } from "./push.ts";
import { formatBytes } from "./push-progress.ts";
import { addSiteOptions, NO_SQUEEZE_HELP, type SiteFlags } from "./site-options.ts";

interface BuildFlags extends SiteFlags, PushFlags {
  output?: string;
  push?: boolean;
  squeeze: boolean;
  tag?: string;
  platform?: string;
  json?: boolean;
  source?: string;
  revision?: string;
  imageVersion?: string;
  title?: string;
}

const HOST_PLATFORM = process.arch === "arm64" ? "linux/arm64" : "linux/amd64";

/** Bytes under 10,000 exactly, larger sizes in KiB, MiB or GiB. */
const kib = (n: number) => (n < 10_000 ? `${n} B` : formatBytes(n));
/** Sizes the way `docker images` prints them: three significant digits, decimal units. */
const dockerSize = (n: number) => {
  const [value, unit] =
    n < 1000 ? [n, "B"] : n < 1e6 ? [n / 1e3, "kB"] : n < 1e9 ? [n / 1e6, "MB"] : [n / 1e9, "GB"];
  return `${unit === "B" ? value : Number(value.toPrecision(3))}${unit}`;
};

export function buildCommand(cli: Command): void {
  const command = addSiteOptions(
    cli
      .command("build")
      .argument("[folder]", "the site folder (default: the config's root, else the current folder)")
      .description("build the container image of a site, without Docker")
      .option("-o, --output <path>", "an OCI layout folder, or FILE.tar for docker load / podman load")
      .option("-t, --tag <ref>", "image name, e.g. ghcr.io/acme/site:1.4 (default: speck-site:latest)")
      .option(
        "--platform <list>",
        "linux/amd64,linux/arm64 (default: both for a folder, this machine's for a .tar)",
      )
      .option("--json", "print the summary as JSON")
      .option("--source <url>", "org.opencontainers.image.source (default: the git remote)")
      .option("--revision <sha>", "org.opencontainers.image.revision (default: git HEAD)")
      .option("--image-version <version>", "org.opencontainers.image.version")
      .option("--title <title>", "org.opencontainers.image.title")
      .option("--push", "push the image to the registry --tag names (with or without --output)")
      .option("--no-squeeze", NO_SQUEEZE_HELP),
  );
  addPushOptions(command).action(async (folder: string | undefined, flags: BuildFlags) => {
    if (!flags.output && !flags.push)
      throw new UsageError(
        "speck build needs --output DIR (OCI layout), --output FILE.tar, or --push --tag REGISTRY/NAME:TAG",
      );
    if (flags.push && !flags.tag)
      throw new UsageError("--push needs --tag naming the registry, e.g. --tag ghcr.io/acme/site:1.4");
    const output = flags.output ? resolve(flags.output) : undefined;
    const tarball = output !== undefined && extname(output) === ".tar";
    const platforms = parsePlatforms(flags.platform ?? (tarball ? HOST_PLATFORM : "linux/amd64,linux/arm64"));
    if (tarball && platforms.length > 1)
      throw new UsageError(
        "a .tar holds one platform for docker load; give one --platform or write a folder",
      );
    const tag = flags.tag ?? "speck-site:latest";
    const { buildPack, loadSiteConfig, serverFor } = await import("./build-site.ts");
    const { config } = await loadSiteConfig(folder, flags);
    const started = Date.now();
    const { pack, report } = await buildPack(config, {
      quiet: Boolean(flags.json),
      outputs: output ? [output] : [],
    });
    const servers = platforms.map((platform) => ({
      platform,
      server: serverFor(platform, pack, flags.squeeze),
    }));
    const git = gitMetadata(config.root);
    const image = await buildImage({
      platforms: servers,
      pack: {
        size: pack.size,
        open: async function* () {
          yield* packPieces(pack);
        },
      },
      created: resolveCreated(config.root),
      tag,
      metadata: {
        ...git,
        ...(flags.source ? { source: flags.source } : {}),
        ...(flags.revision ? { revision: flags.revision } : {}),
        ...(flags.imageVersion ? { version: flags.imageVersion } : {}),
        ...(flags.title ? { title: flags.title } : {}),
      },
    });
    if (output && tarball) await writeDockerArchive(image, output, platforms[0]);
    else if (output) await writeLayout(image, output);
    // a written layout's blobs are read back rather than compressed again
    const pushed = flags.push
      ? await pushFromFlags(output && !tarball ? readLayout(output) : image, tag, flags, Boolean(flags.json))
      : undefined;
    const stats = pack.stats;
    const summary = {
      output,
      tag,
      digest: image.summary.digest,
      platforms: image.summary.platforms.map((p) => ({
        platform: p.platform,
        imageSize: p.imageSize,
        /** What `docker images` shows: the files' bytes, unpacked. */
        unpackedSize: p.serverBytes + pack.size,
        serverBytes: p.serverBytes,
      })),
      pack: {
        bytes: pack.size,
        routes: report.routes,
        headers: stats.headers,
        identity: stats.identity,
        gzip: stats.gzip,
        br: stats.br,
        index: stats.index,
      },
      largest: stats.largest,
      milliseconds: Date.now() - started,
      ...(pushed ? { push: pushed } : {}),
    };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    const lines = [
      `speck: built ${tag} in ${summary.milliseconds} ms → ${flags.output ?? "the registry"}`,
      `  digest   ${summary.digest}`,
      ...summary.platforms.map(
        (p) =>
          `  ${p.platform.padEnd(14)} image ${kib(p.imageSize)} compressed, ${dockerSize(p.unpackedSize)} unpacked (docker images), server ${kib(p.serverBytes)}`,
      ),
      `  pack     ${kib(pack.size)}: ${report.routes} routes; heads ${kib(stats.headers)}, bodies ${kib(stats.identity)}, gzip ${kib(stats.gzip)}, brotli ${kib(stats.br)}, index ${kib(stats.index)}`,
      `  largest  ${stats.largest.map((l) => `${l.path} (${kib(l.bytes)})`).join(", ")}`,
      ...(pushed ? pushLines(pushed) : []),
      "",
      pushed
        ? `next: docker run --rm -p 8080:8080 ${tag}`
        : tarball
          ? `next: docker load -i ${flags.output} && docker run --rm -p 8080:8080 ${tag}`
          : `next: skopeo copy oci:${flags.output} docker://REGISTRY/NAME:TAG, or build a .tar for docker load`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  });
}
