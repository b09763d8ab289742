// Builds gzip (level 9) and brotli (quality 11) variants on libuv's worker threads, as many at once as
// there are CPUs, and caches them on disk by content hash so an unchanged rebuild compresses nothing.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export type Coding = "gzip" | "br";

/** Bumped whenever the compressor settings change, so stale cache entries are never reused. */
const CACHE_FORMAT = "1-gz9-br11";

/** Where compressed variants are cached: $SPECK_CACHE_DIR, else $XDG_CACHE_HOME/speck, else ~/.cache/speck. */
export function defaultCacheDir(): string {
  if (process.env.SPECK_CACHE_DIR) return process.env.SPECK_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "speck");
}

export function contentHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function compress(coding: Coding, bytes: Uint8Array, text: boolean): Promise<Uint8Array> {
  if (coding === "gzip") return gzipAsync(bytes, { level: 9 });
  return brotliAsync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_MODE]: text ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
    },
  });
}

export interface CompressionJob {
  bytes: Uint8Array;
  hash: string;
  coding: Coding;
  text: boolean;
}

export interface CompressionStats {
  compressed: number;
  cached: number;
}

/** Compresses every job (bounded parallelism), using and filling the cache; results in job order. */
export async function compressAll(
  jobs: readonly CompressionJob[],
  cacheDir: string | null,
  onDone?: (done: number, total: number) => void,
): Promise<{ results: Uint8Array[]; stats: CompressionStats }> {
  const stats: CompressionStats = { compressed: 0, cached: 0 };
  const results: Uint8Array[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index]!;
      const cachePath = cacheDir
        ? join(cacheDir, CACHE_FORMAT, job.hash.slice(0, 2), `${job.hash}.${job.coding}`)
        : null;
      if (cachePath && existsSync(cachePath)) {
        results[index] = readFileSync(cachePath);
        stats.cached++;
      } else {
        results[index] = await compress(job.coding, job.bytes, job.text);
        stats.compressed++;
        if (cachePath) {
          mkdirSync(join(cachePath, ".."), { recursive: true });
          const temporary = `${cachePath}.${process.pid}.tmp`;
          writeFileSync(temporary, results[index]!);
          renameSync(temporary, cachePath);
        }
      }
      onDone?.(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker));
  return { results, stats };
}
