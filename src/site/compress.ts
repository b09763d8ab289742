// Builds the gzip and brotli variants of a site's files: cached on disk by content hash so an
// unchanged rebuild compresses nothing, and the rest compressed on worker threads (compress-pool.ts).

import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { type CompressionTask, compressInWorkers } from "./compress-pool.ts";

export type { Coding } from "./compress-pool.ts";

/** Bumped whenever the compressor settings change, so stale cache entries are never reused. */
const CACHE_FORMAT = "1-gz9-br11";

/** Where compressed variants are cached: $SPECK_CACHE_DIR, else $XDG_CACHE_HOME/speck, else ~/.cache/speck. */
export function defaultCacheDir(): string {
  if (process.env.SPECK_CACHE_DIR) return process.env.SPECK_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "speck");
}

/** SHA-256 of `bytes`, in hex: the cache key and the source of ETags. */
export function contentHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** contentHash of a file's bytes, read a piece at a time (for files too large to hold). */
export function fileContentHash(path: string): string {
  const hash = createHash("sha256");
  const piece = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, "r");
  try {
    for (let read = readSync(fd, piece); read > 0; read = readSync(fd, piece))
      hash.update(piece.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

export interface CompressionJob extends CompressionTask {
  /** contentHash of the source's bytes. */
  hash: string;
}

export interface CompressionStats {
  /** Variants computed in this build. */
  compressed: number;
  /** Variants read from the cache. */
  cached: number;
}

function readCacheEntry(path: string | null): Buffer | undefined {
  if (path === null) return undefined;
  try {
    return readFileSync(path);
  } catch {
    return undefined; // absent (or unreadable): compute it again
  }
}

function writeCacheEntry(path: string, bytes: Uint8Array): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch {
    // A read-only or full cache only costs the next build time; the build itself is unaffected.
  }
}

/** Compresses every job, using and filling the cache (null: no cache); results in job order. */
export async function compressAll(
  jobs: readonly CompressionJob[],
  cacheDir: string | null,
  onDone?: (done: number, total: number) => void,
): Promise<{ results: Uint8Array[]; stats: CompressionStats }> {
  const results: Uint8Array[] = new Array(jobs.length);
  const cachePath = (job: CompressionJob): string | null =>
    cacheDir ? join(cacheDir, CACHE_FORMAT, job.hash.slice(0, 2), `${job.hash}.${job.coding}`) : null;
  const missing: number[] = [];
  let done = 0;
  jobs.forEach((job, i) => {
    const cached = readCacheEntry(cachePath(job));
    if (cached) {
      results[i] = cached;
      onDone?.(++done, jobs.length);
    } else missing.push(i);
  });
  await compressInWorkers(
    missing.map((i) => jobs[i]!),
    (k, out) => {
      const i = missing[k]!;
      results[i] = out;
      const path = cachePath(jobs[i]!);
      if (path) writeCacheEntry(path, out);
      onDone?.(++done, jobs.length);
    },
  );
  return { results, stats: { compressed: missing.length, cached: jobs.length - missing.length } };
}
