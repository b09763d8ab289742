// One HTTP exchange over node:http or node:https with keep-alive: the body is sent in slices
// with backpressure and reported as it goes, the answer's body is collected (registry answers
// are small: a capped size), and an idle socket fails with a NetworkError after the time-out.
// No retries and no auth here: the client layers those on top.

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { NetworkError } from "./retry.ts";

/** A request: the body is bytes so that it can be sent again on a retry. */
export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Called with the count of body bytes handed to the socket so far. */
  readonly onSent?: (bytes: number) => void;
}

/** An answer, its body read in full. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array;
}

/** How a Transport talks to the network. */
export interface TransportOptions {
  /** Fail a request when its socket has been idle this long. */
  readonly timeoutMs: number;
  /** Accept any TLS certificate (for `--insecure` registries). */
  readonly insecureTls: boolean;
}

const SLICE = 256 * 1024;
const MAX_ANSWER = 8 * 1024 * 1024;

/** Sends requests over pooled keep-alive connections. */
export class Transport {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  private readonly https: HttpsAgent;

  constructor(private readonly options: TransportOptions) {
    this.https = new HttpsAgent({
      keepAlive: true,
      maxSockets: 16,
      rejectUnauthorized: !options.insecureTls,
    });
  }

  /** Sends `request` once and resolves with the answer; rejects on network failures. */
  send(request: HttpRequest): Promise<HttpResponse> {
    const { url } = request;
    const secure = url.protocol === "https:";
    const body = request.body;
    const headers: Record<string, string> = { ...request.headers };
    if (body !== undefined || ["POST", "PUT", "PATCH"].includes(request.method)) {
      headers["content-length"] = String(body?.byteLength ?? 0);
    }
    return new Promise((resolve, reject) => {
      const outgoing = (secure ? httpsRequest : httpRequest)(url, {
        method: request.method,
        headers,
        agent: secure ? this.https : this.http,
      });
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        outgoing.destroy();
        reject(error);
      };
      outgoing.setTimeout(this.options.timeoutMs, () =>
        fail(new NetworkError(`no answer from ${url.host} within ${this.options.timeoutMs / 1000} s`)),
      );
      outgoing.on("error", fail);
      outgoing.on("response", (incoming) => {
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on("data", (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size <= MAX_ANSWER) chunks.push(chunk);
        });
        incoming.on("error", fail);
        incoming.on("aborted", () => fail(new NetworkError(`${url.host} closed the connection mid-answer`)));
        incoming.on("end", () => {
          if (settled) return;
          if (!incoming.complete) return fail(new NetworkError(`${url.host} sent a truncated answer`));
          settled = true;
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks),
          });
        });
      });
      void writeBody(outgoing, body, request.onSent).catch(fail);
    });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

async function writeBody(
  outgoing: import("node:http").ClientRequest,
  body: Uint8Array | undefined,
  onSent: ((bytes: number) => void) | undefined,
): Promise<void> {
  if (body === undefined || body.byteLength === 0) {
    outgoing.end();
    return;
  }
  let sent = 0;
  while (sent < body.byteLength) {
    if (outgoing.destroyed) return;
    const slice = body.subarray(sent, sent + SLICE);
    sent += slice.byteLength;
    if (!outgoing.write(slice)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          outgoing.off("drain", done);
          outgoing.off("close", done);
          resolve();
        };
        outgoing.on("drain", done);
        outgoing.on("close", done);
      });
    }
    onSent?.(sent);
  }
  outgoing.end();
}
