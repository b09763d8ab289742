// Runs the linked native server as a process for end-to-end tests: the ELF and a pack written to a
// temporary folder, started natively (x64) or under qemu-aarch64-static (a64), with its output kept.

import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildServer, type ServerOptions } from "../../src/native/server/index.ts";
import type { Target } from "../../src/native/target/types.ts";
import type { PackInput } from "../../src/pack/model.ts";
import { writePack } from "../../src/pack/write.ts";

export interface NativeServer {
  process: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** SIGTERM, then waits for the exit; removes the folder. */
  stop: () => Promise<number | string>;
}

const builds = new Map<string, Uint8Array>();
/** The server's ELF for `target` and `options`, built once per test process. */
function serverElf(target: Target, options: ServerOptions | undefined): Uint8Array {
  const key = `${target.name} ${JSON.stringify(options ?? {})}`;
  const elf = builds.get(key) ?? buildServer(target, options).elf;
  builds.set(key, elf);
  return elf;
}

/** The command that runs an ELF of `target` on this machine. */
export function runCommand(target: Target, binary: string): string[] {
  return target.name === "a64" ? ["qemu-aarch64-static", binary] : [binary];
}

export interface NativeOptions {
  /** The arguments after the binary, given the pack's path (default: the path alone). */
  args?: (pack: string) => string[];
  /** A command that runs the server, e.g. ["prlimit", "--nofile=64:20000"]. */
  wrap?: string[];
  /** How the server is built (e.g. shorter time-outs). */
  server?: ServerOptions;
}

/**
 * Starts the server of `target` over `site` (a pack's input, or its bytes) with `env` (PORT must be in it). Does not wait for the
 * port: see `waitForPort`.
 */
export function startNative(
  target: Target,
  site: PackInput | Uint8Array,
  env: Record<string, string>,
  options: NativeOptions = {},
): NativeServer {
  const work = mkdtempSync(join(tmpdir(), "speck-native-"));
  const binary = join(work, "speck");
  const pack = join(work, "site.pack");
  writeFileSync(binary, serverElf(target, options.server));
  chmodSync(binary, 0o755);
  writeFileSync(pack, site instanceof Uint8Array ? site : writePack(site));
  const [command, ...rest] = [...(options.wrap ?? []), ...runCommand(target, binary)];
  const child = spawn(command!, [...rest, ...(options.args ? options.args(pack) : [pack])], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("latin1").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  void exited.then(cleanup);
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Resolves once `host`:`port` accepts a connection (tries for up to `ms`). */
export async function waitForPort(port: number, host = "127.0.0.1", ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
