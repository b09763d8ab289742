// The preview's access front, for sites with access rules (docs/access.md): each request the strict
// parser accepts is judged by IP rules (403), then Basic auth (401), then proxy rules (forwarded by
// proxy.ts); the rest goes to the usual ConnectionState, one request at a time so that responses
// stay in order. The rules come from the access section's bytes, as the native server's will.

import type { Socket } from "node:net";
import { constantTimeEqual, parseBasicCredentials } from "../access/basic.ts";
import { cidrContains, parseAddress } from "../access/cidr.ts";
import { resolveUsers } from "../access/compile.ts";
import { verifyPassword } from "../access/password.ts";
import {
  type AccessRules,
  type AuthRule,
  clientAddress,
  firstRule,
  ipAllowed,
  type ProxyRule,
  underPrefix,
} from "../access/rules.ts";
import { challengeLine, decodeAccessSection } from "../access/section.ts";
import type { Pack } from "../pack/read.ts";
import { type AccessLogEntry, ConnectionState } from "./connection.ts";
import { HEAD_LIMIT, type ParseResult, parseRequest } from "./parse.ts";
import { forward, type ProxyExchange } from "./proxy.ts";
import { errorResponse } from "./respond.ts";
import type { Timeouts } from "./server.ts";
import { normaliseTarget } from "./target.ts";

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
/** A rule path as the bytes a request path is compared with (UTF-8, held one byte per char). */
const asBytes = (path: string) => Buffer.from(path, "utf8").toString("latin1");

/** What happens to one request. */
export type Verdict =
  | { kind: "site" }
  | { kind: "refuse"; status: 401; realm: string }
  | { kind: "refuse"; status: 403 }
  | { kind: "proxy"; rule: ProxyRule; rest: Uint8Array };

/** The rules of one server, with the last Authorization value each auth rule accepted. */
export class AccessFront {
  readonly rules: AccessRules;
  private readonly ip: AccessRules["ip"];
  private readonly auth: AuthRule[];
  private readonly proxy: ProxyRule[];
  private readonly verified: (Uint8Array | undefined)[];

  /** Decodes `section` and reads env/file user sources from `env`; throws AccessError naming the rule. */
  constructor(section: Uint8Array, env: NodeJS.ProcessEnv = process.env) {
    this.rules = resolveUsers(decodeAccessSection(section), env);
    this.ip = this.rules.ip.map((r) => ({ ...r, path: asBytes(r.path) }));
    this.auth = this.rules.auth.map((r) => ({ ...r, path: asBytes(r.path) }));
    this.proxy = this.rules.proxy.map((r) => ({ ...r, path: asBytes(r.path) }));
    this.verified = this.auth.map(() => undefined);
  }

  /** True when the peer's X-Forwarded-* fields are believed. */
  trusts(peer: string): boolean {
    const address = parseAddress(peer);
    return address !== null && this.rules.trustedProxies.some((cidr) => cidrContains(cidr, address));
  }

  /** True when a proxy rule covers the request-target (whose body may then exceed the site's limit). */
  proxies(rawTarget: Uint8Array): boolean {
    const target = normaliseTarget(rawTarget);
    return target !== null && firstRule(this.proxy, latin1(target.path)) !== undefined;
  }

  /** Judges a request for `path` (normalised) from `peer` with `headers`. */
  judge(peer: string, headers: readonly [string, string][], path: Uint8Array): Verdict {
    const at = latin1(path);
    const ipRule = firstRule(this.ip, at);
    if (ipRule) {
      const values = (name: string) => headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
      const peerBytes = parseAddress(peer) ?? new Uint8Array(16);
      const client = clientAddress(peerBytes, values("x-forwarded-for"), this.rules.trustedProxies);
      if (!ipAllowed(ipRule, client)) return { kind: "refuse", status: 403 };
    }
    const authIndex = this.auth.findIndex((r) => underPrefix(r.path, at));
    if (authIndex >= 0 && !this.authorised(authIndex, headers))
      return { kind: "refuse", status: 401, realm: this.auth[authIndex]!.realm };
    const proxyRule = firstRule(this.proxy, at);
    if (proxyRule) {
      const original = this.rules.proxy[this.proxy.indexOf(proxyRule)]!;
      const rest = proxyRule.path === "/" ? path : path.subarray(proxyRule.path.length);
      return { kind: "proxy", rule: original, rest };
    }
    return { kind: "site" };
  }

