// The request a proxy sends upstream, in the IR: the bytes src/preview/proxy.ts hands to Node's
// http.request and Node writes (docs/access.md, "The reverse proxy"): the method in capitals, the
// base path and the rest of the decoded path re-encoded, the query, the client's end-to-end fields
// (hop-by-hop ones and those its Connection fields name removed), Host, the X-Forwarded-* trio,
// `Content-Length: 0` for a request without a body whose method defines one, and `Connection: close`. Also the peer's address as text.

import { HOP_BY_HOP } from "../../../access/rules.ts";
import type { FuncBuilder, ProgramBuilder } from "../../ir/builder.ts";
import type { Reg } from "../../ir/types.ts";
import { emitDecimal } from "../decimal.ts";
import { Q } from "./layout.ts";
import { emitAsciiEqual } from "./resolve.ts";

const FNV_BASIS = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

/** FNV-1a (64 bits) of a name with A-Z folded to a-z, as `name_hash` computes it. */
export function nameHash(name: string | Uint8Array): bigint {
  const bytes = typeof name === "string" ? new TextEncoder().encode(name) : name;
  let h = FNV_BASIS;
  for (let b of bytes) {
    if (b >= 65 && b <= 90) b |= 32;
    h = BigInt.asUintN(64, (h ^ BigInt(b)) * FNV_PRIME);
  }
  return h;
}

/** Fields a proxy never forwards, and Expect, which it answers itself. */
const DROPPED = [...HOP_BY_HOP, "expect"];
const FORWARDED = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"];
/** Methods whose requests without a body get no Content-Length: 0 (RFC 9110, 8.6), as the preview sends them. */
const BODILESS_METHODS = ["get", "head", "delete", "options", "trace", "connect"];
/** Names in the drop set of one request: the fixed ones and Connection's tokens (a head of 8 KiB holds at most 4096). */
const MAX_TOKENS = 4096 + DROPPED.length + FORWARDED.length;

function hashWords(names: readonly string[]): Uint8Array {
  const out = new Uint8Array(names.length * 8);
  const view = new DataView(out.buffer);
  names.forEach((n, i) => {
    view.setBigUint64(i * 8, nameHash(n), true);
  });
  return out;
}

/** Characters a request-target keeps unencoded (unreserved, sub-delims, ":", "@", "/"), as a bit table. */
function safeTable(extra: string): Uint8Array {
  const table = new Uint8Array(32);
  for (const c of `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/${extra}`)
    table[c.charCodeAt(0) >> 3]! |= 1 << (c.charCodeAt(0) & 7);
  return table;
}

/** Emits `name_hash(ptr, len)` → nameHash of the bytes. */
export function emitNameHash(p: ProgramBuilder): void {
  if (p.has("name_hash")) return;
  p.func("name_hash", {}, (f) => {
    f.add("a1", "a0", "a1").mov("a2", FNV_BASIS).mov("a4", FNV_PRIME);
    f.label("byte").br("geu", "a0", "a1", "done").load(1, "a3", "a0").add("a0", "a0", 1);
    f.sub("a5", "a3", 65).br("gtu", "a5", 25, "mix").or("a3", "a3", 32);
    f.label("mix").xor("a2", "a2", "a3").mul("a2", "a2", "a4").jmp("byte");
    f.label("done").mov("a0", "a2").ret();
  });
}

/** Emits `ph_put(ptr, len, out)` → out + len, the bytes copied there. */
export function emitPutBytes(p: ProgramBuilder): void {
  if (p.has("ph_put")) return;
  p.func("ph_put", {}, (f) => {
    f.mov("a3", 0);
    f.label("byte").br("geu", "a3", "a1", "done").load(1, "a4", { base: "a0", index: "a3" });
    f.store(1, "a4", { base: "a2", index: "a3" }).add("a3", "a3", 1).jmp("byte");
    f.label("done").add("a0", "a2", "a1").ret();
  });
}

