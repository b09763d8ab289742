// Request header evaluation against a route: Accept-Encoding with q-values, If-None-Match,
// If-Modified-Since, Range and If-Range, following docs/http-semantics.md byte for byte.

import type { PackVariant } from "../pack/read.ts";

const SP = 32;
const HTAB = 9;
const COMMA = 44;
const QUOTE = 34;

const isSpace = (c: number | undefined) => c === SP || c === HTAB;
const lower = (b: number): number => (b >= 65 && b <= 90 ? b + 32 : b);

function wordIs(bytes: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(bytes[start + i]!) !== word.charCodeAt(i)) return false;
  return true;
}

/** A qvalue in thousandths ("0.5" → 500), or -1 when malformed. */
function qvalue(bytes: Uint8Array, start: number, end: number): number {
  const first = bytes[start];
  if (first !== 48 && first !== 49) return -1;
  let value = (first - 48) * 1000;
  if (start + 1 === end) return value;
  if (bytes[start + 1] !== 46 || end - start - 2 > 3) return -1;
  let scale = 100;
  for (let i = start + 2; i < end; i++) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) return -1;
    value += d * scale;
    scale /= 10;
  }
  return value > 1000 ? -1 : value;
}

/** Index (0 identity, 1 gzip, 2 br) of the variant to send for these Accept-Encoding values. */
export function chooseVariant(
  acceptEncoding: readonly Uint8Array[],
  variants: readonly (PackVariant | undefined)[],
): number {
  // q in thousandths per coding; -1 = not mentioned. Order: identity, gzip, br, "*".
  const q = [-1, -1, -1, -1];
  for (const value of acceptEncoding) {
    let i = 0;
    while (i < value.length) {
      while (i < value.length && (isSpace(value[i]) || value[i] === COMMA)) i++;
      const tokenStart = i;
      while (i < value.length && value[i] !== COMMA && value[i] !== 59 && !isSpace(value[i])) i++;
      const tokenEnd = i;
      let weight = 1000;
      // parameters: ;q=... (others ignored); a malformed q drops the element
      while (i < value.length && value[i] !== COMMA) {
        while (i < value.length && isSpace(value[i])) i++;
        if (value[i] !== 59) {
          if (i < value.length && value[i] !== COMMA) weight = -1;
          while (i < value.length && value[i] !== COMMA) i++;
          break;
        }
        i++;
        while (i < value.length && isSpace(value[i])) i++;
        const paramStart = i;
        while (i < value.length && value[i] !== COMMA && value[i] !== 59 && !isSpace(value[i])) i++;
        if (i - paramStart >= 2 && lower(value[paramStart]!) === 113 && value[paramStart + 1] === 61) {
          weight = qvalue(value, paramStart + 2, i);
        }
      }
      if (weight < 0 || tokenEnd === tokenStart) continue;
      const coding = wordIs(value, tokenStart, tokenEnd, "identity")
        ? 0
        : wordIs(value, tokenStart, tokenEnd, "gzip")
          ? 1
          : wordIs(value, tokenStart, tokenEnd, "br")
            ? 2
            : tokenEnd - tokenStart === 1 && value[tokenStart] === 42
              ? 3
              : -1;
      if (coding >= 0) q[coding] = weight;
    }
  }
  const effective = (coding: number): number => {
    if (q[coding]! >= 0) return q[coding]!;
    if (q[3]! >= 0) return q[3]!;
    // identity is always acceptable unless refused, but never preferred over a listed coding
    return coding === 0 ? 1 : 0;
  };
  let best = 0;
  let bestQ = 0;
  for (const coding of [2, 1, 0]) {
    if (!variants[coding]) continue;
    const weight = effective(coding);
    if (weight > bestQ) {
      best = coding;
      bestQ = weight;
    }
  }
  return best;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when any If-None-Match element matches the ETag (weak comparison), or is "*". */
export function noneMatchHits(values: readonly Uint8Array[], etag: Uint8Array): boolean {
  for (const value of values) {
    let i = 0;
    while (i < value.length) {
      while (i < value.length && (isSpace(value[i]) || value[i] === COMMA)) i++;
      if (i >= value.length) break;
      if (value[i] === 42) return true;
      if (value[i] === 87 && value[i + 1] === 47) i += 2;
      if (value[i] !== QUOTE) break;
      const start = i;
      i++;
      while (i < value.length && value[i] !== QUOTE) i++;
      if (i >= value.length) break;
      i++;
      if (etag.length > 0 && bytesEqual(value.subarray(start, i), etag)) return true;
    }
  }
  return false;
}

/**
 * True when If-Modified-Since is exactly the Last-Modified text (nginx's default, `if_modified_since
 * exact`): clients and caches send back the value they were given.
 */
export function notModifiedSince(value: Uint8Array, lastModifiedText: Uint8Array): boolean {
  return lastModifiedText.length > 0 && bytesEqual(value, lastModifiedText);
}

/** True when If-Range allows the range: an exact strong ETag or the exact Last-Modified text. */
export function ifRangeHolds(value: Uint8Array, etag: Uint8Array, lastModifiedText: Uint8Array): boolean {
  if (value[0] === QUOTE) return etag.length > 0 && bytesEqual(value, etag);
  if (value[0] === 87 && value[1] === 47) return false;
  return notModifiedSince(value, lastModifiedText); // the same exact-text match
}

export type RangeResult =
  | { kind: "none" }
  | { kind: "unsatisfiable" }
  | { kind: "range"; start: number; end: number };

const MAX_DIGITS = 15;

function digits(value: Uint8Array, start: number, end: number): number {
  if (start === end || end - start > MAX_DIGITS) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = value[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Evaluates a Range value against a body of `size` bytes: one range, or none (ignored), or 416. */
export function evaluateRange(value: Uint8Array, size: number): RangeResult {
  if (!(value.length > 6 && wordIs(value, 0, 5, "bytes") && value[5] === 61)) return { kind: "none" };
  let s = 6;
  let e = value.length;
  while (s < e && isSpace(value[s])) s++;
  while (e > s && isSpace(value[e - 1])) e--;
  for (let i = s; i < e; i++) if (value[i] === COMMA) return { kind: "none" };
  let dash = s;
  while (dash < e && value[dash] !== 45) dash++;
  if (dash === e) return { kind: "none" };
  if (dash === s) {
    const suffix = digits(value, dash + 1, e);
    if (suffix < 0) return { kind: "none" };
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const first = digits(value, s, dash);
  if (first < 0) return { kind: "none" };
  const last = dash + 1 === e ? -2 : digits(value, dash + 1, e);
  if (last === -1 || (last >= 0 && last < first)) return { kind: "none" };
  if (first >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start: first, end: last === -2 ? size - 1 : Math.min(last, size - 1) };
}