  private authorised(index: number, headers: readonly [string, string][]): boolean {
    const values = headers.filter(([n]) => n.toLowerCase() === "authorization").map(([, v]) => v);
    if (values.length !== 1) return false;
    const value = Buffer.from(values[0]!, "latin1");
    const cached = this.verified[index];
    if (cached && constantTimeEqual(cached, value)) return true;
    const credentials = parseBasicCredentials(value);
    const source = this.auth[index]!.source;
    if (!credentials || source.kind !== "users" || source.users.length === 0) return false;
    const user = source.users.find((u) => constantTimeEqual(Buffer.from(u.name, "utf8"), credentials.user));
    // an unknown name costs a hash too, so timing does not tell which names exist
    const ok = verifyPassword(user ?? source.users[0]!, credentials.password) && user !== undefined;
    if (ok) this.verified[index] = Uint8Array.from(value);
    return ok;
  }
}

/**
 * A head the strict parser refused only for a body above the site's limit (1 MiB), parsed with the
 * strict parser all the same, so a proxy rule can forward it under its own maxBodySize.
 */
function parseLarge(buffer: Uint8Array): Extract<ParseResult, { kind: "request" }> | undefined {
  const text = latin1(buffer.subarray(0, HEAD_LIMIT));
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  let length = 0;
  const zeroed = text
    .slice(0, end + 4)
    .replace(/(\r\ncontent-length:[ \t]*)(\d+)/gi, (_, name: string, digits: string) => {
      length = Number(digits);
      return `${name}0`;
    });
  const parsed = parseRequest(Buffer.from(zeroed, "latin1"));
  if (parsed.kind !== "request") return undefined;
  return { kind: "request", headLength: end + 4, request: { ...parsed.request, contentLength: length } };
}

/** The header fields of a head the strict parser accepted, in order, names and values as sent. */
function headerFields(head: Uint8Array): [string, string][] {
  const lines = latin1(head).split("\r\n").slice(1);
  const fields: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.push([line.slice(0, colon), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "")]);
  }
  return fields;
}

/** What the socket server hands the front for each connection. */
export interface FrontContext {
  getPack: () => Pack;
  date: () => Uint8Array;
  onRequest: ((entry: AccessLogEntry) => void) | undefined;
  /** The plain preview's time-outs: header (from a request's first byte), idle, send stall. */
  timeouts: Timeouts;
}

/** Unsent response bytes above which the front stops answering pipelined requests until drained. */
const HIGH_WATER = 1 << 20;