/** Appends the bytes at a0 (length a1) at s0, the output cursor. */
function putAt(f: FuncBuilder): void {
  f.mov("a2", "s0").call("ph_put").mov("s0", "a0");
}

/** Appends a literal (rodata) at s0. */
function putText(f: FuncBuilder, symbol: string, length: number): void {
  f.addr("a0", symbol).mov("a1", length);
  putAt(f);
}

/**
 * Emits `ph_encode(ptr, len, table, out)` → the end of what it wrote at out: the bytes, each one
 * outside the table's characters as %XX (upper-case hex).
 */
function emitEncode(p: ProgramBuilder): void {
  if (p.has("ph_encode")) return;
  p.func("ph_encode", {}, (f) => {
    f.add("a1", "a0", "a1");
    f.label("byte").br("geu", "a0", "a1", "done").load(1, "a4", "a0").add("a0", "a0", 1);
    // bit (c mod 64) of the table's word c / 64 (shift counts are taken mod 64)
    f.shr("a5", "a4", 6)
      .load(8, "a5", { base: "a2", index: "a5", scale: 8 })
      .shr("a5", "a5", "a4")
      .and("a5", "a5", 1);
    f.br("eq", "a5", 0, "escape").store(1, "a4", "a3").add("a3", "a3", 1).jmp("byte");
    f.label("escape").store(1, 37, "a3");
    for (const [offset, shift] of [
      [1, 4],
      [2, 0],
    ] as const) {
      const digit = f.newLabel("digit");
      f.shr("a5", "a4", shift).and("a5", "a5", 15).add("a5", "a5", 48).br("ltu", "a5", 58, digit);
      f.add("a5", "a5", 7).label(digit).store(1, "a5", { base: "a3", offset });
    }
    f.add("a3", "a3", 3).jmp("byte");
    f.label("done").mov("a0", "a3").ret();
  });
}

/** Appends ptr a0, length a1 at s0, encoded with the table `symbol`. */
function encodeAt(f: FuncBuilder, symbol: string): void {
  f.addr("a2", symbol).mov("a3", "s0").call("ph_encode").mov("s0", "a0");
}

/** Branches to `to` when the byte in `r` is SP or HT. */
function ifSpace(f: FuncBuilder, r: Reg, to: string): void {
  f.br("eq", r, 32, to).br("eq", r, 9, to);
}

/**
 * Emits `ph_field(line)` → a0: the next line, a1: the value, a2: its end (trimmed of SP and HT), a3:
 * the name's end, for a header line the parser accepted (a0 = the line's end when it is the blank one).
 */
export function emitField(p: ProgramBuilder): void {
  if (p.has("ph_field")) return;
  p.func("ph_field", {}, (f) => {
    f.mov("a4", "a0").load(2, "a1", "a0").br("eq", "a1", 0x0a0d, "blank");
    f.label("name").load(1, "a1", "a4").add("a4", "a4", 1).br("ne", "a1", 58, "name");
    f.sub("a3", "a4", 1);
    f.label("ows").load(1, "a1", "a4");
    ifSpace(f, "a1", "skip");
    f.mov("a1", "a4").jmp("value");
    f.label("skip").add("a4", "a4", 1).jmp("ows");
    f.label("value").load(1, "a5", "a4").br("eq", "a5", 13, "cr").add("a4", "a4", 1).jmp("value");
    f.label("cr").mov("a2", "a4").add("a0", "a4", 2);
    f.label("trim").br("eq", "a2", "a1", "done").load(1, "a5", { base: "a2", offset: -1 });
    ifSpace(f, "a5", "back");
    f.jmp("done");
    f.label("back").sub("a2", "a2", 1).jmp("trim");
    f.label("blank").add("a0", "a0", 2).mov("a3", 0);
    f.label("done").ret();
  });
}

