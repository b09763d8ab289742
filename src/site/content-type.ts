// Content-Type, compressibility and default caching of a file, from its name (mime-db through
// mime-types) and the fingerprint conventions of common bundlers.

import mimeDb from "mime-db";
import mime from "mime-types";

const TEXT_LIKE =
  /^(text\/|application\/(javascript|json|xml|manifest\+json|ld\+json|xhtml\+xml|rss\+xml|atom\+xml)$|image\/svg\+xml$)/;

/** The Content-Type header value; text types carry charset=utf-8. */
export function contentType(path: string): string {
  const type = mime.lookup(path) || "application/octet-stream";
  return TEXT_LIKE.test(type) ? `${type}; charset=utf-8` : type;
}

/** Whether compressing the type is worthwhile (mime-db's flag, text types, wasm, uncompressed fonts). */
export function isCompressible(type: string): boolean {
  const bare = type.split(";")[0]!.trim();
  if (TEXT_LIKE.test(bare) || bare === "application/wasm") return true;
  if (bare === "font/ttf" || bare === "font/otf" || bare === "application/vnd.ms-fontobject") return true;
  return mimeDb[bare]?.compressible === true;
}

/**
 * True for names that carry a content hash: `index-BdH3x9kA.js` (Vite, Rollup), `main.3f2a9c1b.css`
 * (webpack, CRA), `chunk.a1b2c3d4e5.js`, and anything under `_next/static/` or `_astro/`.
 */
export function isFingerprinted(path: string): boolean {
  if (
    /(^|\/)_next\/static\//.test(path) ||
    /(^|\/)_astro\//.test(path) ||
    /(^|\/)_app\/immutable\//.test(path)
  )
    return true;
  const name = path.slice(path.lastIndexOf("/") + 1);
  const match = /[.-]([A-Za-z0-9_]{8,})\.[A-Za-z0-9]+$/.exec(name);
  if (!match) return false;
  const hash = match[1]!;
  // A hash mixes digits with letters (or is long hex); plain words like "bootstrap" are not hashes.
  return /\d/.test(hash) && /[A-Za-z]/.test(hash) ? true : /^[0-9a-f]{8,}$/.test(hash) && /\d/.test(hash);
}

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "no-cache";
