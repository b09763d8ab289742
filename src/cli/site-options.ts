// Command-line options that mirror speck.config keys, shared by every command that builds a site.

import { type Command, Option } from "commander";
import type { SpeckConfigInput } from "../config/schema.ts";

export interface SiteFlags {
  config?: string;
  spa?: string;
  notFound?: string;
  cleanUrls?: boolean;
  trailingSlash?: "auto" | "always" | "never";
  etag?: boolean;
  lastModified?: boolean;
  compress?: boolean;
}

export function addSiteOptions(command: Command): Command {
  return command
    .option(
      "-c, --config <file>",
      "configuration file (default: speck.config.* in the site folder or the current folder)",
    )
    .option("--spa <file>", "serve this file with 200 for unknown paths that look like pages")
    .option("--not-found <file>", "serve this page with 404")
    .option("--clean-urls", "serve /about from about.html and redirect /about.html to /about")
    .addOption(
      new Option("--trailing-slash <mode>", "canonical trailing slashes").choices([
        "auto",
        "always",
        "never",
      ]),
    )
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
    etag: flags.etag === false ? false : undefined,
    lastModified: flags.lastModified === false ? false : undefined,
    compression: flags.compress === false ? { encodings: [] } : undefined,
  };
}