/** proxy_head's locals in its frame. */
const L = {
  /** (pointer, length) of the first kept Host, X-Forwarded-Proto and X-Forwarded-Host values. */
  host: 0,
  proto: 16,
  forwardedHost: 32,
  /** SEEN bits. */
  seen: 48,
  /** The first header line; the current line's value, its end and its name's end. */
  fields: 56,
  value: 64,
  valueEnd: 72,
  nameEnd: 80,
} as const;
const SEEN = {
  /** Node adds no Content-Length: the request has one, or its method is one of BODILESS_METHODS. */
  length: 1,
  /** An X-Forwarded-For field passed the drop set (the peer is trusted). */
  forwardedFor: 2,
  /** Expect: 100-continue. */
  expect: 4,
} as const;

const LITERALS = {
  ph_version: " HTTP/1.1\r\n",
  ph_sep: ": ",
  ph_crlf: "\r\n",
  ph_host: "Host: ",
  ph_xff: "X-Forwarded-For: ",
  ph_comma: ", ",
  ph_xfp: "X-Forwarded-Proto: ",
  ph_http: "http",
  ph_xfh: "X-Forwarded-Host: ",
  ph_tail: "Connection: close\r\n",
  ph_length0: "Content-Length: 0\r\n",
  ph_continue: "100-continue",
} as const;
type Literal = keyof typeof LITERALS;
const put = (f: FuncBuilder, name: Literal) => putText(f, name, LITERALS[name].length);

/**
 * Emits the drop set (bss): `ph_drop_init(count)` starts it with the first `count` of the hop-by-hop
 * fields, Expect and the X-Forwarded-* trio (in that order), `ph_drop_add(hash)`, `ph_listed(hash)` → 1 or 0.
 */
export function emitDropSet(p: ProgramBuilder): void {
  if (p.has("ph_drop_init")) return;
  p.rodata("ph_dropped", hashWords([...DROPPED, ...FORWARDED]), 8);
  p.bss("ph_drop", 8 + MAX_TOKENS * 8, 8);
  p.func("ph_drop_init", {}, (f) => {
    f.mov("a1", "a0").addr("a2", "ph_drop").store(8, "a1", "a2").addr("a3", "ph_dropped");
    f.label("copy").sub("a1", "a1", 1).load(8, "a4", { base: "a3", index: "a1", scale: 8 });
    f.shl("a5", "a1", 3).add("a5", "a5", "a2").store(8, "a4", { base: "a5", offset: 8 });
    f.br("ne", "a1", 0, "copy").ret();
  });
  p.func("ph_drop_add", {}, (f) => {
    f.addr("a2", "ph_drop").load(8, "a1", "a2").br("geu", "a1", MAX_TOKENS, "full");
    f.shl("a3", "a1", 3).add("a3", "a3", "a2").store(8, "a0", { base: "a3", offset: 8 });
    f.add("a1", "a1", 1).store(8, "a1", "a2");
    f.label("full").ret();
  });
  // ph_tokens(value, end) → 1 when one was "upgrade": each comma-separated token of a Connection
  // value (trimmed of SP and HT) joins the drop set
  emitNameHash(p);
  p.func("ph_tokens", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a1").mov("s2", 0);
    f.label("token").br("geu", "s0", "s1", "done").load(1, "a0", "s0").br("eq", "a0", 44, "skip");
    ifSpace(f, "a0", "skip");
    f.mov("a0", "s0");
    f.label("scan")
      .br("geu", "s0", "s1", "end")
      .load(1, "a2", "s0")
      .br("eq", "a2", 44, "end")
      .add("s0", "s0", 1)
      .jmp("scan");
    f.label("end").mov("a2", "s0");
    f.label("trim").load(1, "a3", { base: "a2", offset: -1 });
    ifSpace(f, "a3", "back");
    f.sub("a1", "a2", "a0").call("name_hash").br("ne", "a0", nameHash("upgrade"), "add").mov("s2", 1);
    f.label("add").call("ph_drop_add").jmp("token");
    f.label("back").sub("a2", "a2", 1).jmp("trim");
    f.label("skip").add("s0", "s0", 1).jmp("token");
    f.label("done").mov("a0", "s2").ret();
  });
  p.func("ph_listed", {}, (f) => {
    f.addr("a2", "ph_drop").load(8, "a1", "a2");
    f.label("next").br("eq", "a1", 0, "no").load(8, "a3", { base: "a2", index: "a1", scale: 8 });
    f.sub("a1", "a1", 1).br("ne", "a3", "a0", "next").mov("a0", 1).ret();
    f.label("no").mov("a0", 0).ret();
  });
}

