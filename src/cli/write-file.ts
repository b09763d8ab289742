// Writes a file through a temporary name in the same folder, renamed when complete, so a failure
// leaves nothing half-written; errors name the path.

import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { fileError } from "../image/errors.ts";

/** Writes `content` (bytes, or pieces produced as they are written) to `path`, with `mode`. */
export function writePieces(path: string, content: Uint8Array | Iterable<Uint8Array>, mode = 0o644): void {
  const fd = openSync(path, "w", mode);
  try {
    for (const piece of content instanceof Uint8Array ? [content] : content) {
      let written = 0;
      while (written < piece.length) written += writeSync(fd, piece, written, piece.length - written);
    }
  } finally {
    closeSync(fd);
  }
}

export function writeFileAtomic(path: string, content: Uint8Array | Iterable<Uint8Array>): void {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writePieces(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw fileError("write", path, error);
  }
}
