// An upstream for proxy tests: a TCP server on loopback that records each request as the bytes it
// received (head, and the body its Content-Length announces) and answers it with a script chosen
// by the request's path, written byte for byte (so responses can be chunked, slow, malformed or cut
// off). And a reader that splits what a client received into responses, Date masked and chunked
// bodies decoded, so two servers' answers compare whatever their chunk boundaries.

import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";

export interface UpstreamRequest {
  /** The request head as received, up to and with its blank line (latin1). */
  head: string;
  path: string;
  body: Buffer;
}

/** Answers a request: writes to the socket, and ends or destroys it (once). */
export type Script = (req: UpstreamRequest, socket: Socket) => void | Promise<void>;

export interface Upstream {
  port: number;
  /** Requests in the order they were complete. */
  seen: UpstreamRequest[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `parts` with `gap` ms between them, then ends the connection. */
export function slowly(parts: (string | Uint8Array)[], gap: number): Script {
  return async (_req, socket) => {
    for (const part of parts) {
      if (socket.destroyed) return;
      socket.write(typeof part === "string" ? Buffer.from(part, "latin1") : part);
      await sleep(gap);
    }
    socket.end();
  };
}

/** Writes the response bytes at once and ends. */
export const answer =
  (bytes: string | Uint8Array): Script =>
  (_req, socket) => {
    socket.end(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  };

/** Starts an upstream on `host` (127.0.0.1) whose script for a request is `route(path)`. */
export async function startUpstream(
  route: (path: string) => Script,
  options: { host?: string; port?: number } = {},
): Promise<Upstream> {
  const seen: UpstreamRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffer = Buffer.alloc(0);
    let done = false;
    socket.on("data", (chunk: Buffer) => {
      if (done) return;
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buffer.subarray(0, end + 4).toString("latin1");
      const length = Number(/\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      done = true;
      const req = { head, path: head.split(" ")[1] ?? "/", body: buffer.subarray(end + 4, end + 4 + length) };
      seen.push(req);
      void route(req.path)(req, socket);
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve),
  );
  return {
    port: (server.address() as { port: number }).port,
    seen,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export interface ClientResponse {
  /** Status line and fields, Date masked, latin1. */
  head: string;
  /** The body as sent (decoded when chunked). */
  body: Buffer;
  framing: "length" | "chunked" | "close" | "none";
  /** False when the connection ended before the body did. */
  complete: boolean;
}

/**
 * The responses in `raw` (all a client received on one connection); `bodiless(i)` says whether the
 * i-th final response answers a HEAD request.
 */
export function clientResponses(
  raw: Buffer,
  bodiless: (i: number) => boolean = () => false,
): ClientResponse[] {
  const out: ClientResponse[] = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf("\r\n\r\n", at);
    if (end < 0) {
      out.push({
        head: raw.subarray(at).toString("latin1"),
        body: Buffer.alloc(0),
        framing: "none",
        complete: false,
      });
      break;
    }
    const head = raw
      .subarray(at, end + 4)
      .toString("latin1")
      .replace(/\r\nDate: [^\r]*/g, "\r\nDate: <masked>");
    at = end + 4;
    const status = Number(head.slice(9, 12));
    const field = (name: string) => new RegExp(`\\r\\n${name}:[ \\t]*([^\\r]*)`, "i").exec(head)?.[1];
    if (status >= 100 && status < 200 && status !== 101) {
      out.push({ head, body: Buffer.alloc(0), framing: "none", complete: true });
      continue;
    }
    const index = out.filter(
      (r) => !/^HTTP\/1\.1 1\d\d/.test(r.head) || r.head.startsWith("HTTP/1.1 101"),
    ).length;
    if (bodiless(index) || status === 204 || status === 304) {
      out.push({ head, body: Buffer.alloc(0), framing: "none", complete: true });
      continue;
    }
    if (/chunked/i.test(field("transfer-encoding") ?? "")) {
      const parts: Buffer[] = [];
      let complete = false;
      for (;;) {
        const line = raw.indexOf("\r\n", at);
        if (line < 0) break;
        const size = Number.parseInt(raw.subarray(at, line).toString("latin1"), 16);
        if (Number.isNaN(size) || line + 2 + size + 2 > raw.length) break;
        at = line + 2;
        if (size === 0) {
          at += 2;
          complete = true;
          break;
        }
        parts.push(raw.subarray(at, at + size));
        at += size + 2;
      }
      out.push({ head, body: Buffer.concat(parts), framing: "chunked", complete });
      if (!complete) break;
      continue;
    }
    const length = field("content-length");
    if (length !== undefined) {
      const body = raw.subarray(at, at + Number(length));
      at += body.length;
      out.push({ head, body, framing: "length", complete: body.length === Number(length) });
      if (body.length < Number(length)) break;
      continue;
    }
    out.push({ head, body: raw.subarray(at), framing: "close", complete: true });
    break;
  }
  return out;
}
