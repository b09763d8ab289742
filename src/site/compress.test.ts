import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { compressAll, contentHash } from "./compress.ts";
import { type CompressionTask, compressInWorkers } from "./compress-pool.ts";

const work = mkdtempSync(join(tmpdir(), "speck-compress-"));
after(() => rmSync(work, { recursive: true, force: true }));

function reference({ coding, bytes, text }: CompressionTask): Buffer {
  return coding === "gzip"
    ? gzipSync(bytes, { level: 9 })
    : brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 11,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          [constants.BROTLI_PARAM_MODE]: text ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
        },
      });
}

const tasks: CompressionTask[] = Array.from({ length: 13 }, (_, i) => ({
  coding: i % 2 ? "gzip" : "br",
  text: i % 3 === 0,
  bytes: Buffer.from(`${randomBytes(8).toString("hex")} `.repeat(1 + i * 97)),
}));

test("compressInWorkers() gives zlib's exact bytes for every task, in task order", async () => {
  const seen: number[] = [];
  const results = await compressInWorkers(tasks, (index) => seen.push(index));
  assert.equal(results.length, tasks.length);
  for (const [i, task] of tasks.entries()) assert.deepEqual(results[i], reference(task), `task ${i}`);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    tasks.map((_, i) => i),
    "each task reported once",
  );
  assert.deepEqual(await compressInWorkers([]), []);
});

test("compressAll() fills the cache, then reads it instead of compressing", async () => {
  const cacheDir = join(work, "cache");
  const jobs = tasks.map((t) => ({ ...t, hash: contentHash(t.bytes) }));
  const first = await compressAll(jobs, cacheDir);
  assert.deepEqual(first.stats, { compressed: jobs.length, cached: 0 });
  const second = await compressAll(jobs, cacheDir);
  assert.deepEqual(second.stats, { compressed: 0, cached: jobs.length });
  assert.deepEqual(second.results, first.results);
  assert.deepEqual(
    readdirSync(cacheDir, { recursive: true }).filter((n) => String(n).endsWith(".tmp")),
    [],
    "no temporary entries left",
  );
  const none = await compressAll(jobs.slice(0, 2), null);
  assert.deepEqual(none.stats, { compressed: 2, cached: 0 });
});
