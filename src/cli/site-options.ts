// Command-line options that mirror speck.config keys, shared by every command that builds a site.
// A flag that is given wins over the config file; one that is not leaves the file's value.

import { type Command, Option } from "commander";
import type { SpeckConfigInput } from "../config/schema.ts";

export interface SiteFlags {
  config?: string;
  spa?: string;
  notFound?: string;
  cleanUrls?: boolean;
  trailingSlash?: "auto" | "always" | "never";
  index?: string;
  exclude?: string[];
  precompressed?: boolean;
  etag?: boolean;
  lastModified?: boolean;
  compress?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds the site flags to `command`. */
export function addSiteOptions(command: Command): Command {
  return command
    .option(
      "-c, --config <file>",
      "configuration file (default: speck.config.* in the site folder, its parent or the current folder)",
    )
    .option("--spa <file>", "serve this file with 200 for unknown paths that look like pages")
    .option("--not-found <file>", "serve this page with 404 (default: 404.html when present)")
    .option("--clean-urls", "serve /about from about.html and redirect /about.html to /about")
    .addOption(
      new Option("--trailing-slash <mode>", "canonical trailing slashes").choices([
        "auto",
        "always",
        "never",
      ]),
    )
    .option("--index <names>", "directory index file names, comma-separated (default: index.html)")
    .option("--exclude <glob>", "leave out files matching this glob (repeatable)", collect)
    .option("--precompressed", "use a.js.gz and a.js.br next to a.js as its variants")
    .option("--no-etag", "do not send ETags")
    .option("--no-last-modified", "do not send Last-Modified")
    .option("--no-compress", "build no gzip or brotli variants");
}

/** The config keys the flags set; undefined where the flag was not given. */
export function overridesFrom(flags: SiteFlags): SpeckConfigInput {
  return {
    spa: flags.spa,
    notFound: flags.notFound,
    cleanUrls: flags.cleanUrls,
    trailingSlash: flags.trailingSlash,
    index: flags.index === undefined ? undefined : flags.index.split(",").map((name) => name.trim()),
    exclude: flags.exclude,
    precompressed: flags.precompressed,
    etag: flags.etag === false ? false : undefined,
    lastModified: flags.lastModified === false ? false : undefined,
    compression: flags.compress === false ? { encodings: [] } : undefined,
  };
}

/** `--no-squeeze` of build and pack; the squeezed server names the flag when a W^X policy stops it. */
export const NO_SQUEEZE_HELP =
  "ship the server as linked (9-11 KiB), for hosts whose W^X policy (systemd's MemoryDenyWriteExecute) stops the squeezed one";
