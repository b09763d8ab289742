// Parses one HTTP/1.1 request head from the front of a byte buffer, exactly as docs/http-semantics.md
// specifies (the native server implements the same rules): framing and syntax errors become a status,
// never an exception. Parsing only fills fields; deciding the response is respond.ts's job.

export const HEAD_LIMIT = 8192;
export const BODY_LIMIT = 1 << 20;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

export interface Request {
  method: string;
  target: Uint8Array;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x). */
  minor: 0 | 1;
  hostCount: number;
  connectionClose: boolean;
  connectionKeepAlive: boolean;
  contentLength: number;
  /** Values of the headers the server acts on; list headers keep every occurrence. */
  ifNoneMatch: Uint8Array[];
  acceptEncoding: Uint8Array[];
  ifModifiedSince: Uint8Array | undefined;
  range: Uint8Array | undefined;
  ifRange: Uint8Array | undefined;
}

export type ParseResult =
  | { kind: "incomplete" }
  /** `consumed` bytes of leading empty lines were skipped. */
  | { kind: "skip"; consumed: number }
  | { kind: "error"; status: 400 | 413 | 414 | 431 | 505 }
  | { kind: "request"; headLength: number; request: Request };

/** tchar (RFC 9110, section 5.6.2). */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

const lower = (b: number): number => (b >= 65 && b <= 90 ? b + 32 : b);

function equalsIgnoreCase(bytes: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(bytes[start + i]!) !== word.charCodeAt(i)) return false;
  return true;
}

/** Index of the CRLF CRLF ending the head within the first HEAD_LIMIT bytes, or -1. */
function findHeadEnd(buf: Uint8Array): number {
  const limit = Math.min(buf.length, HEAD_LIMIT);
  for (let i = 3; i < limit; i++)
    if (buf[i] === LF && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
  return -1;
}

/** Connection tokens: sets close / keep-alive flags from a comma-separated list. */
function connectionTokens(buf: Uint8Array, start: number, end: number, request: Request): void {
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === SP || buf[i] === HTAB || buf[i] === 44)) i++;
    const tokenStart = i;
    while (i < end && buf[i] !== 44 && buf[i] !== SP && buf[i] !== HTAB) i++;
    if (equalsIgnoreCase(buf, tokenStart, i, "close")) request.connectionClose = true;
    else if (equalsIgnoreCase(buf, tokenStart, i, "keep-alive")) request.connectionKeepAlive = true;
    while (i < end && buf[i] !== 44) i++;
  }
}

