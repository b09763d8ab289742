// One connection's request stream as a pure state machine: bytes in, responses out, in order. The
// socket server feeds it; tests and fuzzers drive it directly with `serveBytes`, no sockets needed.

import type { Pack } from "../pack/read.ts";
import { parseRequest } from "./parse.ts";
import { errorResponse, type Response, respond } from "./respond.ts";

/** What the access log records per response. */
export interface AccessLogEntry {
  /** The request's method, or "-" when the head could not be parsed. */
  method: string;
  /** The raw request-target, or "-". */
  target: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
}

export interface Answer {
  response: Response;
  log: AccessLogEntry;
}

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("latin1");

/** Buffered input of one connection, the request body still to discard, and whether it is done. */
export class ConnectionState {
  private buffer: Uint8Array = new Uint8Array(0);
  private discard = 0;
  /** A response that closes the connection was produced: ignore all further input. */
  closed = false;

  /** Appends received bytes (ignored once closed). */
  receive(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    const joined = new Uint8Array(this.buffer.length + bytes.length);
    joined.set(this.buffer, 0);
    joined.set(bytes, this.buffer.length);
    this.buffer = joined;
  }

  /** True while part of a request head has arrived but not all of it. */
  get midRequest(): boolean {
    return !this.closed && this.discard === 0 && this.buffer.length > 0;
  }

  /** The answer to the next complete request, or undefined until more bytes arrive. */
  next(pack: Pack, date: Uint8Array): Answer | undefined {
    while (!this.closed) {
      if (this.discard > 0) {
        const n = Math.min(this.discard, this.buffer.length);
        this.buffer = this.buffer.subarray(n);
        this.discard -= n;
        if (this.discard > 0) return undefined;
      }
      if (this.buffer.length === 0) return undefined;
      const parsed = parseRequest(this.buffer);
      if (parsed.kind === "incomplete") return undefined;
      if (parsed.kind === "skip") {
        this.buffer = this.buffer.subarray(parsed.consumed);
        continue;
      }
      if (parsed.kind === "error")
        return this.finish(errorResponse(pack, parsed.status, date, false, true), "-", "-");
      this.buffer = this.buffer.subarray(parsed.headLength);
      this.discard = parsed.request.contentLength;
      const { method, target } = parsed.request;
      return this.finish(respond(pack, parsed.request, date), method, latin1(target));
    }
    return undefined;
  }

  /** The 408 sent when the header time-out strikes mid-request. */
  timeout(pack: Pack, date: Uint8Array): Answer {
    return this.finish(errorResponse(pack, 408, date, false, true), "-", "-");
  }

  private finish(response: Response, method: string, target: string): Answer {
    if (response.close) {
      this.closed = true;
      this.buffer = new Uint8Array(0);
    }
    return { response, log: { method, target, status: response.status, bytes: response.bodyBytes } };
  }
}

/**
 * Everything a server sends back for `bytes` received on one connection (the client then closing
 * its side), concatenated: the pure core of the preview server.
 */
export function serveBytes(pack: Pack, bytes: Uint8Array, date: Uint8Array): Uint8Array {
  const state = new ConnectionState();
  state.receive(bytes);
  const out: Uint8Array[] = [];
  for (let answer = state.next(pack, date); answer; answer = state.next(pack, date))
    out.push(...answer.response.chunks);
  return Buffer.concat(out);
}
