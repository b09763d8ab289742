// The preview server: a node:net server speaking HTTP/1.1 over a pack with exactly the native
// server's semantics (docs/http-semantics.md), so `speck serve` shows what the image will serve and
// tests have an oracle. Sockets, timers and back-pressure live here; the bytes come from connection.ts.

import { createServer, type Server, type Socket } from "node:net";
import { type Pack, readPack } from "../pack/read.ts";
import { AccessFront, guardConnection } from "./access.ts";
import { type AccessLogEntry, ConnectionState } from "./connection.ts";
import { dateLine } from "./respond.ts";

/** Time-outs (milliseconds), the same as the native server's. */
export const HEADER_TIMEOUT = 10_000;
export const IDLE_TIMEOUT = 75_000;
export const SEND_STALL_TIMEOUT = 30_000;
/** Unsent response bytes above which a connection stops answering pipelined requests until drained. */
const HIGH_WATER = 1 << 20;

export interface PreviewOptions {
  /** The pack's bytes, or a function returning the pack to serve (called per request). */
  pack: Uint8Array | (() => Pack);
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Called once per response, in order. */
  onRequest?: (entry: AccessLogEntry) => void;
  /** Time-outs in milliseconds; the defaults are the native server's, tests shorten them. */
  timeouts?: Partial<Timeouts>;
  /** Where run-time users (usersFrom) are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface Timeouts {
  header: number;
  idle: number;
  sendStall: number;
}

export interface PreviewServer {
  url: string;
  port: number;
  /** Serves a new pack from the next connection on (open connections stay open); throws PackError,
   * or AccessError when the new pack's run-time users cannot be read. */
  replacePack(bytes: Uint8Array): void;
  close(): Promise<void>;
}

/** `Date: ...` refreshed at most once a second, like the native server's coarse clock. */
function currentDate(): () => Uint8Array {
  let second = -1;
  let line: Uint8Array = new Uint8Array();
  return () => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      line = dateLine(now);
    }
    return line;
  };
}

function handleConnection(
  socket: Socket,
  getPack: () => Pack,
  date: () => Uint8Array,
  onRequest: PreviewOptions["onRequest"],
  timeouts: Timeouts,
): void {
  const state = new ConnectionState();
  let timer: NodeJS.Timeout | undefined;
  let timerForHead = false;
  let paused = false;

  const expire = (): void => {
    timer = undefined;
    if (socket.destroyed) return;
    if (state.midRequest) {
      send(state.timeout(getPack(), date()));
      return;
    }
    if (socket.writableLength > 0) {
      // a slow reader: keep going while bytes move, give up when they stall
      const pending = socket.writableLength;
      timer = setTimeout(
        () => (socket.writableLength >= pending ? socket.destroy() : expire()),
        timeouts.sendStall,
      );
      return;
    }
    socket.destroy();
  };

  /** The header time-out runs from a request's first byte; the idle time-out from the last activity. */
  const arm = (): void => {
    if (state.closed) return;
    if (state.midRequest) {
      if (timer && timerForHead) return;
      clearTimeout(timer);
      timerForHead = true;
      timer = setTimeout(expire, timeouts.header);
    } else {
      clearTimeout(timer);
      timerForHead = false;
      timer = setTimeout(expire, timeouts.idle);
    }
  };

  const send = (answer: ReturnType<ConnectionState["timeout"]>): void => {
    onRequest?.(answer.log);
    socket.cork();
    for (const chunk of answer.response.chunks) if (chunk.length > 0) socket.write(chunk);
    socket.uncork();
    if (answer.response.close) {
      clearTimeout(timer);
      socket.end();
    }
  };

  const pump = (): void => {
    while (!paused && !state.closed) {
      const answer = state.next(getPack(), date());
      if (!answer) break;
      send(answer);
      if (socket.writableLength > HIGH_WATER) {
        paused = true;
        socket.pause();
      }
    }
    arm();
  };

  socket.setNoDelay(true);
  arm();
  socket.on("data", (chunk: Buffer) => {
    state.receive(chunk);
    pump();
  });
  socket.on("drain", () => {
    if (!paused) return;
    paused = false;
    socket.resume();
    pump();
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => clearTimeout(timer));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * The access front of a pack's section (docs/access.md), made again only when the section changes,
 * so that the per-rule cache survives a rebuild of the site; undefined for a pack without one.
 */
function accessFronts(env: NodeJS.ProcessEnv): (pack: Pack) => AccessFront | undefined {
  let last: { section: Uint8Array; front: AccessFront } | undefined;
  return (pack) => {
    const section = pack.access?.section;
    if (!section) return undefined;
    if (!last || !sameBytes(last.section, section)) last = { section, front: new AccessFront(section, env) };
    return last.front;
  };
}

/**
 * Starts the preview server; resolves once it listens. Throws PackError for a bad pack, AccessError
 * when the users of an auth rule's usersFrom cannot be read.
 */
export async function startPreview(options: PreviewOptions): Promise<PreviewServer> {
  const given = options.pack;
  let bytesPack: Pack | undefined = given instanceof Uint8Array ? readPack(given) : undefined;
  const getPack = (): Pack => bytesPack ?? (given as () => Pack)();
  const date = currentDate();
  const frontOf = accessFronts(options.env ?? process.env);
  if (bytesPack) frontOf(bytesPack);
  const timeouts: Timeouts = {
    header: HEADER_TIMEOUT,
    idle: IDLE_TIMEOUT,
    sendStall: SEND_STALL_TIMEOUT,
    ...options.timeouts,
  };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const front = frontOf(getPack());
    if (front) guardConnection(socket, front, { getPack, date, onRequest: options.onRequest, timeouts });
    else handleConnection(socket, getPack, date, options.onRequest, timeouts);
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const shownHost = host.includes(":")
    ? host === "::"
      ? "localhost"
      : `[${host}]`
    : host === "0.0.0.0"
      ? "localhost"
      : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    replacePack(bytes) {
      const next = readPack(bytes);
      frontOf(next);
      bytesPack = next;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