/** Serves one connection through `front`: judged requests, proxied ones, and the site's answers. */
export function guardConnection(socket: Socket, front: AccessFront, ctx: FrontContext): void {
  const state = new ConnectionState();
  let buffer: Uint8Array = new Uint8Array(0);
  /** Body bytes still owed to the ConnectionState (which discards them) or to be dropped here. */
  let passThrough = 0;
  let drop = 0;
  let exchange: ProxyExchange | undefined;
  let bodyLeft = 0;
  let closed = false;
  /** The client has shut its sending side: answer what it sent, then close. */
  let ended = false;
  let paused = false;
  let timer: NodeJS.Timeout | undefined;
  let timerForHead = false;
  const peer = socket.remoteAddress ?? "";

  const log = (method: string, target: string, status: number, bytes: number) =>
    ctx.onRequest?.({ method, target, status, bytes });
  const close = () => {
    closed = true;
    socket.end();
  };
  const take = (n: number): Uint8Array => {
    const part = buffer.subarray(0, n);
    buffer = buffer.subarray(n);
    return part;
  };
  /** Lets the ConnectionState answer what it was given. */
  const drainState = () => {
    for (
      let answer = state.next(ctx.getPack(), ctx.date());
      answer;
      answer = state.next(ctx.getPack(), ctx.date())
    ) {
      ctx.onRequest?.(answer.log);
      for (const chunk of answer.response.chunks) if (chunk.length > 0) socket.write(chunk);
      if (answer.response.close) {
        close();
        return;
      }
    }
  };

  /** True while part of a request head has arrived but not all of it. */
  const midRequest = () => !closed && !exchange && passThrough === 0 && drop === 0 && buffer.length > 0;

  /** As the plain preview: 408 when a head stalls, close when idle, give a slow reader time while bytes move. */
  const expire = (): void => {
    timer = undefined;
    if (socket.destroyed || exchange) return;
    if (midRequest()) {
      const answer = state.timeout(ctx.getPack(), ctx.date());
      ctx.onRequest?.(answer.log);
      for (const chunk of answer.response.chunks) if (chunk.length > 0) socket.write(chunk);
      close();
      return;
    }
    if (socket.writableLength > 0) {
      const pending = socket.writableLength;
      timer = setTimeout(
        () => (socket.writableLength >= pending ? socket.destroy() : expire()),
        ctx.timeouts.sendStall,
      );
      return;
    }
    socket.destroy();
  };

  const arm = (): void => {
    if (closed || exchange) {
      clearTimeout(timer);
      timer = undefined;
      return;
    }
    if (midRequest()) {
      if (timer && timerForHead) return;
      clearTimeout(timer);
      timerForHead = true;
      timer = setTimeout(expire, ctx.timeouts.header);
    } else {
      clearTimeout(timer);
      timerForHead = false;
      timer = setTimeout(expire, ctx.timeouts.idle);
    }
  };

  const pump = (): void => {
    serveBuffered();
    if (ended && !closed && !exchange && !paused) close();
    arm();
  };

  const serveBuffered = (): void => {
    while (!closed && !exchange && !paused) {
      if (socket.writableLength > HIGH_WATER) {
        paused = true;
        socket.pause();
        return;
      }
      if (passThrough > 0 || drop > 0) {
        const n = Math.min(passThrough || drop, buffer.length);
        const part = take(n);
        if (passThrough > 0) {
          passThrough -= n;
          state.receive(part);
          drainState();
        } else drop -= n;
        if (passThrough > 0 || drop > 0) return;
        continue;
      }
      if (buffer.length === 0) return;
      let parsed = parseRequest(buffer);
      if (parsed.kind === "incomplete") return;
      if (parsed.kind === "skip") {
        take(parsed.consumed);
        continue;
      }
      const large = parsed.kind === "error" && parsed.status === 413 ? parseLarge(buffer) : undefined;
      if (large && front.proxies(large.request.target)) parsed = large;
      else if (parsed.kind === "error") {
        state.receive(take(buffer.length));
        drainState();
        return;
      }
      const { request } = parsed;
      const target = normaliseTarget(request.target);
      const head = buffer.subarray(0, parsed.headLength);
      const headers = headerFields(head);
      const verdict: Verdict = target ? front.judge(peer, headers, target.path) : { kind: "site" };
      if (verdict.kind === "site") {
        state.receive(take(parsed.headLength));
        passThrough = request.contentLength;
        drainState();
        continue;
      }
      take(parsed.headLength);
      const keepAlive10 = request.minor === 0 && request.connectionKeepAlive && !request.connectionClose;
      const clientClose = request.connectionClose || (request.minor === 0 && !keepAlive10);
      if (verdict.kind === "refuse") {
        const answer = errorResponse(
          ctx.getPack(),
          verdict.status,
          ctx.date(),
          request.method === "HEAD",
          clientClose,
          keepAlive10,
          verdict.status === 401 ? challengeLine(verdict.realm) : undefined,
        );
        for (const chunk of answer.chunks) if (chunk.length > 0) socket.write(chunk);
        log(request.method, latin1(request.target), verdict.status, answer.bodyBytes);
        if (clientClose) {
          close();
          return;
        }
        drop = request.contentLength;
        continue;
      }
      if (request.contentLength > verdict.rule.maxBody) {
        const answer = errorResponse(ctx.getPack(), 413, ctx.date(), request.method === "HEAD", true);
        for (const chunk of answer.chunks) if (chunk.length > 0) socket.write(chunk);
        log(request.method, latin1(request.target), 413, answer.bodyBytes);
        close();
        return;
      }
      const method = request.method;
      const rawTarget = latin1(request.target);
      bodyLeft = request.contentLength;
      exchange = forward(
        {
          rule: verdict.rule,
          method,
          rest: verdict.rest,
          query: target!.query,
          headers,
          minor: request.minor,
          close: clientClose,
          keepAlive10,
          contentLength: request.contentLength,
          peer,
          trustedPeer: front.trusts(peer),
        },
        socket,
        (status) => errorResponse(ctx.getPack(), status, ctx.date(), method === "HEAD", true),
        (outcome) => {
          exchange = undefined;
          log(method, rawTarget, outcome.status, outcome.bytes);
          if (outcome.close || bodyLeft > 0) {
            if (!socket.destroyed) close();
            return;
          }
          socket.resume();
          pump();
        },
      );
      feedBody();
    }
  };

  /** Hands the forwarded request's body to the exchange as it arrives; holds later requests back. */
  const feedBody = () => {
    if (!exchange) return;
    if (bodyLeft > 0 && buffer.length > 0) {
      const part = take(Math.min(bodyLeft, buffer.length));
      bodyLeft -= part.length;
      exchange.write(part);
    }
    if (bodyLeft === 0 && buffer.length > 0) socket.pause();
  };

  socket.setNoDelay(true);
  // a proxied answer may still be on its way when the client shuts its side: keep ours open
  socket.allowHalfOpen = true;
  socket.on("end", () => {
    ended = true;
    if (exchange && bodyLeft > 0)
      exchange.abort(); // the body will never be complete
    else pump();
  });
  arm();
  socket.on("drain", () => {
    if (!paused) return;
    paused = false;
    socket.resume();
    pump();
  });
  socket.on("data", (chunk: Buffer) => {
    if (closed) return;
    const joined = new Uint8Array(buffer.length + chunk.length);
    joined.set(buffer, 0);
    joined.set(chunk, buffer.length);
    buffer = joined;
    if (exchange) feedBody();
    else pump();
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => {
    clearTimeout(timer);
    exchange?.abort();
  });
}
