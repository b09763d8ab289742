// `speck serve [folder]`: compiles the site in memory, serves it with the preview server (the image's
// exact semantics), and on every change of the site or its config file rebuilds and swaps the pack,
// keeping the previous one when the new build fails.

import { type FSWatcher, watch } from "node:fs";
import { dirname, relative } from "node:path";
import type { Command } from "commander";
import { JOINED_PACK_LIMIT, joinPack, type PackBytes } from "../pack/write.ts";
import type { PreviewOptions } from "../preview/index.ts";
import { reportError, UsageError } from "./errors.ts";
import { addSiteOptions, type SiteFlags } from "./site-options.ts";

interface ServeFlags extends SiteFlags {
  port: string;
  host: string;
  watch: boolean;
  log: boolean;
}

/** Quiet time after the last change before a rebuild starts, so a save of many files builds once. */
const DEBOUNCE_MS = 150;

/** A path relative to the working directory when it lies inside it, else absolute. */
function shortPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside === "" ? "." : inside.startsWith("..") ? path : inside;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(`--port ${text} is not a port number (0-65535)`);
  return port;
}

async function listen(options: PreviewOptions) {
  const { startPreview } = await import("../preview/index.ts");
  try {
    return await startPreview(options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new UsageError(`port ${options.port} on ${options.host} is in use; choose another with --port`);
    if (code === "EACCES")
      throw new UsageError(`port ${options.port} needs privileges; choose one above 1023`);
    if (code === "EADDRNOTAVAIL")
      throw new UsageError(`--host ${options.host} is not an address of this machine`);
    throw error;
  }
}

/** Calls `rebuild` after changes settle; never runs two at once, and runs again if changes came meanwhile. */
function debounced(rebuild: () => Promise<void>): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    await rebuild();
    running = false;
    if (again) {
      again = false;
      void run();
    }
  };
  return () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  };
}

/** The pack in one buffer, as the preview serves it; a site too large for that runs from its image. */
function inMemory(pack: PackBytes): Uint8Array {
  if (pack.size > JOINED_PACK_LIMIT)
    throw new UsageError(
      `the site's pack takes ${pack.size} bytes; speck serve holds it in memory, up to ${JOINED_PACK_LIMIT}: preview a smaller part of the site (--exclude), or run its image (speck build)`,
    );
  return joinPack(pack);
}

export function serveCommand(cli: Command): void {
  addSiteOptions(
    cli
      .command("serve")
      .argument("[folder]", "the site folder (default: the config's root, else the current folder)")
      .description("preview a site locally with exactly the semantics of the image")
      .option("-p, --port <port>", "port to listen on (0 picks a free one)", process.env.PORT ?? "8080")
      .option("--host <address>", "address to bind", "127.0.0.1")
      .option("--no-watch", "do not rebuild when files change")
      .option("--no-log", "do not print a line per request"),
  ).action(async (folder: string | undefined, flags: ServeFlags) => {
    const port = parsePort(flags.port);
    const { buildPack, loadSiteConfig } = await import("./build-site.ts");
    const { config, file } = await loadSiteConfig(folder, flags);
    const started = Date.now();
    const first = await buildPack(config);
    const server = await listen({
      pack: inMemory(first.pack),
      host: flags.host,
      port,
      onRequest: flags.log
        ? (e) => process.stdout.write(`${e.status} ${e.method} ${e.target} ${e.bytes}\n`)
        : undefined,
    });
    const watchers: FSWatcher[] = [];
    if (flags.watch) {
      const rebuild = debounced(async () => {
        const t = Date.now();
        try {
          const { config: next } = await loadSiteConfig(folder, flags);
          const built = await buildPack(next, { quiet: true });
          server.replacePack(inMemory(built.pack));
          const { routes, compression } = built.report;
          process.stdout.write(
            `speck: rebuilt in ${Date.now() - t} ms: ${routes} routes, ${compression.compressed} variants compressed, ${compression.cached} from cache\n`,
          );
        } catch (error) {
          reportError(error);
          process.stderr.write("speck: still serving the previous build\n");
        }
      });
      watchers.push(watch(config.root, { recursive: true }, rebuild));
      if (file && relative(config.root, file).startsWith(".."))
        watchers.push(
          watch(dirname(file), (_, name) => name === file.slice(dirname(file).length + 1) && rebuild()),
        );
    }
    // Announced only once the watchers are in place, so a change made right after is never missed.
    process.stdout.write(
      `speck: serving ${shortPath(config.root)} (${first.report.routes} routes, built in ${Date.now() - started} ms) on ${server.url}\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        for (const w of watchers) w.close();
        server.close().then(resolve);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  });
}
