// A TCP proxy in front of a server on loopback that reads the HTTP/1.1 requests going through it
// (heads and Content-Length bodies; speck's client sends nothing else) and, for a share of them
// chosen by a seeded random, answers 503 without forwarding, or resets the connection after
// forwarding part of the request. With both shares at 0 it only records the requests, which is
// how tests count what a push sent. Responses flow back untouched.

import { createConnection, createServer, type Socket } from "node:net";

export interface ProxyOptions {
  /** The port on 127.0.0.1 to forward to. */
  readonly target: number;
  /** Share of requests answered 503 and closed, never forwarded. */
  readonly unavailable?: number;
  /** Share of requests whose connection is reset part-way (after a random part of the request). */
  readonly reset?: number;
  readonly seed?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** What the proxy did with it. */
  readonly fate: "forwarded" | "unavailable" | "reset";
}

export interface FaultsProxy {
  readonly port: number;
  readonly requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** mulberry32: a small seeded generator, so a test's faults are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEAD_END = Buffer.from("\r\n\r\n");

function parseHead(head: Buffer): Omit<RecordedRequest, "fate"> {
  const [requestLine = "", ...lines] = head.toString("latin1").split("\r\n");
  const [method = "", path = ""] = requestLine.split(" ");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method, path, headers };
}

/** Starts the proxy on a free port of 127.0.0.1. */
export async function startFaultsProxy(options: ProxyOptions): Promise<FaultsProxy> {
  const random = seededRandom(options.seed ?? 1);
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port: options.target });
    sockets.add(client).add(upstream);
    client.on("close", () => sockets.delete(client));
    upstream.on("close", () => sockets.delete(upstream));
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end);
    upstream.on("error", end);
    upstream.on("end", () => client.end());
    let buffered = Buffer.alloc(0);
    // body bytes still to forward for the current request, and where to cut it when resetting
    let bodyLeft = 0;
    let cutAfter = Number.POSITIVE_INFINITY;
    const reset = () => {
      client.resetAndDestroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length > 0 && !client.destroyed) {
        if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, buffered.length, cutAfter);
          upstream.write(buffered.subarray(0, take));
          buffered = buffered.subarray(take);
          bodyLeft -= take;
          cutAfter -= take;
          if (cutAfter === 0) return reset();
          continue;
        }
        const headEnd = buffered.indexOf(HEAD_END);
        if (headEnd === -1) return;
        const head = buffered.subarray(0, headEnd + HEAD_END.length);
        buffered = buffered.subarray(head.length);
        const request = parseHead(head);
        const length = Number(request.headers["content-length"] ?? 0);
        const roll = random();
        if (roll < (options.unavailable ?? 0)) {
          requests.push({ ...request, fate: "unavailable" });
          client.end("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
          upstream.destroy();
          return;
        }
        if (roll < (options.unavailable ?? 0) + (options.reset ?? 0)) {
          requests.push({ ...request, fate: "reset" });
          // cut somewhere in the body, or right after the head of a request without one
          cutAfter = Math.floor(random() * length);
          upstream.write(head);
          if (cutAfter === 0) return reset();
          bodyLeft = length;
          continue;
        }
        requests.push({ ...request, fate: "forwarded" });
        upstream.write(head);
        bodyLeft = length;
        cutAfter = Number.POSITIVE_INFINITY;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
