// A deterministic tar writer. Entries are sorted bytewise by path, parent directories are added
// explicitly, owners are uid/gid 0 with empty names, modes are fixed and every mtime is the one
// the caller gives. Headers are ustar; a PAX extended header carries names over 100 bytes or with
// non-ASCII characters, and sizes from 8 GiB up. Content streams from memory or from a file, so
// a multi-gigabyte pack never needs a second copy in memory.

import { createReadStream, statSync } from "node:fs";
import { fileError, ImageError } from "./errors.ts";

export const BLOCK_SIZE = 512;
export const DIRECTORY_MODE = 0o755;
export const FILE_MODE = 0o644;
export const EXECUTABLE_MODE = 0o555;
/** The largest value an 11-digit octal ustar field holds (8 GiB - 1). */
export const USTAR_MAX_NUMBER = 0o77777777777;

/**
 * Where a file's bytes come from: memory (one buffer or a list of chunks), a file on disk, or a
 * stream of known size (a blob).
 */
export type TarContent =
  | Uint8Array
  | readonly Uint8Array[]
  | { readonly file: string }
  | { readonly size: number; open(): AsyncIterable<Uint8Array> };

/** One entry of a tar: a directory, or a regular file with its content. */
export type TarEntry =
  | { readonly type: "directory"; readonly path: string; readonly mode?: number }
  | { readonly type: "file"; readonly path: string; readonly mode?: number; readonly content: TarContent };

/** An entry after normalisation: its stored name, mode and size are final. */
interface PlannedEntry {
  readonly name: string;
  readonly type: "directory" | "file";
  readonly mode: number;
  readonly size: number;
  readonly content?: TarContent;
}

const encoder = new TextEncoder();

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Checks and normalises a path: relative, '/'-separated, no '.', '..' or empty components. */
function normalisePath(path: string): string {
  const trimmed = path.replace(/^\/+/, "").replace(/\/+$/, "");
  const parts = trimmed.split("/");
  if (trimmed === "" || parts.some((p) => p === "" || p === "." || p === "..") || path.includes("\0")) {
    throw new ImageError(`invalid tar path "${path}": use a relative path without '.', '..' or '//'`);
  }
  return trimmed;
}

/** The byte length of `content`, without reading it. */
export function contentSize(content: TarContent): number {
  if (content instanceof Uint8Array) return content.byteLength;
  if ("file" in content) {
    try {
      return statSync(content.file).size;
    } catch (error) {
      throw fileError("read", content.file, error);
    }
  }
  if ("open" in content) return content.size;
  return content.reduce((sum, chunk) => sum + chunk.byteLength, 0);
}

/** Normalises, completes (parent directories) and sorts the entries; the order of the tar. */
export function planTar(entries: readonly TarEntry[]): PlannedEntry[] {
  const byName = new Map<string, PlannedEntry>();
  const add = (entry: PlannedEntry, path: string) => {
    if (byName.has(entry.name)) throw new ImageError(`duplicate tar path "${path}"`);
    byName.set(entry.name, entry);
  };
  for (const entry of entries) {
    const path = normalisePath(entry.path);
    if (entry.type === "directory") {
      add({ name: `${path}/`, type: "directory", mode: entry.mode ?? DIRECTORY_MODE, size: 0 }, entry.path);
    } else {
      const size = contentSize(entry.content);
      add(
        { name: path, type: "file", mode: entry.mode ?? FILE_MODE, size, content: entry.content },
        entry.path,
      );
    }
  }
  for (const name of [...byName.keys()]) {
    const parts = name.replace(/\/$/, "").split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = `${parts.slice(0, i).join("/")}/`;
      if (byName.get(parent.slice(0, -1)))
        throw new ImageError(`tar path "${parent}" is both a file and a directory`);
      if (!byName.has(parent))
        byName.set(parent, { name: parent, type: "directory", mode: DIRECTORY_MODE, size: 0 });
    }
  }
  return [...byName.values()].sort((a, b) => compareBytes(a.name, b.name));
}

