// Atomic outputs: a folder or a file is written under a temporary name beside its target and
// renamed into place only when complete, so a failure leaves nothing half-written behind.

import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, readdirSync, statSync } from "node:fs";
import { chmod, mkdtemp, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileError, ImageError } from "./errors.ts";

function checkParent(target: string): string {
  const parent = dirname(target);
  let isDirectory = false;
  try {
    isDirectory = statSync(parent).isDirectory();
  } catch (error) {
    throw fileError("write", target, error);
  }
  if (!isDirectory) throw new ImageError(`cannot write ${target}: ${parent} is not a folder`);
  return parent;
}

function asImageError(action: string, path: string, error: unknown): Error {
  return error instanceof ImageError ? error : fileError(action, path, error);
}

/**
 * Fills a fresh temporary folder beside `dir` with `fill`, then renames it to `dir`. An existing
 * `dir` is replaced only when `replaceable(dir)` says so (e.g. it is an earlier output).
 */
export async function writeFolderAtomically(
  dir: string,
  replaceable: (dir: string) => boolean,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  const target = resolve(dir);
  const parent = checkParent(target);
  const exists = existsSync(target);
  if (
    exists &&
    !(statSync(target).isDirectory() && (readdirSync(target).length === 0 || replaceable(target)))
  ) {
    throw new ImageError(`${target} exists and is not an image layout; remove it or choose another --output`);
  }
  let tmp: string;
  try {
    tmp = await mkdtemp(join(parent, `.${basename(target)}.speck-`));
  } catch (error) {
    throw fileError("write", target, error);
  }
  const old = `${tmp}-old`;
  let moved = false;
  try {
    await fill(tmp);
    await chmod(tmp, 0o755);
    if (exists) {
      await rename(target, old);
      moved = true;
    }
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    if (moved) await rename(old, target);
    throw asImageError("write", target, error);
  }
  if (moved) await rm(old, { recursive: true, force: true });
}

/** Streams `chunks` to a temporary file beside `file`, then renames it to `file`. */
export async function writeFileAtomically(file: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  const target = resolve(file);
  const parent = checkParent(target);
  if (existsSync(target) && statSync(target).isDirectory()) {
    throw new ImageError(`cannot write ${target}: it is a folder; choose a file name ending in .tar`);
  }
  const tmp = join(parent, `.${basename(target)}.speck-${randomBytes(6).toString("hex")}`);
  try {
    await pipeline(Readable.from(chunks), createWriteStream(tmp, { flags: "wx", mode: 0o644 }));
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw asImageError("write", target, error);
  }
}

/** Streams `chunks` to a new file (no temporary name: the caller's folder is itself temporary). */
export async function writeFile(file: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  await pipeline(Readable.from(chunks), createWriteStream(file, { flags: "wx", mode: 0o644 }));
}
