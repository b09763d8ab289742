// The preview's reverse proxy: one request forwarded to an upstream `http://host:port/base` with
// X-Forwarded-For/-Proto/-Host, hop-by-hop headers removed (RFC 9110, section 7.6.1), and the
// response streamed back (with its Content-Length, or chunked when the upstream gave none). 502 when
// the upstream cannot be reached or answers garbage, 504 when it stays silent too long; an upstream
// that dies mid-response cuts the client's connection, so the client sees a truncated response.

import { request as httpRequest, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { HOP_BY_HOP, type ProxyRule } from "../access/rules.ts";

const encoder = new TextEncoder();

const HOP_BY_HOP_FIELDS: ReadonlySet<string> = new Set(HOP_BY_HOP);

/** Methods without a defined meaning for a request body: no Content-Length: 0 is added for them. */
const BODILESS_METHODS = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"]);

/** Spaces and tabs (OWS) around a value, the only white space HTTP trims. */
const trimOws = (text: string) => text.replace(/^[ \t]+|[ \t]+$/g, "");

/** Header names a message's Connection fields list (they are hop-by-hop too). */
function connectionOptions(pairs: readonly [string, string][]): Set<string> {
  const names = new Set<string>();
  for (const [name, value] of pairs)
    if (name.toLowerCase() === "connection")
      for (const token of value.split(",")) names.add(trimOws(token).toLowerCase());
  return names;
}

/**
 * `pairs` without hop-by-hop fields, nor those the Connection field names (bar `keep`: a request's
 * Content-Length frames the body that is forwarded), nor names in `drop`.
 */
function endToEnd(
  pairs: readonly [string, string][],
  drop: ReadonlySet<string> = new Set(),
  keep: ReadonlySet<string> = new Set(),
): [string, string][] {
  const listed = connectionOptions(pairs);
  return pairs.filter(([name]) => {
    const lower = name.toLowerCase();
    return keep.has(lower) || (!HOP_BY_HOP_FIELDS.has(lower) && !listed.has(lower) && !drop.has(lower));
  });
}

/** What the access front knows of the request being forwarded. */
export interface ProxiedRequest {
  rule: ProxyRule;
  method: string;
  /** The path after the rule's prefix ("" or "/rest"), decoded, and the raw query (or undefined). */
  rest: Uint8Array;
  query: Uint8Array | undefined;
  headers: [string, string][];
  minor: 0 | 1;
  /** The client asked to close, or spoke HTTP/1.0 without keep-alive. */
  close: boolean;
  /** The HTTP/1.0 client asked for keep-alive. */
  keepAlive10: boolean;
  contentLength: number;
  /** The connection's peer, and whether it is a trusted proxy (its X-Forwarded-* are kept). */
  peer: string;
  trustedPeer: boolean;
}

/** How one exchange ended, for the access log and the connection. */
export interface ProxyOutcome {
  status: number;
  bytes: number;
  close: boolean;
}

/** The body of a forwarded request arrives through `write`; `abort` when the client has gone. */
export interface ProxyExchange {
  write(bytes: Uint8Array): void;
  abort(): void;
}

const URL_SAFE = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/")
  URL_SAFE[c.charCodeAt(0)] = 1;

/** Bytes percent-encoded where a request-target may not hold them raw (`keep` also stays, e.g. "%?"). */
function encodeTarget(bytes: Uint8Array, keep = ""): string {
  let out = "";
  for (const b of bytes)
    out +=
      URL_SAFE[b] || keep.includes(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/** The request-target sent upstream: base + the rest of the path (re-encoded) + the query. */
export function upstreamTarget(base: string, rest: Uint8Array, query: Uint8Array | undefined): string {
  // the base is a URL path, percent-encoded already (its "%" stays)
  const path = `${encodeTarget(encoder.encode(base), "%")}${encodeTarget(rest)}` || "/";
  return query === undefined ? path : `${path}?${encodeTarget(query, "%?")}`;
}

/** The headers sent upstream (name, value, ...): the client's end-to-end fields and the X-Forwarded-* trio. */
export function upstreamHeaders(
  req: Pick<ProxiedRequest, "rule" | "method" | "headers" | "peer" | "trustedPeer">,
): string[] {
  const drop = new Set([
    "expect",
    ...(req.trustedPeer ? [] : ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]),
  ]);
  const kept = endToEnd(req.headers, drop, new Set(["content-length"]));
  const value = (name: string) => kept.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  const forwardedFor = [...value("x-forwarded-for"), req.peer.replace(/^::ffff:(?=\d+\.)/, "")].join(", ");
  const host = value("host")[0];
  const out = kept.filter(([n]) => !/^x-forwarded-(for|proto|host)$/i.test(n)).flat();
  // HTTP/1.0 clients may send no Host; the upstream speaks HTTP/1.1, which requires one
  if (host === undefined) {
    const name = req.rule.host.includes(":") ? `[${req.rule.host}]` : req.rule.host;
    out.push("Host", req.rule.port === 80 ? name : `${name}:${req.rule.port}`);
  }
  out.push("X-Forwarded-For", forwardedFor, "X-Forwarded-Proto", value("x-forwarded-proto")[0] ?? "http");
  const forwardedHost = value("x-forwarded-host")[0] ?? host;
  if (forwardedHost !== undefined) out.push("X-Forwarded-Host", forwardedHost);
  // a request without a body says so where its method defines one (RFC 9110, 8.6), rather than
  // leaving Node to frame an empty chunked body
  if (value("content-length").length === 0 && !BODILESS_METHODS.has(req.method.toUpperCase()))
    out.push("Content-Length", "0");
  return out;
}

/** The client's head for an upstream response, and how its body is framed (docs/access.md). */
export function clientHead(
  status: number,
  statusMessage: string | undefined,
  rawHeaders: readonly string[],
  req: Pick<ProxiedRequest, "method" | "minor" | "close">,
): { head: Uint8Array; chunked: boolean; close: boolean } {
  const pairs: [string, string][] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  const noBody = req.method === "HEAD" || status === 204 || status === 304;
  const has = (name: string) => pairs.some(([n]) => n.toLowerCase() === name);
  const hasLength = has("content-length") && !has("transfer-encoding");
  const chunked = !noBody && !hasLength && req.minor === 1;
  const close = req.close || (!noBody && !hasLength && req.minor === 0);
  const fields = endToEnd(pairs, new Set(hasLength || noBody ? [] : ["content-length"]));
  const lines = [
    `HTTP/1.1 ${status} ${statusMessage || ""}`.replace(/[ \t]+$/, ""),
    ...fields.map(([n, v]) => `${n}: ${v}`),
  ];
  if (chunked) lines.push("Transfer-Encoding: chunked");
  if (close) lines.push("Connection: close");
  else if (req.minor === 0) lines.push("Connection: keep-alive");
  // the upstream's bytes as they came (Node reads header text as latin1)
  return { head: Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), chunked, close };
}

/**
 * Forwards `req` to its rule's upstream and streams the answer to `client`; `failure` gives the
 * bytes of a 502 or 504 (the pack's error responses, closing the connection); `done` is called once
 * when the exchange is over (the connection is then reusable unless `close`).
 */
export function forward(
  req: ProxiedRequest,
  client: Socket,
  failure: (status: 502 | 504) => { chunks: readonly Uint8Array[]; bodyBytes: number },
  done: (outcome: ProxyOutcome) => void,
): ProxyExchange {
  const { rule } = req;
  let finished = false;
  let headSent = false;
  let bytes = 0;
  const finish = (outcome: ProxyOutcome) => {
    if (finished) return;
    finished = true;
    clearTimeout(connectTimer);
    upstream.destroy();
    done(outcome);
  };
  /** The upstream failed before its head arrived: answer 502/504; after it, cut the client off. */
  const fail = (status: 502 | 504) => {
    if (finished) return;
    if (headSent) {
      client.destroy();
      finish({ status, bytes, close: true });
      return;
    }
    // the request body may be unsent: the stream cannot be trusted, so the connection closes
    const answer = failure(status);
    for (const chunk of answer.chunks) if (chunk.length > 0) client.write(chunk);
    finish({ status, bytes: answer.bodyBytes, close: true });
  };

  const upstream = httpRequest({
    host: rule.host,
    port: rule.port,
    method: req.method,
    path: upstreamTarget(rule.base, req.rest, req.query),
    headers: upstreamHeaders(req),
    setHost: false,
    agent: false,
  });
  const connectTimer = setTimeout(() => fail(504), rule.connectTimeout);
  upstream.on("socket", (socket) => {
    socket.once("connect", () => {
      clearTimeout(connectTimer);
      upstream.setTimeout(rule.timeout, () => fail(504));
    });
  });
  upstream.on("error", () => fail(502));
  upstream.on("response", (res: IncomingMessage) => respond(res));
  if (req.headers.some(([n, v]) => n.toLowerCase() === "expect" && /^100-continue$/i.test(v.trim())))
    client.write("HTTP/1.1 100 Continue\r\n\r\n");
  let bodyLeft = req.contentLength;
  if (bodyLeft === 0) upstream.end();

  function respond(res: IncomingMessage): void {
    if (finished) return; // a 502 or 504 already went out
    const status = res.statusCode ?? 502;
    const { head, chunked, close } = clientHead(status, res.statusMessage, res.rawHeaders, req);
    client.write(head);
    headSent = true;
    res.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (chunked) client.write(`${chunk.length.toString(16)}\r\n`);
      let more = client.write(chunk);
      if (chunked) more = client.write("\r\n");
      if (!more) {
        res.pause();
        client.once("drain", () => res.resume());
      }
    });
    res.on("close", () => {
      if (!res.complete) return fail(502);
      if (chunked) client.write("0\r\n\r\n");
      finish({ status, bytes, close });
    });
  }

  return {
    write(chunk) {
      if (finished || bodyLeft === 0) return;
      bodyLeft -= chunk.length;
      upstream.write(chunk);
      if (bodyLeft === 0) upstream.end();
    },
    abort() {
      finish({ status: 499, bytes, close: true });
    },
  };
}
