// The HTTP layer's per-worker state: one zero-filled block addressed by s4 inside the layer (set by
// http_input and http_timeout, preserved by every function below them), holding the request record,
// the decoded path, the If-None-Match lines and the dynamic response bytes. Offsets are named here.

import type { ProgramBuilder } from "../../ir/builder.ts";

/**
 * Fields of the state block (offsets from s4). The ones read most are in the first 128 bytes,
 * within a signed byte of s4 (x86-64's disp8: 3 bytes less per access than disp32).
 */
export const S = {
  /** Start of the mapped pack. */
  pack: 0,
  /** The pack's byte-class table (string 9). */
  cls: 8,
  /** Write cursor in the dynamic bytes (DYN). */
  out: 16,
  /** Length of the normalised path in PATH. */
  pathLen: 24,
  /** The query (bytes after "?") or 0 when the target has no "?"; its length. */
  query: 32,
  queryLen: 40,
  /** The body size a Range was judged against; a 206's first and last byte and its length (set by range). */
  size: 48,
  first: 56,
  last: 64,
  length: 72,
  // Cleared before each request, from here to CLEAR_END.
  /** A Connection token "close"; later: the connection closes after this response. */
  close: 80,
  /** 0 for HTTP/1.0, else 1. */
  minor: 88,
  /** If-None-Match lines stored in INM. */
  inmCount: 96,
  contentLength: 104,
  hosts: 112,
  /** A Connection token "keep-alive". */
  keepAlive: 120,
  /** Index of the method in WORDS (0 GET, 1 HEAD, 2..8 the 405 methods, anything else 501). */
  method: 128,
  target: 136,
  targetLen: 144,
  /** Accept-Encoding weight + 1 (0: not listed) of identity, gzip, br and "*". */
  q: 152,
  /** (pointer, length) of the last line of each known header, indexed by its WORDS index - HEADER0. */
  slots: 184,
  // not cleared: 184 + 9 * 16 = CLEAR_END
  fd: 328,
} as const;

export const CLEAR_START = S.close;
/** Known headers in WORDS order from HEADER0. */
export const HEADERS = [
  "host",
  "connection",
  "content-length",
  "transfer-encoding",
  "if-none-match",
  "accept-encoding",
  "if-modified-since",
  "range",
  "if-range",
] as const;
export const CLEAR_END = S.slots + HEADERS.length * 16;
/** Offset of the decoded path (8 KiB: a path never grows when decoded). */
export const PATH = 512;
/** If-None-Match lines: (pointer, length) pairs; a head of 8 KiB holds at most 512 of them. */
export const INM = PATH + 8192;
export const INM_MAX = 512;
/** The dynamic bytes of one response: a prefix redirect's encoded suffix (3 × 8 KiB at most), the
 * query (8 KiB), Content-Range/Length, Date, Connection and CRLF; or the header fields of a 206 or an
 * error response (FIELDS_LIMIT, 16 KiB at most) with those lines. */
export const DYN = INM + INM_MAX * 16;
export const DYN_SIZE = 4 * 8192 + 256;
export const STATE_SIZE = DYN + DYN_SIZE;

/** Words the layer recognises, matched by find_word; indexes below are part of the code. */
export const WORDS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
  ...HEADERS,
  "identity",
  "gzip",
  "br",
  "*",
  "close",
  "keep-alive",
  "bytes",
  "http://",
  "https://",
] as const;
export type Word = (typeof WORDS)[number];
export const W = (word: Word): number => WORDS.indexOf(word);
export const HEADER0 = W("host");
export const CODING0 = W("identity");
/** The slot of a header. */
export const slot = (word: (typeof HEADERS)[number]): number => S.slots + (W(word) - HEADER0) * 16;

/** Error ordinals of the pack's error table. */
export const ERR = {
  400: 0,
  404: 1,
  405: 2,
  408: 3,
  413: 4,
  414: 5,
  416: 6,
  431: 7,
  500: 8,
  501: 9,
  505: 10,
};
/** Ordinals whose response closes the connection: 400, 408, 413, 414, 431, 505. */
export const CLOSING_ORDINALS = [0, 3, 4, 5, 7, 10].reduce((m, o) => m | (1 << o), 0);

/** Declares the state block and the word list. */
export function emitState(p: ProgramBuilder): void {
  if (p.has("http_state")) return;
  p.bss("http_state", STATE_SIZE, 64);
  const bytes: number[] = [];
  for (const w of WORDS) bytes.push(w.length, ...new TextEncoder().encode(w));
  bytes.push(0);
  p.rodata("http_words", Uint8Array.from(bytes));
}