/** Parses the request head at the front of `buf`. */
export function parseRequest(buf: Uint8Array): ParseResult {
  if (buf.length >= 2 && buf[0] === CR && buf[1] === LF) {
    let n = 0;
    while (n + 1 < buf.length && buf[n] === CR && buf[n + 1] === LF) n += 2;
    return { kind: "skip", consumed: n };
  }
  const headEnd = findHeadEnd(buf);
  // Judged on the bytes alone, however they were split into reads: a bare LF or a CR not followed
  // by LF before the end of the head is 400 at once, complete head or not; 8 KiB without the end of
  // the head is 414 or 431.
  const limit = headEnd >= 0 ? headEnd : Math.min(buf.length, HEAD_LIMIT);
  for (let i = 0; i < limit; i++) {
    if (buf[i] === LF && (i === 0 || buf[i - 1] !== CR)) return { kind: "error", status: 400 };
    if (buf[i] === CR && i + 1 < limit && buf[i + 1] !== LF) return { kind: "error", status: 400 };
  }
  if (headEnd < 0) {
    if (buf.length < HEAD_LIMIT) return { kind: "incomplete" };
    for (let i = 1; i < HEAD_LIMIT; i++)
      if (buf[i] === LF && buf[i - 1] === CR) return { kind: "error", status: 431 };
    return { kind: "error", status: 414 };
  }

  // Request line: method SP target SP HTTP/d.d CRLF
  let i = 0;
  while (TCHAR[buf[i]!]) i++;
  if (i === 0 || buf[i] !== SP) return { kind: "error", status: 400 };
  const method = String.fromCharCode(...buf.subarray(0, i));
  const targetStart = ++i;
  while (buf[i]! > SP && buf[i]! < 127) i++;
  if (i === targetStart || buf[i] !== SP) return { kind: "error", status: 400 };
  const target = buf.subarray(targetStart, i);
  i++;
  const v = i;
  if (
    buf[v] !== 72 ||
    buf[v + 1] !== 84 ||
    buf[v + 2] !== 84 ||
    buf[v + 3] !== 80 ||
    buf[v + 4] !== 47 ||
    !(buf[v + 5]! >= 48 && buf[v + 5]! <= 57) ||
    buf[v + 6] !== 46 ||
    !(buf[v + 7]! >= 48 && buf[v + 7]! <= 57) ||
    buf[v + 8] !== CR ||
    buf[v + 9] !== LF
  )
    return { kind: "error", status: 400 };
  const major = buf[v + 5]! - 48;
  const minor = buf[v + 7]! - 48;
  if (major !== 1) return { kind: "error", status: 505 };
  i = v + 10;

  const request: Request = {
    method,
    target,
    minor: minor === 0 ? 0 : 1,
    hostCount: 0,
    connectionClose: false,
    connectionKeepAlive: false,
    contentLength: 0,
    ifNoneMatch: [],
    acceptEncoding: [],
    ifModifiedSince: undefined,
    range: undefined,
    ifRange: undefined,
  };
  let contentLengthSeen = false;
  let transferEncoding = false;

  // Header fields: name ":" OWS value OWS CRLF, until the empty line.
  while (!(buf[i] === CR && buf[i + 1] === LF)) {
    const nameStart = i;
    while (TCHAR[buf[i]!]) i++;
    if (i === nameStart || buf[i] !== COLON) return { kind: "error", status: 400 };
    const nameEnd = i;
    i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    let valueStart = i;
    while (buf[i] !== CR) {
      const c = buf[i]!;
      if ((c < SP && c !== HTAB) || c === 127) return { kind: "error", status: 400 };
      i++;
    }
    if (buf[i + 1] !== LF) return { kind: "error", status: 400 };
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    i += 2;
    const value = buf.subarray(valueStart, valueEnd);
    const is = (word: string) => equalsIgnoreCase(buf, nameStart, nameEnd, word);
    if (is("host")) request.hostCount++;
    else if (is("connection")) connectionTokens(buf, valueStart, valueEnd, request);
    else if (is("content-length")) {
      if (valueEnd === valueStart || valueEnd - valueStart > 15) return { kind: "error", status: 400 };
      let n = 0;
      for (; valueStart < valueEnd; valueStart++) {
        const d = buf[valueStart]! - 48;
        if (d < 0 || d > 9) return { kind: "error", status: 400 };
        n = n * 10 + d;
      }
      if (contentLengthSeen && n !== request.contentLength) return { kind: "error", status: 400 };
      contentLengthSeen = true;
      request.contentLength = n;
    } else if (is("transfer-encoding")) transferEncoding = true;
    else if (is("if-none-match")) request.ifNoneMatch.push(value);
    else if (is("accept-encoding")) request.acceptEncoding.push(value);
    else if (is("if-modified-since")) request.ifModifiedSince = value;
    else if (is("range")) request.range = value;
    else if (is("if-range")) request.ifRange = value;
  }
  if (transferEncoding) return { kind: "error", status: 400 };
  if (request.minor === 1 && request.hostCount !== 1) return { kind: "error", status: 400 };
  if (request.hostCount > 1) return { kind: "error", status: 400 };
  if (request.contentLength > BODY_LIMIT) return { kind: "error", status: 413 };
  return { kind: "request", headLength: headEnd, request };
}
