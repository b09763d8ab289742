// Content-addressed blobs: a digest, a size and a way to stream the bytes. Small blobs live in
// memory; large layers are produced again on demand from their source and checked against the
// digest recorded the first time, so a multi-gigabyte pack is never held twice.

import { createHash } from "node:crypto";
import { ImageError } from "./errors.ts";

/** A content-addressed blob: `sha256:<hex>`, its size in bytes and its bytes as a stream. */
export interface Blob {
  readonly digest: string;
  readonly size: number;
  /** Streams the bytes; each call starts from the beginning. */
  open(): AsyncIterable<Uint8Array>;
}

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A blob held in memory. */
export function memoryBlob(bytes: Uint8Array): Blob & { readonly bytes: Uint8Array } {
  return {
    digest: sha256Digest(bytes),
    size: bytes.byteLength,
    bytes,
    async *open() {
      yield bytes;
    },
  };
}

/** Running sha256 and byte count of a stream, read once it has been consumed. */
export class StreamDigest {
  private readonly hash = createHash("sha256");
  size = 0;

  /** Passes `source` through, hashing and counting every chunk. */
  async *tap(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.hash.update(chunk);
      this.size += chunk.byteLength;
      yield chunk;
    }
  }

  /** `sha256:<hex>` of everything tapped; call once, after the stream ended. */
  digest(): string {
    return `sha256:${this.hash.digest("hex")}`;
  }
}

/**
 * Streams `source`, failing at the end if its bytes do not have `digest` and `size`: the check
 * for blobs that are produced again instead of kept, and for blobs read back from disk.
 */
export async function* verified(
  source: AsyncIterable<Uint8Array>,
  digest: string,
  size: number,
  what: string,
): AsyncGenerator<Uint8Array> {
  const measure = new StreamDigest();
  yield* measure.tap(source);
  const actual = measure.digest();
  if (actual !== digest || measure.size !== size) {
    throw new ImageError(
      `${what} changed: expected ${digest} (${size} bytes), got ${actual} (${measure.size} bytes)`,
    );
  }
}

/** Collects a stream into one buffer. */
export async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}
