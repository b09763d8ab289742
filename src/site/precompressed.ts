// Precompressed siblings, as nginx's gzip_static and Caddy's `precompressed` use them: with the
// `precompressed` option, `a.js.gz` and `a.js.br` next to `a.js` become a.js's variants (checked to
// decompress to a.js) instead of being compressed again, and are not served as files themselves.

import { readFileSync } from "node:fs";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { Coding } from "./compress.ts";
import { SiteError } from "./errors.ts";
import type { SiteFile } from "./scan.ts";

const SUFFIX: Record<Coding, string> = { gzip: ".gz", br: ".br" };

/** The files to serve, and for each of them (by index) the sibling files holding its variants. */
export function splitPrecompressed(scanned: readonly SiteFile[]): {
  files: SiteFile[];
  siblings: Map<number, Partial<Record<Coding, SiteFile>>>;
} {
  const byName = new Map(scanned.map((f) => [f.relative, f]));
  const consumed = new Set<string>();
  for (const f of scanned)
    for (const suffix of Object.values(SUFFIX))
      if (byName.has(f.relative + suffix)) consumed.add(f.relative + suffix);
  const files = scanned.filter((f) => !consumed.has(f.relative));
  const siblings = new Map<number, Partial<Record<Coding, SiteFile>>>();
  files.forEach((f, i) => {
    const found: Partial<Record<Coding, SiteFile>> = {};
    for (const coding of Object.keys(SUFFIX) as Coding[]) {
      const sibling = byName.get(f.relative + SUFFIX[coding]);
      if (sibling) found[coding] = sibling;
    }
    if (Object.keys(found).length > 0) siblings.set(i, found);
  });
  return { files, siblings };
}

/** Reads a sibling and checks that it decompresses to `original`. */
export function readSibling(sibling: SiteFile, coding: Coding, original: Uint8Array, of: string): Buffer {
  const bytes = readFileSync(sibling.absolute);
  let decoded: Buffer;
  try {
    decoded = coding === "gzip" ? gunzipSync(bytes) : brotliDecompressSync(bytes);
  } catch {
    throw new SiteError(
      `${sibling.relative} is not ${coding === "gzip" ? "gzip" : "brotli"} data (precompressed)`,
    );
  }
  if (!decoded.equals(original))
    throw new SiteError(
      `${sibling.relative} does not decompress to ${of}; rebuild it or remove it (precompressed)`,
    );
  return bytes;
}
