// Turns a request-target into the pack's lookup key: origin-form or absolute-form, query split off,
// percent-decoded, dot segments resolved and repeated slashes collapsed (docs/http-semantics.md).

export interface Target {
  /** The normalised, decoded path: starts with "/", no "//", no dot segments. */
  path: Uint8Array;
  /** Raw bytes after "?", or undefined when the target has no "?". */
  query: Uint8Array | undefined;
}

const SLASH = 47;
const DOT = 46;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function startsWithIgnoreCase(bytes: Uint8Array, prefix: string): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const b = bytes[i]!;
    if ((b >= 65 && b <= 90 ? b + 32 : b) !== prefix.charCodeAt(i)) return false;
  }
  return true;
}

/** Normalises `raw`; returns null when the request must be answered 400. */
export function normaliseTarget(raw: Uint8Array): Target | null {
  let start = 0;
  if (raw[0] !== SLASH) {
    const scheme = startsWithIgnoreCase(raw, "http://") ? 7 : startsWithIgnoreCase(raw, "https://") ? 8 : 0;
    if (scheme === 0) return null;
    start = scheme;
    while (start < raw.length && raw[start] !== SLASH && raw[start] !== 63) start++;
  }
  let end = start;
  while (end < raw.length && raw[end] !== 63) end++;
  const query = end < raw.length ? raw.subarray(end + 1) : undefined;

  // Decode into segments, resolving "." and ".." as whole segments after decoding.
  const out: number[] = [];
  const segmentStarts: number[] = [];
  let segment: number[] = [];
  let trailing = true;
  const finishSegment = (): boolean => {
    const isDot = segment.length === 1 && segment[0] === DOT;
    const isDotDot = segment.length === 2 && segment[0] === DOT && segment[1] === DOT;
    if (isDotDot) {
      const last = segmentStarts.pop();
      if (last === undefined) return false;
      out.length = last;
      trailing = true;
    } else if (isDot || segment.length === 0) {
      trailing = true;
    } else {
      segmentStarts.push(out.length);
      out.push(SLASH, ...segment);
      trailing = false;
    }
    segment = [];
    return true;
  };
  for (let i = start; i < end; i++) {
    let c = raw[i]!;
    if (c === SLASH) {
      if (!finishSegment()) return null;
      continue;
    }
    if (c === 37) {
      const hi = hexValue(raw[i + 1] ?? -1);
      const lo = hexValue(raw[i + 2] ?? -1);
      if (hi < 0 || lo < 0 || i + 2 >= end) return null;
      c = hi * 16 + lo;
      if (c === SLASH || c === 0) return null;
      i += 2;
    }
    segment.push(c);
  }
  if (!finishSegment()) return null;
  if (out.length === 0 || trailing) out.push(SLASH);
  return { path: Uint8Array.from(out), query };
}
