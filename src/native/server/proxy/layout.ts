// Where the state of one proxied exchange lives. A connection that forwards a request has nothing
// else in flight (pipelined requests wait), so its output staging area (OUTBUF, loop.ts) holds the
// exchange; the upstream socket's own input and output areas are the upload and download buffers.
// Idle connections pay nothing for the proxy: these areas are touched only while proxying.

/** Fields of an exchange, at the client's staging area (8 bytes each unless noted). */
export const X = {
  /** The active exchanges form a list through their clients' fds + 1 (0 ends it). */
  next: 0,
  prev: 8,
  /** The upstream socket (TCP, or UDP while resolving), or -1. */
  upstream: 16,
  phase: 24,
  flags: 32,
  /** The epoll events asked for on the client (u32) and on the upstream (u32 at +4). */
  masks: 40,
  /** When the phase times out (ms), and when a DNS query is sent again (ms). */
  deadline: 48,
  retry: 56,
  /** The rule's proxy record (connect time-out, time-out, body limit, port, base path). */
  items: 64,
  /** Request body bytes still to come from the client. */
  bodyLeft: 72,
  /** Bytes waiting to go upstream. */
  upPtr: 80,
  upLen: 88,
  /** Response framing (MODE), and its body bytes left (MODE.length). */
  mode: 96,
  left: 104,
  /** The chunked decoder's state and size (16 bytes, as chunk_decode keeps them). */
  chunk: 112,
  /** Bytes of the upstream's response head read so far. */
  inLen: 128,
  /** Body bytes sent to the client, for the access log. */
  sent: 136,
  /** Three iovecs waiting to go to the client. */
  out: 144,
  /** The upstream's address (16 bytes). */
  address: 192,
  /** Resolution: candidate name (u8), query type (u8, 0 A, 1 AAAA), server (u8), tries (u8), the query's length (u16), its ID (u16). */
  dns: 208,
  /** "HTTP/1.1 SSS" for the access log (12 bytes). */
  statusLine: 216,
  /** The upstream's host name (pointer, length). */
  host: 232,
  hostLen: 240,
  /** resp_head's report (RI). */
  info: 248,
  /** The request description proxy_head reads (Q). */
  request: 288,
  /** The request line as received, up to LINE_MAX bytes, and its length. */
  lineLen: 408,
  line: 416,
  /** The peer's address as text (64 bytes). */
  peer: 1016,
  /** The DNS query (MAX_QUERY bytes). */
  query: 1080,
  /** A chunk-size line, "<hex>\r\n" (24 bytes). */
  chunkLine: 1352,
  /** The upstream request head and the body bytes that came with it. */
  head: 1376,
} as const;

/** The request line bytes kept for the access log (its LOG_LINE_MAX). */
export const LINE_MAX = 600;
/** The response head the upstream may send (Node's default maxHeaderSize). */
export const RESPONSE_HEAD_MAX = 16384;
/**
 * The download buffer is the upstream socket's staging area: the response head is read at its
 * start and the client's head built at RESPONSE_OUT; body bytes are read at its start once the
 * head went out, up to DOWNLOAD bytes at a time.
 */
export const RESPONSE_OUT = RESPONSE_HEAD_MAX + 64;
export const DOWNLOAD = 32 * 1024;

/** The request description (at X.request): what proxy_head needs besides the request head. */
export const Q = {
  /** The request line's first byte (the head is complete and well formed: the parser accepted it). */
  head: 0,
  /** The rest of the decoded path after the rule's prefix, and the query (pointer 0: no "?"). */
  rest: 8,
  restLen: 16,
  query: 24,
  queryLen: 32,
  /** The upstream's base path and host (text as configured), its port. */
  base: 40,
  baseLen: 48,
  host: 56,
  hostLen: 64,
  port: 72,
  /** 1 when the peer is a trusted proxy (its X-Forwarded-* are kept). */
  trusted: 80,
  /** The peer's address as text. */
  peer: 88,
  peerLen: 96,
  /** Written by proxy_head: the end of the client's head, and 1 when it sent Expect: 100-continue. */
  end: 104,
  expect: 112,
  size: 120,
} as const;

/** Phases of an exchange. */
export const PHASE = { resolve: 1, connect: 2, exchange: 3 } as const;

/** X.flags bits. */
export const XF = {
  /** The request is HEAD: the response has no body. */
  head: 1,
  /** The client speaks HTTP/1.0. */
  http10: 2,
  /** The connection closes after this exchange. */
  close: 4,
  /** The HTTP/1.0 client asked for keep-alive. */
  keepAlive10: 8,
  /** The address came from the cache (a failed connect resolves again). */
  cached: 16,
  /** The response head went to the client: failures can only cut the connection. */
  headSent: 32,
  /** The body goes to the client chunked. */
  rechunk: 64,
  /** The upstream's response is complete. */
  complete: 128,
  /** The final "0" chunk is on its way. */
  ended: 256,
} as const;

/** Response framing (X.mode): what ends the upstream's body. */
export const MODE = { length: 0, chunked: 1, close: 2, none: 3, interim: 4 } as const;
