// A small tar reader: lists the entries of a tar in memory or in a file with the offset of each
// one's content, so a layout inside a tarball can be read without unpacking it. It understands
// ustar, PAX `path`/`size` records and GNU long names, which covers what docker, podman and
// skopeo write.

import { closeSync, openSync, readSync } from "node:fs";
import { ImageError } from "./errors.ts";
import { BLOCK_SIZE } from "./tar.ts";

/** One entry of a tar as stored: its header fields and where its content starts. */
export interface TarListing {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  size: number;
  offset: number;
}

type ReadAt = (offset: number, length: number) => Uint8Array;

const decoder = new TextDecoder();

function text(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return decoder.decode(end === -1 ? field : field.subarray(0, end));
}

function octal(block: Uint8Array, offset: number, length: number, where: string): number {
  if (block[offset]! & 0x80) {
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const digits = text(block, offset, length).trim();
  if (!/^[0-7]*$/.test(digits)) throw new ImageError(`corrupt tar header at byte ${where}`);
  return digits === "" ? 0 : Number.parseInt(digits, 8);
}

function parsePax(bytes: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < bytes.byteLength) {
    const space = bytes.indexOf(0x20, at);
    const length = Number(decoder.decode(bytes.subarray(at, space)));
    if (space === -1 || !Number.isInteger(length) || length <= 0) break;
    const record = decoder.decode(bytes.subarray(space + 1, at + length - 1));
    const equals = record.indexOf("=");
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

function list(readAt: ReadAt, total: number): TarListing[] {
  const entries: TarListing[] = [];
  let offset = 0;
  let longName: string | undefined;
  let pax = new Map<string, string>();
  while (offset + BLOCK_SIZE <= total) {
    const block = readAt(offset, BLOCK_SIZE);
    if (block.every((b) => b === 0)) break;
    const where = String(offset);
    let size = octal(block, 124, 12, where);
    const type = text(block, 156, 1) || "0";
    const contentAt = offset + BLOCK_SIZE;
    if (pax.has("size")) size = Number(pax.get("size"));
    const next = contentAt + Math.ceil(size / BLOCK_SIZE) * BLOCK_SIZE;
    if (type === "x") {
      pax = parsePax(readAt(contentAt, size));
    } else if (type === "L") {
      longName = text(readAt(contentAt, size), 0, size);
    } else if (type !== "g") {
      const prefix = text(block, 345, 155);
      const shortName = text(block, 0, 100);
      entries.push({
        name: pax.get("path") ?? longName ?? (prefix ? `${prefix}/${shortName}` : shortName),
        type,
        mode: octal(block, 100, 8, where),
        uid: octal(block, 108, 8, where),
        gid: octal(block, 116, 8, where),
        uname: text(block, 265, 32),
        gname: text(block, 297, 32),
        mtime: octal(block, 136, 12, where),
        size,
        offset: contentAt,
      });
      pax = new Map();
      longName = undefined;
    }
    offset = next;
  }
  return entries;
}

/** Lists the entries of a tar held in memory. */
export function listTar(bytes: Uint8Array): TarListing[] {
  return list((offset, length) => bytes.subarray(offset, offset + length), bytes.byteLength);
}

/** Lists the entries of a tar file, reading only its headers. */
export function listTarFile(path: string, fileSize: number): TarListing[] {
  const fd = openSync(path, "r");
  try {
    return list((offset, length) => {
      const buffer = new Uint8Array(length);
      const read = readSync(fd, buffer, 0, length, offset);
      if (read !== length) throw new ImageError(`${path} is truncated at byte ${offset + read}`);
      return buffer;
    }, fileSize);
  } finally {
    closeSync(fd);
  }
}
