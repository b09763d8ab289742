// Content-Type, compressibility and default caching of a file, from its name (mime-db through
// mime-types) and the fingerprint conventions of common bundlers.

import mimeDb from "mime-db";
import mime from "mime-types";

/** Types whose bodies are text: text/*, JavaScript, JSON, XML and their +json/+xml kin, SVG. */
const TEXT_LIKE =
  /^(text\/.+|application\/(javascript|ecmascript|json|xml|[\w.+-]+\+(json|xml))|image\/svg\+xml)$/;

/**
 * The Content-Type header value for a file name: `overrides` by extension (without the dot), else
 * mime-db, else application/octet-stream; text types without a charset get charset=utf-8.
 */
export function contentType(path: string, overrides: Readonly<Record<string, string>> = {}): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const extension = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : "";
  const override = Object.entries(overrides).find(([key]) => key.toLowerCase() === extension.toLowerCase());
  const type = override?.[1] ?? (mime.lookup(name) || "application/octet-stream");
  return TEXT_LIKE.test(type.split(";")[0]!.trim()) && !/;\s*charset=/i.test(type)
    ? `${type}; charset=utf-8`
    : type;
}

/** Whether compressing the type is worthwhile (mime-db's flag, text types, wasm, uncompressed fonts). */
export function isCompressible(type: string): boolean {
  const bare = type.split(";")[0]!.trim();
  if (bare === "application/octet-stream") return false; // unknown bytes: most likely compressed already
  if (TEXT_LIKE.test(bare) || bare === "application/wasm") return true;
  if (bare === "font/ttf" || bare === "font/otf" || bare === "application/vnd.ms-fontobject") return true;
  return mimeDb[bare]?.compressible === true;
}

/** Folders whose files are all content-addressed: Next.js, Astro, SvelteKit. */
const IMMUTABLE_FOLDERS = /(^|\/)(_next\/static|_astro|_app\/immutable)\//;

/** Whether `token` looks like a bundler's content hash rather than a word or a number. */
function isHash(token: string): boolean {
  const digits = /\d/.test(token);
  if (/^[0-9a-f]+$/.test(token)) return digits && /[a-f]/.test(token); // webpack, CRA, Parcel: hex
  if (token.length !== 8) return false;
  // Vite/Rollup (base64url) and esbuild (base32) use 8 characters; without a digit, demand a mix
  // of cases no word has ("BdHxykAq", not "HomePage")
  const upper = token.replace(/[^A-Z]/g, "").length;
  const lower = token.replace(/[^a-z]/g, "").length;
  return digits ? upper + lower > 0 : upper >= 3 && lower >= 2;
}

/**
 * True for names that carry a content hash, as bundlers emit them: `index-BdH3x9kA.js` (Vite,
 * Rollup), `main.3f2a9c1b.chunk.js` and `app.4e5f6a7b8c9d0e1f2a3b.js` (webpack, CRA),
 * `chunk-5XBQ2KJN.js` (esbuild), `index-BdH3x9kA.js.map`, and everything under `_next/static/`,
 * `_astro/` or `_app/immutable/`. HTML pages never are.
 */
export function isFingerprinted(path: string): boolean {
  if (/\.html?$/i.test(path)) return false;
  if (IMMUTABLE_FOLDERS.test(path)) return true;
  const name = path.slice(path.lastIndexOf("/") + 1);
  const eight = /[.-]([A-Za-z0-9_-]{8})(\.[A-Za-z]+)?\.[A-Za-z0-9]+$/.exec(name);
  if (eight && isHash(eight[1]!)) return true;
  const hex = /[.-]([0-9a-f]{8,64})(\.[A-Za-z]+)?\.[A-Za-z0-9]+$/.exec(name);
  return hex !== null && isHash(hex[1]!);
}

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "no-cache";
