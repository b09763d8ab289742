// Decides and serialises the response to one parsed request from the pack: route lookup, method,
// conditionals, range and variant, then the precomputed head plus the few dynamic bytes
// (docs/pack-format.md, "What the server adds").

import { formatHttpDate } from "../pack/http-date.ts";
import type { AccessErrorStatus, ErrorStatus } from "../pack/model.ts";
import type { Pack, PackRoute } from "../pack/read.ts";
import { chooseVariant, evaluateRange, ifRangeHolds, noneMatchHits, notModifiedSince } from "./negotiate.ts";
import type { Request } from "./parse.ts";
import { normaliseTarget } from "./target.ts";

export interface Response {
  /** Bytes to send, in order. */
  chunks: Uint8Array[];
  /** Close the connection after sending. */
  close: boolean;
  status: number;
  /** Body bytes sent (for the access log). */
  bodyBytes: number;
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const EMPTY = new Uint8Array();
/** Statuses after which the connection closes: the request stream can no longer be trusted. */
const CLOSING = new Set<number>([400, 408, 413, 414, 431, 505]);
const KNOWN_METHODS = new Set(["POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);
/** Bytes a prefix redirect may copy into Location unescaped. */
const LOCATION_SAFE = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
  LOCATION_SAFE[c.charCodeAt(0)] = 1;

/** `Date: ...\r\n` for a time in seconds. */
export function dateLine(seconds: number): Uint8Array {
  return encoder.encode(`Date: ${formatHttpDate(seconds)}\r\n`);
}

function tail(close: boolean, keepAlive10: boolean): Uint8Array {
  if (close) return encoder.encode("Connection: close\r\n\r\n");
  if (keepAlive10) return encoder.encode("Connection: keep-alive\r\n\r\n");
  return CRLF;
}

/** The response for an error status (also used before a request could be parsed). */
export function errorResponse(
  pack: Pack,
  status: ErrorStatus | AccessErrorStatus,
  date: Uint8Array,
  head: boolean,
  close: boolean,
  keepAlive10 = false,
  extra?: string,
): Response {
  const route = pack.errors[status];
  if (!route) throw new Error(`the pack has no ${status} response (it has no access section)`);
  const v = route.variants[0]!;
  const closing = close || CLOSING.has(status);
  // the native server sends an extra header line (Content-Range, WWW-Authenticate) right after the status line
  const statusLineEnd = v.full.indexOf(10) + 1;
  const chunks = [
    ...(extra
      ? [v.full.subarray(0, statusLineEnd), encoder.encode(extra), v.full.subarray(statusLineEnd)]
      : [v.full]),
    date,
    tail(closing, keepAlive10 && !closing),
  ];
  if (!head) chunks.push(v.body);
  return { chunks, close: closing, status, bodyBytes: head ? 0 : v.body.length };
}

const HEX = "0123456789ABCDEF";

function percentEncode(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const b of bytes) {
    if (LOCATION_SAFE[b]) out.push(b);
    else out.push(37, HEX.charCodeAt(b >> 4), HEX.charCodeAt(b & 15));
  }
  return Uint8Array.from(out);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function lastSegmentHasDot(path: Uint8Array): boolean {
  for (let i = path.length - 1; i >= 0 && path[i] !== 47; i--) if (path[i] === 46) return true;
  return false;
}

const QUESTION = encoder.encode("?");

function redirect(
  status: number,
  head: Uint8Array,
  suffix: Uint8Array,
  query: Uint8Array | undefined,
  date: Uint8Array,
  close: boolean,
  keepAlive10: boolean,
): Response {
  const chunks = [head, suffix];
  if (query) chunks.push(QUESTION, query);
  chunks.push(CRLF, date, tail(close, keepAlive10));
  return { chunks, close, status, bodyBytes: 0 };
}

/** Decides and serialises the response to `request`. */
export function respond(pack: Pack, request: Request, date: Uint8Array): Response {
  const close =
    request.minor === 1 ? request.connectionClose : !request.connectionKeepAlive || request.connectionClose;
  const keepAlive10 = request.minor === 0 && !close;
  const head = request.method === "HEAD";
  if (request.method !== "GET" && !head) {
    return errorResponse(
      pack,
      KNOWN_METHODS.has(request.method) ? 405 : 501,
      date,
      false,
      close,
      keepAlive10,
    );
  }
  const target = normaliseTarget(request.target);
  if (!target) return errorResponse(pack, 400, date, head, true);

  let route: PackRoute | undefined = pack.lookup(target.path);
  if (route?.kind === "redirect") {
    const query = route.appendQuery ? target.query : undefined;
    return redirect(route.status, route.variants[0]!.full, EMPTY, query, date, close, keepAlive10);
  }
  if (!route) {
    for (const rule of pack.prefixRedirects) {
      if (startsWith(target.path, rule.prefix)) {
        return redirect(
          rule.status,
          rule.head,
          percentEncode(target.path.subarray(rule.prefix.length)),
          rule.appendQuery ? target.query : undefined,
          date,
          close,
          keepAlive10,
        );
      }
    }
    if (pack.spa && !lastSegmentHasDot(target.path)) route = pack.spa;
  }
  if (!route) return errorResponse(pack, 404, date, head, close, keepAlive10);

  const index = chooseVariant(request.acceptEncoding, route.variants);
  const v = route.variants[index]!;
  const notModified =
    request.ifNoneMatch.length > 0
      ? noneMatchHits(request.ifNoneMatch, v.etag)
      : request.ifModifiedSince !== undefined &&
        notModifiedSince(request.ifModifiedSince, route.lastModifiedText);
  if (notModified)
    return { chunks: [v.notModified, date, tail(close, keepAlive10)], close, status: 304, bodyBytes: 0 };

  if (
    !head &&
    request.range &&
    (!request.ifRange || ifRangeHolds(request.ifRange, v.etag, route.lastModifiedText))
  ) {
    const range = evaluateRange(request.range, v.body.length);
    if (range.kind === "unsatisfiable") {
      return errorResponse(
        pack,
        416,
        date,
        false,
        close,
        keepAlive10,
        `Content-Range: bytes */${v.body.length}\r\n`,
      );
    }
    if (range.kind === "range") {
      const length = range.end - range.start + 1;
      const dynamic = encoder.encode(
        `Content-Range: bytes ${range.start}-${range.end}/${v.body.length}\r\nContent-Length: ${length}\r\n`,
      );
      return {
        chunks: [
          v.partial,
          dynamic,
          date,
          tail(close, keepAlive10),
          v.body.subarray(range.start, range.end + 1),
        ],
        close,
        status: 206,
        bodyBytes: length,
      };
    }
  }
  const chunks = [v.full, date, tail(close, keepAlive10)];
  if (!head) chunks.push(v.body);
  return { chunks, close, status: route.status, bodyBytes: head ? 0 : v.body.length };
}
