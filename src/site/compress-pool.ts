// A pool of worker threads, one per available CPU, that run gzip (level 9) and brotli (quality 11)
// on byte arrays or on files they read themselves. zlib's async functions would share libuv's small thread pool (4 threads by
// default) with file I/O; dedicated workers use every core and nothing else.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

export type Coding = "gzip" | "br";

/** What a task compresses: bytes, or a file the worker reads and checks against its SHA-256 (hex). */
export type CompressionSource =
  | Uint8Array
  | { readonly file: string; readonly size: number; readonly hash: string };

export interface CompressionTask {
  coding: Coding;
  source: CompressionSource;
  /** UTF-8 text: brotli's text mode. */
  text: boolean;
}

// The worker is plain JavaScript evaluated from this string, so it runs the same under tsx, from
// dist/ and from a bundle, without resolving a second entry file.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { readFileSync } = require("node:fs");
const zlib = require("node:zlib");
const { constants } = zlib;
parentPort.on("message", ({ id, coding, text, bytes, file, hash }) => {
  try {
    if (file !== undefined) {
      bytes = readFileSync(file);
      if (createHash("sha256").update(bytes).digest("hex") !== hash)
        throw new Error(file + " changed while the site was being compiled; build again");
    }
    const out =
      coding === "gzip"
        ? zlib.gzipSync(bytes, { level: 9 })
        : zlib.brotliCompressSync(bytes, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 11,
              [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
              [constants.BROTLI_PARAM_MODE]: text ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
            },
          });
    // zlib's result is a view of a 16 KiB buffer, which postMessage would copy whole and the
    // variant would keep: send an exact copy, moved rather than copied
    const exact = new Uint8Array(out);
    parentPort.postMessage({ id, out: exact }, [exact.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message) });
  }
});
`;

interface Reply {
  id: number;
  out?: Uint8Array;
  error?: string;
}

/**
 * Compresses every task on up to `availableParallelism()` worker threads, largest first so the
 * longest brotli runs start early; resolves with the results (Buffers) in task order. `onDone` is called
 * after each task.
 */
export async function compressInWorkers(
  tasks: readonly CompressionTask[],
  onDone?: (index: number, result: Uint8Array) => void,
): Promise<Uint8Array[]> {
  const results: Uint8Array[] = new Array(tasks.length);
  if (tasks.length === 0) return results;
  const size = (i: number) => {
    const source = tasks[i]!.source;
    return source instanceof Uint8Array ? source.length : source.size;
  };
  const order = tasks.map((_, i) => i).sort((a, b) => size(b) - size(a) || a - b);
  const count = Math.max(1, Math.min(availableParallelism(), tasks.length));
  const workers = Array.from({ length: count }, () => new Worker(WORKER_SOURCE, { eval: true }));
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              if (next >= order.length) {
                resolve();
                return;
              }
              const id = order[next++]!;
              const { coding, text, source } = tasks[id]!;
              worker.postMessage(
                source instanceof Uint8Array
                  ? { id, coding, text, bytes: source }
                  : { id, coding, text, file: source.file, hash: source.hash },
              );
            };
            worker.on("message", (reply: Reply) => {
              if (reply.error !== undefined) {
                reject(new Error(`compression failed: ${reply.error}`));
                return;
              }
              // a Buffer, like the file contents and cache entries it sits beside
              const out = Buffer.from(reply.out!.buffer, reply.out!.byteOffset, reply.out!.byteLength);
              results[reply.id] = out;
              onDone?.(reply.id, out);
              feed();
            });
            worker.on("error", reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
