import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { compressAll, contentHash } from "./compress.ts";
import { type CompressionTask, compressInWorkers } from "./compress-pool.ts";

const work = mkdtempSync(join(tmpdir(), "speck-compress-"));
after(() => rmSync(work, { recursive: true, force: true }));

function reference(coding: CompressionTask["coding"], bytes: Uint8Array, text: boolean): Buffer {
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

const inputs = Array.from({ length: 13 }, (_, i) =>
  Buffer.from(`${randomBytes(8).toString("hex")} `.repeat(1 + i * 97)),
);
/** Every third task's bytes are in a file the worker reads. */
const tasks: CompressionTask[] = inputs.map((bytes, i) => {
  if (i % 3 !== 1) return { coding: i % 2 ? "gzip" : "br", text: i % 3 === 0, source: bytes };
  const file = join(work, `input-${i}`);
  writeFileSync(file, bytes);
  return {
    coding: i % 2 ? "gzip" : "br",
    text: false,
    source: { file, size: bytes.length, hash: contentHash(bytes) },
  };
});

test("compressInWorkers() gives zlib's exact bytes for every task, from bytes or files, in task order", async () => {
  const seen: number[] = [];
  const results = await compressInWorkers(tasks, (index) => seen.push(index));
  assert.equal(results.length, tasks.length);
  for (const [i, task] of tasks.entries())
    assert.deepEqual(results[i], reference(task.coding, inputs[i]!, task.text), `task ${i}`);
  for (const [i, result] of results.entries())
    assert.equal(result.buffer.byteLength, result.length, `task ${i} holds no more memory than its bytes`);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    tasks.map((_, i) => i),
    "each task reported once",
  );
  assert.deepEqual(await compressInWorkers([]), []);
});

test("compressInWorkers() refuses a file whose bytes are not the ones hashed", async () => {
  const file = join(work, "changed");
  writeFileSync(file, "after");
  const source = { file, size: 5, hash: contentHash(Buffer.from("first")) };
  await assert.rejects(
    compressInWorkers([{ coding: "gzip", text: true, source }]),
    /changed while the site was being compiled; build again/,
  );
});

test("compressAll() fills the cache, then reads it instead of compressing", async () => {
  const cacheDir = join(work, "cache");
  const jobs = tasks.map((t, i) => ({ ...t, hash: contentHash(inputs[i]!) }));
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
