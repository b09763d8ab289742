// The speck command line: `serve`, `pack`, and the commands of later parts. Each command is a thin
// shell over the public APIs of config, site, pack and preview.

import { Command } from "commander";
import { buildCommand } from "./build.ts";
import { reportError, UsageError } from "./errors.ts";
import { hashPasswordCommand } from "./hash-password.ts";
import { inspectCommand } from "./inspect.ts";
import { packCommand } from "./pack.ts";
import { pushCommand } from "./push.ts";
import { serveCommand } from "./serve.ts";
import { VERSION } from "./version.ts";

export function program(): Command {
  const cli = new Command("speck")
    .description("Serve a static site from the smallest, fastest container image.")
    .version(VERSION, "-v, --version")
    // commander's own error output is replaced by reportError's single line
    .configureOutput({ outputError: () => {} })
    .exitOverride((error) => {
      if (error.exitCode === 0) throw error;
      // commander puts its suggestion on a second line; keep the message to one
      const message = error.message
        .replace(/^error: /, "")
        .replace(/\s*\(Did you mean (.+)\?\)/, "; did you mean $1?");
      throw new UsageError(`${message} (see speck --help)`);
    });
  cli.addHelpText(
    "after",
    `
Examples:
  speck serve ./dist                        preview on http://127.0.0.1:8080 with the image's exact behaviour
  speck serve ./dist --spa index.html       single-page app: unknown page paths get index.html
  speck serve ./site --clean-urls -p 3000   /about serves about.html, on another port
  speck build ./dist -o site.tar            image for docker load (docker run -p 8080:8080 speck-site)
  speck build ./dist -o site-oci            multi-arch OCI layout (amd64 and arm64)
  speck build . --push -t ghcr.io/acme/site  build amd64 and arm64 and push them to a registry
  speck push site-oci ghcr.io/acme/site:1   push a layout or tarball with docker's credentials
  speck pack ./dist -o site.pack            write the compiled pack only
  speck pack ./dist -o image/               pack, server and a Dockerfile FROM scratch for docker build
  speck inspect --server                    the native server's bytes per function

Configuration: speck.config.json or .ts in the site folder, its parent or here (docs/config.md).`,
  );
  serveCommand(cli);
  buildCommand(cli);
  packCommand(cli);
  pushCommand(cli);
  hashPasswordCommand(cli);
  inspectCommand(cli);
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (error) {
    if (
      (error as { code?: string }).code === "commander.helpDisplayed" ||
      (error as { code?: string }).code === "commander.version"
    )
      return 0;
    return reportError(error);
  }
}