/**
 * Emits `proxy_head(out, q)` → the end of the head written at `out` for the request that Q at `q`
 * describes; sets Q.end and Q.expect.
 */
export function emitProxyHead(p: ProgramBuilder): void {
  if (p.has("proxy_head")) return;
  emitNameHash(p);
  emitPutBytes(p);
  emitEncode(p);
  emitField(p);
  emitDropSet(p);
  emitDecimal(p);
  emitAsciiEqual(p);
  for (const [name, text] of Object.entries(LITERALS)) p.rodata(name, text);
  p.rodata("ph_path_safe", safeTable(""), 8);
  p.rodata("ph_query_safe", safeTable("%?"), 8);
  p.rodata("ph_bodiless", hashWords(BODILESS_METHODS), 8);
  const H = (name: string) => nameHash(name);

  /** Calls ph_field on the line at s2: s3 its start, s2 the next line; the value in the frame; branches to `end` after the last. */
  const field = (f: FuncBuilder, end: string) => {
    f.mov("s3", "s2").mov("a0", "s2").call("ph_field").br("eq", "a3", 0, end).mov("s2", "a0");
    f.store(8, "a1", { base: "sp", offset: L.value }).store(8, "a2", { base: "sp", offset: L.valueEnd });
    f.store(8, "a3", { base: "sp", offset: L.nameEnd });
    f.mov("a0", "s3").sub("a1", "a3", "s3").call("name_hash").mov("s4", "a0");
  };
  const value = (f: FuncBuilder) =>
    f
      .load(8, "a0", { base: "sp", offset: L.value })
      .load(8, "a1", { base: "sp", offset: L.valueEnd })
      .sub("a1", "a1", "a0");

  // s0 the output, s1 Q, s2 the line cursor, s3 the line's start, s4 its name's hash
  p.func("proxy_head", { frame: 96, saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a1");
    for (const at of [L.host, L.proto, L.forwardedHost, L.seen]) f.store(8, 0, { base: "sp", offset: at });
    // the method in capitals (Node upper-cases it); is it one Node sends no Content-Length for?
    f.load(8, "s2", { base: "s1", offset: Q.head }).mov("s3", "s0");
    f.label("method").load(1, "a0", "s2").add("s2", "s2", 1).br("eq", "a0", 32, "methodEnd");
    f.sub("a1", "a0", 97).br("gtu", "a1", 25, "upper").sub("a0", "a0", 32);
    f.label("upper").store(1, "a0", "s0").add("s0", "s0", 1).jmp("method");
    f.label("methodEnd").mov("a0", "s3").sub("a1", "s0", "s3").call("name_hash").addr("a1", "ph_bodiless");
    f.mov("a2", 0);
    f.label("bodiless").load(8, "a3", { base: "a1", index: "a2", scale: 8 }).br("eq", "a3", "a0", "nobody");
    f.add("a2", "a2", 1).br("ltu", "a2", BODILESS_METHODS.length, "bodiless").jmp("path");
    f.label("nobody").store(8, SEEN.length, { base: "sp", offset: L.seen });
    // " " base rest, or "/" when both are empty; "?" and the query when there was a "?"
    f.label("path").store(1, 32, "s0").add("s0", "s0", 1).mov("s3", "s0");
    // the base is a URL path, percent-encoded already: its "%" stays (so does "?": it has none)
    f.load(8, "a0", { base: "s1", offset: Q.base }).load(8, "a1", { base: "s1", offset: Q.baseLen });
    encodeAt(f, "ph_query_safe");
    f.load(8, "a0", { base: "s1", offset: Q.rest }).load(8, "a1", { base: "s1", offset: Q.restLen });
    encodeAt(f, "ph_path_safe");
    f.br("ne", "s0", "s3", "query");
    f.store(1, 47, "s0").add("s0", "s0", 1);
    f.label("query").load(8, "a0", { base: "s1", offset: Q.query }).br("eq", "a0", 0, "version");
    f.store(1, 63, "s0").add("s0", "s0", 1).load(8, "a1", { base: "s1", offset: Q.queryLen });
    encodeAt(f, "ph_query_safe");
    f.label("version");
    put(f, "ph_version");
    f.label("eoline").load(1, "a0", "s2").add("s2", "s2", 1).br("ne", "a0", 10, "eoline");
    f.store(8, "s2", { base: "sp", offset: L.fields });

    // pass 1: the drop set, with the names the Connection fields list
    f.mov("a0", DROPPED.length)
      .load(8, "a1", { base: "s1", offset: Q.trusted })
      .br("ne", "a1", 0, "dropInit");
    f.mov("a0", DROPPED.length + FORWARDED.length);
    f.label("dropInit").call("ph_drop_init");
    f.label("listLine");
    field(f, "pass2");
    f.br("ne", "s4", H("connection"), "listLine").load(8, "a0", { base: "sp", offset: L.value });
    f.load(8, "a1", { base: "sp", offset: L.valueEnd }).call("ph_tokens").jmp("listLine");

    // pass 2: the fields that are forwarded
    f.label("pass2").load(8, "s2", { base: "sp", offset: L.fields });
    f.label("line");
    field(f, "added");
    f.br("ne", "s4", H("expect"), "length");
    value(f);
    f.addr("a2", "ph_continue").mov("a3", LITERALS.ph_continue.length).call("ascii_equal");
    f.br("eq", "a0", 0, "line").load(8, "a0", { base: "sp", offset: L.seen }).or("a0", "a0", SEEN.expect);
    f.store(8, "a0", { base: "sp", offset: L.seen }).jmp("line");
    // Content-Length frames the forwarded body: never dropped
    f.label("length").br("ne", "s4", H("content-length"), "listed");
    f.load(8, "a0", { base: "sp", offset: L.seen }).or("a0", "a0", SEEN.length);
    f.store(8, "a0", { base: "sp", offset: L.seen }).jmp("copy");
    f.label("listed").mov("a0", "s4").call("ph_listed").br("ne", "a0", 0, "line");
    f.br("ne", "s4", H("x-forwarded-for"), "proto");
    f.load(8, "a0", { base: "sp", offset: L.seen }).or("a0", "a0", SEEN.forwardedFor);
    f.store(8, "a0", { base: "sp", offset: L.seen }).jmp("line");
    for (const [name, slot, next] of [
      ["x-forwarded-proto", L.proto, "fhost"],
      ["x-forwarded-host", L.forwardedHost, "host"],
      ["host", L.host, "copy"],
    ] as const) {
      f.label(name === "x-forwarded-proto" ? "proto" : name === "host" ? "host" : "fhost");
      f.br("ne", "s4", H(name), next).load(8, "a0", { base: "sp", offset: slot });
      const keep = name === "host" ? "copy" : "line";
      f.br("ne", "a0", 0, keep);
      value(f);
      f.store(8, "a0", { base: "sp", offset: slot })
        .store(8, "a1", { base: "sp", offset: slot + 8 })
        .jmp(keep);
    }
    // Name: value CRLF
    f.label("copy").mov("a0", "s3").load(8, "a1", { base: "sp", offset: L.nameEnd }).sub("a1", "a1", "s3");
    putAt(f);
    put(f, "ph_sep");
    value(f);
    putAt(f);
    put(f, "ph_crlf");
    f.jmp("line");

    // the end of the client's head; then what the proxy adds
    f.label("added").add("a0", "s2", 2).store(8, "a0", { base: "s1", offset: Q.end });
    f.load(8, "a0", { base: "sp", offset: L.host }).br("ne", "a0", 0, "xff");
    put(f, "ph_host");
    f.load(8, "a0", { base: "s1", offset: Q.host }).load(8, "a1", { base: "s1", offset: Q.hostLen });
    f.mov("a2", 0);
    f.label("colon").br("geu", "a2", "a1", "bare").load(1, "a3", { base: "a0", index: "a2" });
    f.add("a2", "a2", 1).br("ne", "a3", 58, "colon");
    f.store(1, 91, "s0").add("s0", "s0", 1);
    putAt(f);
    f.store(1, 93, "s0").add("s0", "s0", 1).jmp("port");
    f.label("bare");
    putAt(f);
    f.label("port").load(8, "a0", { base: "s1", offset: Q.port }).br("eq", "a0", 80, "hostEnd");
    f.store(1, 58, "s0").add("a1", "s0", 1).mov("a2", 0).call("decimal").mov("s0", "a0");
    f.label("hostEnd");
    put(f, "ph_crlf");
    // X-Forwarded-For: a trusted peer's values, then the peer
    f.label("xff");
    put(f, "ph_xff");
    f.load(8, "a0", { base: "sp", offset: L.seen })
      .and("a0", "a0", SEEN.forwardedFor)
      .br("eq", "a0", 0, "peer");
    f.load(8, "s2", { base: "sp", offset: L.fields });
    f.label("xffLine");
    field(f, "peer");
    f.br("ne", "s4", H("x-forwarded-for"), "xffLine");
    value(f);
    putAt(f);
    put(f, "ph_comma");
    f.jmp("xffLine");
    f.label("peer")
      .load(8, "a0", { base: "s1", offset: Q.peer })
      .load(8, "a1", { base: "s1", offset: Q.peerLen });
    putAt(f);
    put(f, "ph_crlf");
    put(f, "ph_xfp");
    f.load(8, "a0", { base: "sp", offset: L.proto }).load(8, "a1", { base: "sp", offset: L.proto + 8 });
    f.br("ne", "a0", 0, "proto_value").addr("a0", "ph_http").mov("a1", 4);
    f.label("proto_value");
    putAt(f);
    put(f, "ph_crlf");
    f.load(8, "a0", { base: "sp", offset: L.forwardedHost }).load(8, "a1", {
      base: "sp",
      offset: L.forwardedHost + 8,
    });
    f.br("ne", "a0", 0, "xfh");
    f.load(8, "a0", { base: "sp", offset: L.host }).load(8, "a1", { base: "sp", offset: L.host + 8 });
    f.br("eq", "a0", 0, "tail");
    f.label("xfh")
      .store(8, "a0", { base: "sp", offset: L.value })
      .store(8, "a1", { base: "sp", offset: L.valueEnd });
    put(f, "ph_xfh");
    f.load(8, "a0", { base: "sp", offset: L.value }).load(8, "a1", { base: "sp", offset: L.valueEnd });
    putAt(f);
    put(f, "ph_crlf");
    f.label("tail")
      .load(8, "a0", { base: "sp", offset: L.seen })
      .and("a1", "a0", SEEN.length)
      .br("ne", "a1", 0, "close");
    put(f, "ph_length0");
    f.label("close");
    put(f, "ph_tail");
    put(f, "ph_crlf");
    f.load(8, "a0", { base: "sp", offset: L.seen }).shr("a0", "a0", 2).and("a0", "a0", 1);
    f.store(8, "a0", { base: "s1", offset: Q.expect }).mov("a0", "s0").ret();
  });
}

