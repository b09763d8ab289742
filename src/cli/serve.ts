// `speck serve [folder]`: compiles the site in memory, serves it with the preview server (the image's
// exact semantics), and rebuilds and swaps the pack when files change, keeping the old one on errors.

import { watch } from "node:fs";
import type { Command } from "commander";
import { startPreview } from "../preview/index.ts";
import { buildPack, loadSiteConfig } from "./build-site.ts";
import { reportError, UsageError } from "./errors.ts";
import { addSiteOptions, type SiteFlags } from "./site-options.ts";

interface ServeFlags extends SiteFlags {
  port: string;
  host: string;
  watch: boolean;
  log: boolean;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 0 || port > 65535)
    throw new UsageError(`--port ${text} is not a port number (0-65535)`);
  return port;
}

export function serveCommand(cli: Command): void {
  addSiteOptions(
    cli
      .command("serve")
      .argument("[folder]", "the site folder (default: the config's root, else the current folder)")
      .description("preview a site locally with exactly the semantics of the image")
      .option("-p, --port <port>", "port to listen on", process.env.PORT ?? "8080")
      .option("--host <address>", "address to bind", "127.0.0.1")
      .option("--no-watch", "do not rebuild when files change")
      .option("--no-log", "do not print a line per request"),
  ).action(async (folder: string | undefined, flags: ServeFlags) => {
    const port = parsePort(flags.port);
    const { config } = await loadSiteConfig(folder, flags);
    const started = Date.now();
    const first = await buildPack(config);
    const server = await startPreview({
      pack: first.pack,
      host: flags.host,
      port,
      onRequest: flags.log
        ? (e) => process.stdout.write(`${e.status} ${e.method} ${e.target} ${e.bytes}\n`)
        : undefined,
    });
    process.stdout.write(
      `speck: serving ${config.root} (${first.report.routes} routes, built in ${Date.now() - started} ms) on ${server.url}\n`,
    );
    if (flags.watch) {
      let timer: NodeJS.Timeout | undefined;
      let running = Promise.resolve();
      watch(config.root, { recursive: true }, () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          running = running.then(async () => {
            const t = Date.now();
            try {
              const next = await buildPack(config, true);
              server.replacePack(next.pack);
              process.stdout.write(`speck: rebuilt ${next.report.routes} routes in ${Date.now() - t} ms\n`);
            } catch (error) {
              reportError(error);
              process.stdout.write("speck: still serving the previous build\n");
            }
          });
        }, 100);
      });
    }
    await new Promise<void>((resolve) => {
      const stop = () => {
        server.close().then(resolve);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    process.exit(0);
  });
}
