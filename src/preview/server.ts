// The preview server: a node:net server speaking HTTP/1.1 over a pack with exactly the native
// server's semantics, so `speck serve` shows what the image will serve and tests have an oracle.

import { createServer, type Server, type Socket } from "node:net";
import { type Pack, readPack } from "../pack/read.ts";
import { parseRequest } from "./parse.ts";
import { dateLine, errorResponse, type Response, respond } from "./respond.ts";

/** Time-outs (milliseconds), the same as the native server's. */
export const HEADER_TIMEOUT = 10_000;
export const IDLE_TIMEOUT = 60_000;

export interface AccessLogEntry {
  method: string;
  target: string;
  status: number;
  bytes: number;
}

export interface PreviewOptions {
  pack: Uint8Array;
  host?: string;
  port?: number;
  onRequest?: (entry: AccessLogEntry) => void;
}

export interface PreviewServer {
  url: string;
  port: number;
  /** Serves a new pack from the next request on (connections stay open). */
  replacePack(bytes: Uint8Array): void;
  close(): Promise<void>;
}

/** Refreshed at most once a second, like the native server's coarse clock. */
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
  onRequest?: PreviewOptions["onRequest"],
): void {
  let buffer: Uint8Array = new Uint8Array(0);
  let discard = 0;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;

  const arm = (): void => {
    clearTimeout(timer);
    const waitingForHead = buffer.length > 0;
    timer = setTimeout(
      () => {
        if (closing) return;
        if (waitingForHead) send(errorResponse(getPack(), 408, date(), false, true));
        else socket.destroy();
      },
      waitingForHead ? HEADER_TIMEOUT : IDLE_TIMEOUT,
    );
  };

  const send = (response: Response): void => {
    for (const chunk of response.chunks) if (chunk.length > 0) socket.write(chunk);
    if (response.close) {
      closing = true;
      clearTimeout(timer);
      socket.end();
    }
  };

  const drain = (): void => {
    while (!closing) {
      if (discard > 0) {
        const n = Math.min(discard, buffer.length);
        buffer = buffer.subarray(n);
        discard -= n;
        if (discard > 0) break;
      }
      if (buffer.length === 0) break;
      const parsed = parseRequest(buffer);
      if (parsed.kind === "incomplete") break;
      if (parsed.kind === "skip") {
        buffer = buffer.subarray(parsed.consumed);
        continue;
      }
      if (parsed.kind === "error") {
        send(errorResponse(getPack(), parsed.status, date(), false, true));
        break;
      }
      const response = respond(getPack(), parsed.request, date());
      onRequest?.({
        method: parsed.request.method,
        target: new TextDecoder().decode(parsed.request.target),
        status: response.status,
        bytes: response.bodyBytes,
      });
      buffer = buffer.subarray(parsed.headLength);
      discard = parsed.request.contentLength;
      send(response);
    }
  };

  socket.setNoDelay(true);
  arm();
  socket.on("data", (chunk: Buffer) => {
    if (closing) return;
    const joined = new Uint8Array(buffer.length + chunk.length);
    joined.set(buffer, 0);
    joined.set(chunk, buffer.length);
    const hadHead = buffer.length > 0;
    buffer = joined;
    drain();
    if (!hadHead || buffer.length === 0) arm();
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => clearTimeout(timer));
}

/** Starts the preview server; resolves once it listens. */
export async function startPreview(options: PreviewOptions): Promise<PreviewServer> {
  let pack = readPack(options.pack);
  const date = currentDate();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    handleConnection(socket, () => pack, date, options.onRequest);
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const shownHost = host.includes(":")
    ? `[${host}]`
    : host === "0.0.0.0" || host === "::"
      ? "localhost"
      : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    replacePack(bytes) {
      pack = readPack(bytes);
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