function writeString(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.byteLength > length) throw new Error(`tar field overflow: "${text}" in ${length} bytes`);
  block.set(bytes, offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

function isPortableName(name: string): boolean {
  return name.length <= 100 && /^[\x20-\x7e]*$/.test(name);
}

/** An ASCII name of at most `limit` bytes standing in for `name` in the ustar field. */
function fallbackName(name: string, limit: number): string {
  return name.replace(/[^\x20-\x7e]/g, "_").slice(0, limit);
}

/** Encodes one 512-byte ustar header. */
export function ustarHeader(
  name: string,
  type: "0" | "5" | "x",
  mode: number,
  size: number,
  mtime: number,
): Uint8Array {
  const block = new Uint8Array(BLOCK_SIZE);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, mtime);
  block.fill(0x20, 148, 156);
  writeString(block, 156, 1, type);
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** One PAX record, `"<length> <key>=<value>\n"`, where the length counts itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).byteLength;
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
  return `${length}${body}`;
}

function padding(size: number): Uint8Array {
  const rest = size % BLOCK_SIZE;
  return new Uint8Array(rest === 0 ? 0 : BLOCK_SIZE - rest);
}

/** The header blocks of one entry: a PAX header first when the name or size needs one. */
export function entryHeader(
  entry: Pick<PlannedEntry, "name" | "type" | "mode" | "size">,
  mtime: number,
): Uint8Array {
  const records: string[] = [];
  if (!isPortableName(entry.name)) records.push(paxRecord("path", entry.name));
  if (entry.size > USTAR_MAX_NUMBER) records.push(paxRecord("size", String(entry.size)));
  const type = entry.type === "directory" ? "5" : "0";
  const main = ustarHeader(
    isPortableName(entry.name) ? entry.name : fallbackName(entry.name, 100),
    type,
    entry.mode,
    entry.size > USTAR_MAX_NUMBER ? 0 : entry.size,
    mtime,
  );
  if (records.length === 0) return main;
  const pax = encoder.encode(records.join(""));
  const paxName = fallbackName(`PaxHeaders/${entry.name.replace(/\/$/, "")}`, 100);
  return Buffer.concat([
    ustarHeader(paxName, "x", FILE_MODE, pax.byteLength, mtime),
    pax,
    padding(pax.byteLength),
    main,
  ]);
}

function checkMtime(mtime: number): void {
  if (!Number.isInteger(mtime) || mtime < 0 || mtime > USTAR_MAX_NUMBER) {
    throw new ImageError(`invalid tar mtime ${mtime}: use whole seconds since 1970 (SOURCE_DATE_EPOCH)`);
  }
}

async function* contentChunks(content: TarContent, size: number): AsyncGenerator<Uint8Array> {
  if (content instanceof Uint8Array) {
    yield content;
    return;
  }
  if ("open" in content) {
    let read = 0;
    for await (const chunk of content.open()) {
      read += chunk.byteLength;
      if (read > size) break;
      yield chunk;
    }
    if (read !== size) throw new ImageError(`a stream of ${read} bytes was announced as ${size} bytes`);
    return;
  }
  if (!("file" in content)) {
    yield* content;
    return;
  }
  let read = 0;
  try {
    for await (const chunk of createReadStream(content.file, { highWaterMark: 1 << 20 })) {
      read += (chunk as Buffer).byteLength;
      if (read > size) break;
      yield chunk as Buffer;
    }
  } catch (error) {
    throw fileError("read", content.file, error);
  }
  if (read !== size) throw new ImageError(`${content.file} changed while it was being archived; build again`);
}

/**
 * Streams the tar of `entries` as chunks: headers, content, padding and the two zero blocks at
 * the end. `mtime` (whole seconds since 1970) is stamped on every entry.
 */
export async function* tarStream(entries: readonly TarEntry[], mtime: number): AsyncGenerator<Uint8Array> {
  checkMtime(mtime);
  for (const entry of planTar(entries)) {
    yield entryHeader(entry, mtime);
    if (entry.content && entry.size > 0) {
      yield* contentChunks(entry.content, entry.size);
      const pad = padding(entry.size);
      if (pad.byteLength > 0) yield pad;
    }
  }
  yield new Uint8Array(2 * BLOCK_SIZE);
}

/** The exact byte length of `tarStream(entries, mtime)`, computed without reading any content. */
export function tarSize(entries: readonly TarEntry[]): number {
  let size = 2 * BLOCK_SIZE;
  for (const entry of planTar(entries)) {
    size += entryHeader(entry, 0).byteLength + entry.size + padding(entry.size).byteLength;
  }
  return size;
}
