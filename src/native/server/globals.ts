// The server's global state: one zero-filled block whose address lives in s5 for the whole run
// (no function writes s5 after start-up, signal handlers included), so every global is one
// base+offset access away. Offsets are named here once.

import type { ProgramBuilder } from "../ir/builder.ts";

/**
 * Field name → size, in the order they are laid out: s5 points GLOBALS_BIAS bytes into the block,
 * so the first 256 bytes are within a signed byte of it (x86-64's disp8: 3 bytes less per access
 * than disp32); the fields accessed most come first.
 */
const FIELDS = {
  /** The response the HTTP layer hands to send (see R in loop.ts). */
  response: 64,
  /** timespec for clock_gettime (and the buffer of prlimit64, wait4 and --health's read). */
  clock: 16,
  listenFd: 8,
  /** Seconds since the epoch, refreshed once per loop turn from CLOCK_REALTIME_COARSE. */
  now: 8,
  /** The access log template (log.ts), or 0 when not logging; bytes waiting in the log buffer. */
  log: 8,
  logLength: 8,
  /** Set by the SIGTERM/SIGINT handler. */
  stop: 8,
  openConnections: 8,
  /** The keep-alive idle time-out in seconds: SPECK_IDLE_TIMEOUT, or the build's. */
  idleSeconds: 8,
  /** sockaddr_in6 for bind, connect and getpeername (28 bytes), then a socklen_t. */
  sockaddr: 32,
  /** The bind address (SPECK_ADDR) as 16 IPv6 bytes, IPv4 as ::ffff:a.b.c.d; all zero: any. */
  bindAddress: 16,
  /** The connection tables (see loop.ts), mapped at start-up. */
  conns: 8,
  inbufs: 8,
  outbufs: 8,
  epollFd: 8,
  /** While out of descriptors: the second at which accepting resumes (0: accepting). */
  acceptPaused: 8,
  /** The end of the input http_input is working on: the access log reads request lines up to it. */
  inputEnd: 8,
  // from here on, four more bytes an access on x86-64
  port: 8,
  /** The environment strings start.ts reads (PORT=..., SPECK_WORKERS=..., ...), or 0. */
  env: 40,
  /** Start of the mapped pack and its size. */
  pack: 8,
  packSize: 8,
  /** SPECK_WORKERS, or 0 for one per usable CPU. */
  workers: 8,
  /** epoll_event for epoll_ctl. */
  event: 16,
  /** sigaction for rt_sigaction. */
  sigaction: 32,
  /** The second SIGTERM arrived: when the server must be gone. */
  stopDeadline: 8,
  /** Proxy builds: milliseconds since the epoch at the start of the loop turn (from clock). */
  nowMs: 8,
  /** Proxy builds: when the earliest exchange may time out (ms; 0: none), and the first exchange's fd + 1. */
  proxyWake: 8,
  proxyList: 8,
} as const;

/** Where s5 points in the globals block: its fields are at G[name] from there, negative ones first. */
export const GLOBALS_BIAS = 128;

export type Field = keyof typeof FIELDS;

export const G: Record<Field, number> = (() => {
  const offsets = {} as Record<Field, number>;
  let at = -GLOBALS_BIAS;
  for (const [name, size] of Object.entries(FIELDS)) {
    offsets[name as Field] = at;
    at += size;
  }
  return offsets;
})();

/** The data symbol of "Date: <29 bytes>\r\n", rewritten when the second changes (start.ts). */
export const DATE_LINE = "date_line";
/** "Date: " + 29 + CRLF. */
export const DATE_LINE_LENGTH = 37;

export const GLOBALS_SIZE = Object.values(FIELDS).reduce((a, b) => a + b, 0);

/** Declares the globals block. */
export function emitGlobals(p: ProgramBuilder): void {
  if (!p.has("globals")) p.bss("globals", GLOBALS_SIZE, 16);
}
