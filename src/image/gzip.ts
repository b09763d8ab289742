// Deterministic gzip framing (RFC 1952) around zlib's raw deflate: our own 10-byte header with
// no time, no name and a fixed OS byte, then the deflate stream at a fixed level, then CRC-32 and
// ISIZE. The same input and the same zlib give the same bytes however the input is chunked.

import { pipeline, Readable } from "node:stream";
import { constants, crc32, createDeflateRaw, deflateRawSync } from "node:zlib";

/** The compression level of every layer: smallest output, images are built once and pulled often. */
export const GZIP_LEVEL = 9;
/** OS byte 255, "unknown": the bytes do not depend on the machine that built them (Go's choice too). */
export const GZIP_OS_UNKNOWN = 255;

/** The 10-byte gzip header: magic, deflate, no flags, mtime 0, XFL for the level, OS unknown. */
export function gzipHeader(level: number): Uint8Array {
  const xfl = level === constants.Z_BEST_COMPRESSION ? 2 : level === constants.Z_BEST_SPEED ? 4 : 0;
  return Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, GZIP_OS_UNKNOWN);
}

/** The 8-byte gzip trailer: CRC-32 then the input size modulo 2^32, both little-endian. */
export function gzipTrailer(crc: number, size: number): Uint8Array {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size % 2 ** 32, 4);
  return trailer;
}

/** Compresses a stream of chunks into a gzip member, chunk by chunk, at `level` (0 to 9). */
export async function* gzipStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  level: number = GZIP_LEVEL,
): AsyncGenerator<Uint8Array> {
  let crc = 0;
  let size = 0;
  async function* measured() {
    for await (const chunk of source) {
      crc = crc32(chunk, crc);
      size += chunk.byteLength;
      yield chunk;
    }
  }
  yield gzipHeader(level);
  const deflate = pipeline(
    Readable.from(measured(), { objectMode: false }),
    createDeflateRaw({ level }),
    () => {},
  );
  for await (const chunk of deflate) yield chunk as Buffer;
  yield gzipTrailer(crc, size);
}

/** Compresses `data` into a gzip member in one call. */
export function gzipBytes(data: Uint8Array, level: number = GZIP_LEVEL): Uint8Array {
  return Buffer.concat([
    gzipHeader(level),
    deflateRawSync(data, { level }),
    gzipTrailer(crc32(data), data.byteLength),
  ]);
}