/**
 * Emits `address_text(address, out)` → the end of the text written: an IPv4 or IPv4-mapped address
 * as a dotted quad, another IPv6 address as Node's remoteAddress shows it (libuv's inet_ntop: the
 * first longest run of two or more zero groups as "::", lower-case hex, "::a.b.c.d" when only the
 * last two groups are not zero).
 */
export function emitAddressText(p: ProgramBuilder): void {
  if (p.has("address_text")) return;
  emitDecimal(p);
  p.func("address_text", { saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a1");
    f.load(8, "a2", "s0").load(4, "a3", { base: "s0", offset: 8 }).br("ne", "a2", 0, "v6");
    f.br("eq", "a3", 0xffff0000n, "quad");
    // the first longest run of zero groups: s2 its start, s3 its length (cur: a2 start, a3 length)
    f.label("v6").mov("s2", -1).mov("s3", 0).mov("a2", -1).mov("a3", 0).mov("a4", 0);
    f.label("run").br("eq", "a4", 8, "runs");
    f.shl("a5", "a4", 1).load(2, "a5", { base: "s0", index: "a5" }).br("ne", "a5", 0, "nonzero");
    f.br("ne", "a2", -1, "longer").mov("a2", "a4");
    f.label("longer").add("a3", "a3", 1).jmp("nextword");
    f.label("nonzero").br("eq", "a2", -1, "nextword").br("leu", "a3", "s3", "reset");
    f.mov("s2", "a2").mov("s3", "a3");
    f.label("reset").mov("a2", -1).mov("a3", 0);
    f.label("nextword").add("a4", "a4", 1).jmp("run");
    f.label("runs")
      .br("eq", "a2", -1, "short")
      .br("leu", "a3", "s3", "short")
      .mov("s2", "a2")
      .mov("s3", "a3");
    f.label("short").br("geu", "s3", 2, "write").mov("s2", -1).mov("s3", 0);
    // s4: the group
    f.label("write").mov("s4", 0);
    f.label("group")
      .br("eq", "s4", 8, "trailing")
      .br("lt", "s2", 0, "outside")
      .br("lt", "s4", "s2", "outside");
    f.add("a0", "s2", "s3").br("geu", "s4", "a0", "outside").br("ne", "s4", "s2", "nextgroup");
    f.store(1, 58, "s1").add("s1", "s1", 1).jmp("nextgroup");
    f.label("outside").br("eq", "s4", 0, "embedded").store(1, 58, "s1").add("s1", "s1", 1);
    f.label("embedded").br("ne", "s4", 6, "hex").br("ne", "s2", 0, "hex").br("eq", "s3", 6, "tail");
    f.br("ne", "s3", 5, "hex").load(2, "a0", { base: "s0", offset: 10 }).br("eq", "a0", 0xffff, "tail");
    // the group in hex, without leading zeros
    f.label("hex").shl("a0", "s4", 1).load(1, "a1", { base: "s0", index: "a0" }).add("a0", "a0", 1);
    f.load(1, "a0", { base: "s0", index: "a0" }).shl("a1", "a1", 8).or("a0", "a0", "a1");
    f.mov("a1", "s1").mov("a2", 0).mov("a3", 16).call("digits").mov("s1", "a0");
    f.label("nextgroup").add("s4", "s4", 1).jmp("group");
    f.label("trailing").br("lt", "s2", 0, "done").add("a0", "s2", "s3").br("ne", "a0", 8, "done");
    f.store(1, 58, "s1").add("s1", "s1", 1).jmp("done");
    // the last four bytes as a dotted quad
    f.label("tail");
    f.label("quad").mov("s4", 12);
    f.label("octet").load(1, "a0", { base: "s0", index: "s4" }).mov("a1", "s1").mov("a2", 0).call("decimal");
    f.mov("s1", "a0")
      .add("s4", "s4", 1)
      .br("eq", "s4", 16, "done")
      .store(1, 46, "s1")
      .add("s1", "s1", 1)
      .jmp("octet");
    f.label("done").mov("a0", "s1").ret();
  });
}
