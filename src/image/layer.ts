// A layer: the deterministic tar of some entries, gzip-compressed. Building one streams the tar
// through gzip once to learn its digest (of the compressed bytes) and diff_id (of the tar).
// Layers up to `keepInMemory` bytes keep their compressed bytes; larger ones are compressed again
// whenever they are written, and checked against the digest of the first pass.

import { type Blob, StreamDigest, verified } from "./blob.ts";
import { GZIP_LEVEL, gzipStream } from "./gzip.ts";
import { type TarEntry, tarStream } from "./tar.ts";

export const LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";
/** Compressed layers up to this size stay in memory after they are built. */
export const KEEP_IN_MEMORY = 64 * 1024 * 1024;

/** A gzip-compressed tar layer: the blob, plus the digest and size of the uncompressed tar. */
export interface Layer extends Blob {
  readonly mediaType: string;
  readonly diffId: string;
  readonly uncompressedSize: number;
}

export interface LayerOptions {
  /** The mtime of every entry, whole seconds since 1970. */
  mtime: number;
  /** The gzip level, GZIP_LEVEL unless given. */
  level?: number;
  /** Keep the compressed bytes in memory when they are at most this size (KEEP_IN_MEMORY). */
  keepInMemory?: number;
}

/** Builds the layer of `entries`, reading their content once. */
export async function buildLayer(entries: readonly TarEntry[], options: LayerOptions): Promise<Layer> {
  const level = options.level ?? GZIP_LEVEL;
  const keepInMemory = options.keepInMemory ?? KEEP_IN_MEMORY;
  const produce = () => gzipStream(tarStream(entries, options.mtime), level);

  const tar = new StreamDigest();
  const gz = new StreamDigest();
  const kept: Uint8Array[] = [];
  let keptSize = 0;
  for await (const chunk of gz.tap(gzipStream(tar.tap(tarStream(entries, options.mtime)), level))) {
    if (keptSize + chunk.byteLength <= keepInMemory) kept.push(chunk);
    keptSize += chunk.byteLength;
  }
  const digest = gz.digest();
  const size = gz.size;
  const inMemory = keptSize <= keepInMemory ? Buffer.concat(kept) : undefined;
  return {
    mediaType: LAYER_MEDIA_TYPE,
    digest,
    size,
    diffId: tar.digest(),
    uncompressedSize: tar.size,
    open: inMemory
      ? async function* () {
          yield inMemory;
        }
      : () => verified(produce(), digest, size, `layer ${digest}`),
  };
}
