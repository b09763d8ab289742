// speck's native server as a benchmark peer: the x86-64 ELF from buildServer() written to a file, and
// the served folder compiled with `speck pack --precompressed` (so it serves the same gzip and brotli
// files the other peers do), run with one worker like every peer.

import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildServer } from "../src/native/server/index.ts";
import { TARGETS } from "../src/native/target/index.ts";
import type { Peer, PeerOptions } from "./peers.ts";

const CLI = fileURLToPath(new URL("../bin/speck.js", import.meta.url));

/** Writes speck's x86-64 server to `path` (mode 0755) and returns its size in bytes. */
export function writeSpeckServer(path: string): number {
  const elf = buildServer(TARGETS.x64).elf;
  writeFileSync(`${path}.tmp`, elf);
  chmodSync(`${path}.tmp`, 0o755);
  renameSync(`${path}.tmp`, path);
  return elf.length;
}

/** Compiles `root` into `output` with the speck CLI. */
export function packSite(root: string, output: string): void {
  execFileSync(process.execPath, [CLI, "pack", root, "-o", output, "--precompressed"], { stdio: "pipe" });
}

function gitRevision(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
    }).trim();
  } catch {
    return "unknown";
  }
}

/** speck's native server, packing each served folder once per work folder. */
export const SPECK: Peer = {
  name: "speck",
  commands: [],
  install: "",
  version: () => `${gitRevision()} (x86-64 server ${buildServer(TARGETS.x64).elf.length} bytes)`,
  command(o: PeerOptions) {
    mkdirSync(o.work, { recursive: true });
    const binary = join(o.work, "speck");
    const pack = join(o.work, "site.pack");
    if (!existsSync(binary)) writeSpeckServer(binary);
    if (!existsSync(pack)) packSite(o.root, pack);
    return ["env", `PORT=${o.port}`, "SPECK_WORKERS=1", binary, pack];
  },
};
