// The site every server serves in the throughput and memory benchmarks: speck's multi-page docs
// example plus four files of the sizes the benchmarks ask for (90 B, 10 KB, 300 KB, 5 MB), with
// gzip -9 and brotli -q 11 siblings of the compressible ones so that every peer that can serve
// precompressed files does (nginx gzip_static, h2o send-compressed, Caddy precompressed, speck
// --precompressed). The bytes are generated from a fixed seed: the same on every run.

import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

/** One file the load tests request. */
export interface BenchFile {
  /** Short label for tables and charts. */
  label: string;
  /** URL path. */
  path: string;
  size: number;
  /** Whether gzip/brotli siblings exist (text types only). */
  compressible: boolean;
}

export const BENCH_FILES: readonly BenchFile[] = [
  { label: "90 B", path: "/tiny.txt", size: 90, compressible: false },
  { label: "10 KB", path: "/page.html", size: 10 * 1024, compressible: true },
  { label: "300 KB", path: "/app.js", size: 300 * 1024, compressible: true },
  { label: "5 MB", path: "/video.mp4", size: 5 * 1024 * 1024, compressible: false },
];

/** A small deterministic pseudo-random generator (xorshift32). */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

const WORDS =
  "the server answers each request from a precomputed response table with headers body and variants so it never reads a file of the site at run time while clients keep connections open and fetch pages styles scripts images".split(
    " ",
  );

/** Text of exactly `size` bytes: `open`, then random words in `line` templates, then `close`. */
function text(size: number, seed: number, open: string, line: (words: string) => string, close: string) {
  const next = random(seed);
  let out = open;
  while (out.length < size - close.length) {
    const count = 4 + Math.floor(next() * 8);
    const words = Array.from({ length: count }, () => WORDS[Math.floor(next() * WORDS.length)]!).join(" ");
    out += line(words);
  }
  return Buffer.from((out.slice(0, size - close.length) + close).slice(0, size));
}

function bytes(size: number, seed: number): Buffer {
  const next = random(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) out.writeUInt32LE(Math.floor(next() * 2 ** 32), i);
  return out;
}

function contents(file: BenchFile): Buffer {
  switch (file.path) {
    case "/tiny.txt":
      return text(file.size, 1, "", (w) => `${w}\n`, "\n");
    case "/page.html":
      return text(
        file.size,
        2,
        "<!doctype html><title>bench</title>\n",
        (w) => `<p class="x">${w}.</p>\n`,
        "\n",
      );
    case "/app.js":
      return text(file.size, 3, "", (w) => `export const ${w.split(" ")[0]}${w.length} = "${w}";\n`, "\n");
    default:
      return bytes(file.size, 4);
  }
}

/** Writes the benchmark site into `dir` (which must not exist yet) from `docsExample`. */
export function writeBenchSite(dir: string, docsExample: string): void {
  mkdirSync(dir, { recursive: true });
  cpSync(docsExample, dir, { recursive: true, filter: (source) => !source.endsWith("speck.config.json") });
  for (const file of BENCH_FILES) {
    const body = contents(file);
    const path = join(dir, file.path);
    writeFileSync(path, body);
    if (!file.compressible) continue;
    writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    );
  }
}
