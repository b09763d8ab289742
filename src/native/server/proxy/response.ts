// The upstream's response in the IR: its head read as Node's HTTP parser reads it (the preview's
// view: src/preview/proxy.ts) and rewritten for the client, and its chunked body decoded in place.
// Node is strict: a bare LF, obs-fold, a space before a colon, control bytes in a value, a
// duplicate Content-Length, Content-Length with Transfer-Encoding are errors (502); it accepts
// HTTP/0.9 to 2.0 status lines, any three-digit status, and skips 1xx responses but 101.

import { HOP_BY_HOP } from "../../../access/rules.ts";
import type { FuncBuilder, ProgramBuilder } from "../../ir/builder.ts";
import type { Reg } from "../../ir/types.ts";
import { emitDecimal } from "../decimal.ts";
import { MODE, XF } from "./layout.ts";
import { emitDropSet, emitField, emitNameHash, emitPutBytes, nameHash } from "./request.ts";
import { emitAsciiEqual } from "./resolve.ts";

/** What resp_head reports besides the head's length (at its `info` argument). */
export const RI = {
  /** Bytes of the client's head written at `out`. */
  outLen: 0,
  /** MODE: how the body ends. */
  mode: 8,
  /** The Content-Length (MODE.length). */
  length: 16,
  /** XF bits for the exchange: rechunk, close. */
  flags: 24,
  /** The status code. */
  status: 32,
  size: 40,
} as const;

/** Bits of the token characters (RFC 9110, 5.6.2), as four little-endian words. */
function tokenTable(): Uint8Array {
  const table = new Uint8Array(32);
  for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    table[c.charCodeAt(0) >> 3]! |= 1 << (c.charCodeAt(0) & 7);
  return table;
}

function emitTokenTable(p: ProgramBuilder): void {
  if (!p.has("rh_token")) p.rodata("rh_token", tokenTable(), 8);
}

/** Branches to `to` when the byte in `r` is a token character (uses a5; the table's address in `table`). */
function ifToken(f: FuncBuilder, r: Reg, table: Reg, to: string): void {
  f.shr("a5", r, 6)
    .load(8, "a5", { base: table, index: "a5", scale: 8 })
    .shr("a5", "a5", r)
    .and("a5", "a5", 1);
  f.br("ne", "a5", 0, to);
}

const LITERALS = {
  rh_status: "HTTP/1.1 ",
  rh_sep: ": ",
  rh_crlf: "\r\n",
  rh_chunked: "Transfer-Encoding: chunked\r\n",
  rh_close: "Connection: close\r\n",
  rh_keep: "Connection: keep-alive\r\n",
  rh_chunked_word: "chunked",
} as const;

/** resp_head's frame. */
const L = {
  /** The head's start (after leading CRLFs), its end (after the blank line), the first header line. */
  start: 0,
  end: 8,
  fields: 16,
  /** Bits: 1 a Content-Length, 2 a Transfer-Encoding, 4 its last coding is chunked. */
  seen: 24,
  length: 32,
  /** The reason phrase (pointer, end). */
  reason: 40,
  reasonEnd: 48,
  /** The current field's value and end, its name's end. */
  value: 56,
  valueEnd: 64,
  nameEnd: 72,
  info: 80,
  flags: 88,
  out: 96,
} as const;
const SEEN = {
  length: 1,
  transfer: 2,
  chunked: 4,
  /** An Upgrade field, and "upgrade" among the Connection tokens: a 101 then switches protocols. */
  upgrade: 8,
  connectionUpgrade: 16,
  /** The client's body has no length: Content-Length (if any) is dropped. */
  unsized: 32,
  /** A Transfer-Encoding field, empty or not (only a non-empty one frames the body). */
  transferField: 64,
} as const;

/**
 * Emits `resp_head(in, len, out, info, flags)` → the length of the response head at `in` (after any
 * leading CRLFs), 0 while it is incomplete, -1 when Node would refuse it (or it exceeds `max`
 * bytes); with a length, the client's head is at `out` and RI at `info` describes the body.
 * `flags`: the exchange's XF bits (head, http10, close).
 */
export function emitResponseHead(p: ProgramBuilder, max: number): void {
  if (p.has("resp_head")) return;
  emitNameHash(p);
  emitPutBytes(p);
  emitField(p);
  emitDropSet(p);
  emitDecimal(p);
  emitAsciiEqual(p);
  for (const [name, text] of Object.entries(LITERALS)) p.rodata(name, text);
  emitTokenTable(p);
  const H = (name: string) => nameHash(name);
  const put = (f: FuncBuilder, name: keyof typeof LITERALS) =>
    f.addr("a0", name).mov("a1", LITERALS[name].length).mov("a2", "s0").call("ph_put").mov("s0", "a0");
  const putValue = (f: FuncBuilder, from: number, to: number) =>
    f
      .load(8, "a0", { base: "sp", offset: from })
      .load(8, "a1", { base: "sp", offset: to })
      .sub("a1", "a1", "a0")
      .mov("a2", "s0")
      .call("ph_put")
      .mov("s0", "a0");
  /** The line at s2 (validated): s3 its start, s2 the next, the value and names in the frame, s4 the name's hash. */
  const field = (f: FuncBuilder, end: string) => {
    f.mov("s3", "s2").mov("a0", "s2").call("ph_field").br("eq", "a3", 0, end).mov("s2", "a0");
    f.store(8, "a1", { base: "sp", offset: L.value }).store(8, "a2", { base: "sp", offset: L.valueEnd });
    f.store(8, "a3", { base: "sp", offset: L.nameEnd });
    f.mov("a0", "s3").sub("a1", "a3", "s3").call("name_hash").mov("s4", "a0");
  };

  // s0 the output (later), s1 in, s2 the cursor, s3 the end of the input, s4 scratch
  p.func("resp_head", { frame: 112, saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s0", "a2").mov("s1", "a0").add("s3", "a0", "a1").store(8, "a3", { base: "sp", offset: L.info });
    f.store(8, "a2", { base: "sp", offset: L.out });
    f.store(8, "a4", { base: "sp", offset: L.flags }).store(8, 0, { base: "sp", offset: L.seen });
    f.mov("s2", "s1");
    f.label("crlf").add("a0", "s2", 1).br("geu", "a0", "s3", "frame").load(2, "a0", "s2");
    f.br("ne", "a0", 0x0a0d, "frame").add("s2", "s2", 2).jmp("crlf");
    // the blank line, within max bytes
    // the blank line; a CR must be followed by LF and an LF preceded by CR (a2: the byte before)
    f.label("frame").store(8, "s2", { base: "sp", offset: L.start }).mov("a0", "s2").mov("a2", 0);
    f.label("scan").br("geu", "a0", "s3", "short").load(1, "a1", "a0");
    f.br("ne", "a2", 13, "lf").br("ne", "a1", 10, "bad");
    f.label("lf").br("ne", "a1", 10, "byte").br("ne", "a2", 13, "bad");
    f.sub("a3", "a0", 3)
      .br("ltu", "a3", "s2", "byte")
      .load(4, "a3", "a3")
      .br("eq", "a3", 0x0a0d0a0d, "found");
    f.label("byte").mov("a2", "a1").add("a0", "a0", 1).jmp("scan");
    f.label("short").sub("a0", "s3", "s1").br("geu", "a0", max, "bad").mov("a0", 0).ret();
    f.label("found").add("a0", "a0", 1).sub("a1", "a0", "s1").br("gtu", "a1", max, "bad");
    f.store(8, "a0", { base: "sp", offset: L.end });

    // the status line: HTTP/x.y (0.9, 1.0, 1.1 or 2.0), SP, three digits, then SP and a reason or CR
    // (from here on s3 is free: the head is complete)
    f.add("a0", "s2", 12).load(8, "a1", { base: "sp", offset: L.end }).br("gtu", "a0", "a1", "bad");
    f.load(4, "a0", "s2")
      .br("ne", "a0", 0x50545448, "bad")
      .load(1, "a0", { base: "s2", offset: 4 })
      .br("ne", "a0", 47, "bad");
    f.load(1, "a0", { base: "s2", offset: 5 })
      .load(1, "a1", { base: "s2", offset: 6 })
      .load(1, "a2", { base: "s2", offset: 7 });
    f.br("ne", "a1", 46, "bad").shl("a0", "a0", 8).or("a0", "a0", "a2");
    for (const version of ["0.9", "1.0", "1.1", "2.0"])
      f.br("eq", "a0", (version.charCodeAt(0) << 8) | version.charCodeAt(2), "version");
    f.jmp("bad");
    f.label("version")
      .load(1, "a0", { base: "s2", offset: 8 })
      .br("ne", "a0", 32, "bad")
      .mov("a1", 0)
      .mov("a2", 9);
    f.label("digit").load(1, "a0", { base: "s2", index: "a2" }).sub("a0", "a0", 48).br("gtu", "a0", 9, "bad");
    f.mul("a1", "a1", 10).add("a1", "a1", "a0").add("a2", "a2", 1).br("ltu", "a2", 12, "digit");
    f.load(8, "a3", { base: "sp", offset: L.info }).store(8, "a1", { base: "a3", offset: RI.status });
    f.add("s2", "s2", 12).load(1, "a0", "s2").br("eq", "a0", 13, "reasonEnd").br("ne", "a0", 32, "bad");
    f.add("s2", "s2", 1);
    f.label("reasonEnd").store(8, "s2", { base: "sp", offset: L.reason });
    f.label("reasonScan").load(1, "a0", "s2").br("eq", "a0", 10, "bad").br("eq", "a0", 13, "reasonCr");
    f.add("s2", "s2", 1).jmp("reasonScan");
    f.label("reasonCr")
      .store(8, "s2", { base: "sp", offset: L.reasonEnd })
      .load(1, "a0", { base: "s2", offset: 1 });
    f.br("ne", "a0", 10, "bad").add("s2", "s2", 2).store(8, "s2", { base: "sp", offset: L.fields });

    // pass 1: validate each field (token name, colon, value bytes HT, SP to ~ or above 0x7f, CRLF),
    // collect the drop set and the framing fields
    f.mov("a0", HOP_BY_HOP.length).call("ph_drop_init");
    f.label("check")
      .load(8, "a0", { base: "sp", offset: L.end })
      .sub("a0", "a0", 2)
      .br("geu", "s2", "a0", "pass2");
    f.mov("s4", "s2").addr("a2", "rh_token");
    f.label("name").load(1, "a0", "s4");
    ifToken(f, "a0", "a2", "nameNext");
    f.br("eq", "s4", "s2", "bad").br("ne", "a0", 58, "bad").jmp("valueStart");
    f.label("nameNext").add("s4", "s4", 1).jmp("name");
    f.label("valueStart").add("s4", "s4", 1);
    f.label("valueByte").load(1, "a0", "s4").br("eq", "a0", 13, "valueCr").br("eq", "a0", 9, "valueNext");
    f.br("geu", "a0", 128, "valueNext").sub("a1", "a0", 32).br("geu", "a1", 95, "bad"); // controls, DEL
    f.label("valueNext").add("s4", "s4", 1).jmp("valueByte");
    f.label("valueCr").load(1, "a0", { base: "s4", offset: 1 }).br("ne", "a0", 10, "bad");
    field(f, "pass2");
    // Connection: its tokens join the drop set
    f.br("ne", "s4", H("connection"), "length").load(8, "a0", { base: "sp", offset: L.value });
    f.load(8, "a1", { base: "sp", offset: L.valueEnd }).call("ph_tokens").br("eq", "a0", 0, "check");
    f.load(8, "a3", { base: "sp", offset: L.seen }).or("a3", "a3", SEEN.connectionUpgrade);
    f.store(8, "a3", { base: "sp", offset: L.seen }).jmp("check");
    f.label("length").br("ne", "s4", H("upgrade"), "contentLength");
    f.load(8, "a3", { base: "sp", offset: L.seen }).or("a3", "a3", SEEN.upgrade);
    f.store(8, "a3", { base: "sp", offset: L.seen }).jmp("check");
    // Content-Length: once, 1 to 18 digits, and not after a Transfer-Encoding that is not empty
    f.label("contentLength").br("ne", "s4", H("content-length"), "transfer");
    f.load(8, "a3", { base: "sp", offset: L.seen })
      .and("a0", "a3", SEEN.length | SEEN.transfer)
      .br("ne", "a0", 0, "bad");
    f.or("a3", "a3", SEEN.length).store(8, "a3", { base: "sp", offset: L.seen });
    f.load(8, "a0", { base: "sp", offset: L.value }).load(8, "a1", { base: "sp", offset: L.valueEnd });
    // only spaces may follow the digits (Node refuses a tab there)
    f.mov("a2", "a1").sub("a3", "s2", 2);
    f.label("lengthTail").br("geu", "a2", "a3", "lengthValue").load(1, "a4", "a2").br("ne", "a4", 32, "bad");
    f.add("a2", "a2", 1).jmp("lengthTail");
    f.label("lengthValue").sub("a2", "a1", "a0").sub("a2", "a2", 1).br("gtu", "a2", 17, "bad").mov("a2", 0);
    f.label("lengthDigit").load(1, "a3", "a0").sub("a3", "a3", 48).br("gtu", "a3", 9, "bad");
    f.mul("a2", "a2", 10).add("a2", "a2", "a3").add("a0", "a0", 1).br("ltu", "a0", "a1", "lengthDigit");
    f.store(8, "a2", { base: "sp", offset: L.length }).jmp("check");
    // Transfer-Encoding: not after a Content-Length; an empty one frames nothing (Node's reading);
    // else, is its last coding "chunked"?
    f.label("transfer").br("ne", "s4", H("transfer-encoding"), "check");
    f.load(8, "a3", { base: "sp", offset: L.seen }).and("a0", "a3", SEEN.length).br("ne", "a0", 0, "bad");
    f.or("a3", "a3", SEEN.transferField).store(8, "a3", { base: "sp", offset: L.seen });
    f.load(8, "a0", { base: "sp", offset: L.value }).load(8, "a1", { base: "sp", offset: L.valueEnd });
    f.br("eq", "a0", "a1", "check").or("a3", "a3", SEEN.transfer).and("a3", "a3", ~SEEN.chunked);
    f.store(8, "a3", { base: "sp", offset: L.seen }).mov("a2", "a1");
    f.label("lastComma")
      .br("eq", "a2", "a0", "lastCoding")
      .load(1, "a3", { base: "a2", offset: -1 })
      .br("eq", "a3", 44, "lastCoding");
    f.sub("a2", "a2", 1).jmp("lastComma");
    f.label("lastCoding")
      .br("eq", "a2", "a1", "check")
      .load(1, "a3", "a2")
      .br("eq", "a3", 32, "lastSkip")
      .br("ne", "a3", 9, "lastWord");
    f.label("lastSkip").add("a2", "a2", 1).jmp("lastCoding");
    // "chunked" counts when only spaces follow it (Node reads a trailing tab as another coding)
    f.label("lastWord").mov("a3", "a1").sub("a4", "s2", 2);
    f.label("codingTail").br("geu", "a3", "a4", "coding").load(1, "a5", "a3").br("ne", "a5", 32, "check");
    f.add("a3", "a3", 1).jmp("codingTail");
    f.label("coding")
      .mov("a0", "a2")
      .sub("a1", "a1", "a2")
      .addr("a2", "rh_chunked_word")
      .mov("a3", 7)
      .call("ascii_equal");
    f.br("eq", "a0", 0, "check").load(8, "a3", { base: "sp", offset: L.seen }).or("a3", "a3", SEEN.chunked);
    f.store(8, "a3", { base: "sp", offset: L.seen }).jmp("check");

    // how the upstream's body ends: 1xx heads but 101 are skipped (a 101 with Upgrade and
    // Connection: upgrade would switch protocols: refused); none after a 101, for HEAD, 204, 304;
    // chunked or up to the close with Transfer-Encoding; Content-Length; else up to the close
    f.label("pass2")
      .load(8, "a3", { base: "sp", offset: L.info })
      .load(8, "a1", { base: "sp", offset: L.seen });
    f.load(8, "a0", { base: "a3", offset: RI.status }).sub("a2", "a0", 100).br("gtu", "a2", 99, "final");
    f.mov("a2", MODE.interim).br("ne", "a0", 101, "mode");
    f.and("a4", "a1", SEEN.upgrade | SEEN.connectionUpgrade).br(
      "eq",
      "a4",
      SEEN.upgrade | SEEN.connectionUpgrade,
      "bad",
    );
    f.label("final")
      .mov("a2", MODE.none)
      .load(8, "a4", { base: "sp", offset: L.flags })
      .and("a4", "a4", XF.head);
    f.br("ne", "a4", 0, "mode")
      .br("eq", "a0", 204, "mode")
      .br("eq", "a0", 304, "mode")
      .br("eq", "a0", 101, "framed");
    f.mov("a2", MODE.chunked).and("a4", "a1", SEEN.chunked).br("ne", "a4", 0, "framed");
    f.mov("a2", MODE.close).and("a4", "a1", SEEN.transfer).br("ne", "a4", 0, "framed");
    f.and("a4", "a1", SEEN.length).br("eq", "a4", 0, "framed").mov("a2", MODE.length);
    f.load(8, "a4", { base: "sp", offset: L.length }).store(8, "a4", { base: "a3", offset: RI.length });
    // the client's framing, as the preview decides it: a body (not HEAD, 204, 304) without a
    // Content-Length is rechunked for HTTP/1.1 and ends with the close for HTTP/1.0
    f.label("framed")
      .and("a4", "a1", SEEN.length | SEEN.transferField)
      .br("eq", "a4", SEEN.length, "mode");
    f.or("a1", "a1", SEEN.unsized).store(8, "a1", { base: "sp", offset: L.seen });
    f.label("mode").store(8, "a2", { base: "a3", offset: RI.mode });
    f.load(8, "a4", { base: "sp", offset: L.flags }).and("a5", "a4", XF.close);
    f.and("a0", "a1", SEEN.unsized).br("eq", "a0", 0, "sized");
    f.and("a0", "a4", XF.http10).br("ne", "a0", 0, "closes").or("a5", "a5", XF.rechunk).jmp("sized");
    f.label("closes").or("a5", "a5", XF.close);
    f.label("sized").store(8, "a5", { base: "a3", offset: RI.flags });

    // the client's head: the status line (trailing SP and HT trimmed), the kept fields, the framing
    put(f, "rh_status");
    f.load(8, "a3", { base: "sp", offset: L.info })
      .load(8, "a0", { base: "a3", offset: RI.status })
      .mov("a1", "s0")
      .mov("a2", 0)
      .call("decimal")
      .mov("s0", "a0");
    f.store(1, 32, "s0").add("s0", "s0", 1);
    putValue(f, L.reason, L.reasonEnd);
    f.label("trim")
      .load(1, "a0", { base: "s0", offset: -1 })
      .br("eq", "a0", 32, "trimBack")
      .br("ne", "a0", 9, "trimmed");
    f.label("trimBack").sub("s0", "s0", 1).jmp("trim");
    f.label("trimmed");
    put(f, "rh_crlf");
    f.load(8, "s2", { base: "sp", offset: L.fields });
    f.label("line");
    field(f, "added");
    f.mov("a0", "s4").call("ph_listed").br("ne", "a0", 0, "line");
    f.br("ne", "s4", H("content-length"), "copy");
    // Content-Length goes when the client's body has no length
    f.load(8, "a0", { base: "sp", offset: L.seen }).and("a0", "a0", SEEN.unsized).br("ne", "a0", 0, "line");
    f.label("copy").mov("a0", "s3").load(8, "a1", { base: "sp", offset: L.nameEnd }).sub("a1", "a1", "s3");
    f.mov("a2", "s0").call("ph_put").mov("s0", "a0");
    put(f, "rh_sep");
    putValue(f, L.value, L.valueEnd);
    put(f, "rh_crlf");
    f.jmp("line");
    f.label("added")
      .load(8, "a3", { base: "sp", offset: L.info })
      .load(8, "a4", { base: "a3", offset: RI.flags });
    f.and("a0", "a4", XF.rechunk).br("eq", "a0", 0, "connection");
    put(f, "rh_chunked");
    f.label("connection")
      .load(8, "a3", { base: "sp", offset: L.info })
      .load(8, "a4", { base: "a3", offset: RI.flags });
    f.and("a0", "a4", XF.close).br("eq", "a0", 0, "keep");
    put(f, "rh_close");
    f.jmp("blank");
    f.label("keep")
      .load(8, "a0", { base: "sp", offset: L.flags })
      .and("a0", "a0", XF.http10)
      .br("eq", "a0", 0, "blank");
    put(f, "rh_keep");
    f.label("blank");
    put(f, "rh_crlf");
    f.load(8, "a3", { base: "sp", offset: L.info })
      .load(8, "a0", { base: "sp", offset: L.out })
      .sub("a0", "s0", "a0");
    f.store(8, "a0", { base: "a3", offset: RI.outLen });
    f.load(8, "a0", { base: "sp", offset: L.end }).sub("a0", "a0", "s1").ret();
    f.label("bad").mov("a0", -1).ret();
  });
}

/** Phases of the chunked decoder (at its state's offset 0; the chunk's size or bytes left at 8). */
export const CHUNK = {
  sizeStart: 0,
  size: 1,
  extStart: 2,
  extName: 3,
  extValueStart: 4,
  extValue: 5,
  extQuoted: 6,
  extPair: 7,
  extQuotedEnd: 8,
  sizeLf: 9,
  data: 10,
  dataCr: 11,
  dataLf: 12,
  trailerStart: 13,
  trailerName: 14,
  trailerValue: 15,
  trailerLf: 16,
  finalLf: 17,
  done: 18,
} as const;

/** Branches to `to` when the byte in `r` may be in a field value: HT, SP to ~, or above 0x7f (uses a5). */
function ifFieldByte(f: FuncBuilder, r: Reg, to: string): void {
  f.br("eq", r, 9, to).br("geu", r, 128, to).sub("a5", r, 32).br("ltu", "a5", 95, to);
}

/**
 * Emits `chunk_decode(state, buf, len)` → a0: the chunk data bytes decoded so far, in place at buf;
 * a1: 1 once the last chunk and the trailer section are read, -1 when the framing is not what
 * Node's parser accepts, else 0. Node's rules: a size of hex digits without spaces (at most 64
 * bits), extensions `;name[=token|"quoted"]`, CRLF after the size and after the data, trailer
 * lines `name: value`. Bytes after the end are ignored.
 */
export function emitChunkDecode(p: ProgramBuilder): void {
  if (p.has("chunk_decode")) return;
  emitTokenTable(p);
  const C = CHUNK;
  // s0 state, s1 read cursor, s2 end, s3 write cursor, s4 the token table; a4 phase, a5 scratch;
  // the size lives in the state while decoding (a3 caches it)
  p.func("chunk_decode", { frame: 16, saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s0", "a0")
      .mov("s1", "a1")
      .add("s2", "a1", "a2")
      .mov("s3", "a1")
      .store(8, "a1", { base: "sp", offset: 0 });
    f.addr("s4", "rh_token").load(8, "a4", "s0").load(8, "a3", { base: "s0", offset: 8 });
    f.label("next").br("eq", "a4", C.done, "end").br("geu", "s1", "s2", "end");
    f.br("eq", "a4", C.data, "data").load(1, "a0", "s1").add("s1", "s1", 1);
    const dispatch: [number, string][] = [
      [C.sizeStart, "hex"],
      [C.size, "size"],
      [C.extStart, "extStart"],
      [C.extName, "extName"],
      [C.extValueStart, "extValueStart"],
      [C.extValue, "extValue"],
      [C.extQuoted, "extQuoted"],
      [C.extPair, "extPair"],
      [C.extQuotedEnd, "extQuotedEnd"],
      [C.sizeLf, "sizeLf"],
      [C.dataCr, "dataCr"],
      [C.dataLf, "dataLf"],
      [C.trailerStart, "trailerStart"],
      [C.trailerName, "trailerName"],
      [C.trailerValue, "trailerValue"],
      [C.trailerLf, "trailerLf"],
    ];
    for (const [phase, label] of dispatch) f.br("eq", "a4", phase, label);
    f.jmp("finalLf");
    const to = (phase: number) => f.mov("a4", phase).jmp("next");
    // the size: hex digits, the first one required, no overflow past 64 bits
    f.label("size").br("eq", "a0", 59, "toExtStart").br("eq", "a0", 13, "toSizeLf");
    f.label("hex").sub("a1", "a0", 48).br("ltu", "a1", 10, "digit").or("a1", "a0", 32).sub("a1", "a1", 87);
    f.br("gtu", "a1", 15, "bad").br("ltu", "a1", 10, "bad");
    f.label("digit").shr("a2", "a3", 60).br("ne", "a2", 0, "bad").shl("a3", "a3", 4).or("a3", "a3", "a1");
    to(C.size);
    f.label("toExtStart");
    to(C.extStart);
    f.label("toSizeLf");
    to(C.sizeLf);
    // extensions: a token name, then "=" and a token or a quoted string, then ";" or CR
    f.label("extStart");
    ifToken(f, "a0", "s4", "toExtName");
    f.jmp("bad");
    f.label("toExtName");
    to(C.extName);
    f.label("extName");
    ifToken(f, "a0", "s4", "next");
    f.br("eq", "a0", 61, "toValueStart")
      .br("eq", "a0", 59, "toExtStart")
      .br("eq", "a0", 13, "toSizeLf")
      .jmp("bad");
    f.label("toValueStart");
    to(C.extValueStart);
    f.label("extValueStart").br("eq", "a0", 34, "toQuoted");
    f.label("extValue");
    ifToken(f, "a0", "s4", "toValue");
    f.br("eq", "a0", 59, "toExtStart").br("eq", "a0", 13, "toSizeLf").jmp("bad");
    f.label("toValue");
    to(C.extValue);
    f.label("toQuoted");
    to(C.extQuoted);
    f.label("extQuoted").br("eq", "a0", 34, "toQuotedEnd").br("eq", "a0", 92, "toPair");
    ifFieldByte(f, "a0", "next");
    f.jmp("bad");
    f.label("toQuotedEnd");
    to(C.extQuotedEnd);
    f.label("toPair");
    to(C.extPair);
    f.label("extPair");
    ifFieldByte(f, "a0", "toQuoted");
    f.jmp("bad");
    f.label("extQuotedEnd").br("eq", "a0", 59, "toExtStart").br("eq", "a0", 13, "toSizeLf").jmp("bad");
    f.label("sizeLf").br("ne", "a0", 10, "bad").br("eq", "a3", 0, "toTrailer");
    to(C.data);
    f.label("toTrailer");
    to(C.trailerStart);
    // data: up to the chunk's bytes moved forward to the write cursor, 8 at a time where they fit
    f.label("data").sub("a1", "s2", "s1").br("leu", "a1", "a3", "take").mov("a1", "a3");
    f.label("take").sub("a3", "a3", "a1").add("a2", "s1", "a1");
    f.label("words")
      .sub("a0", "a2", "s1")
      .br("ltu", "a0", 8, "bytes")
      .load(8, "a0", "s1")
      .store(8, "a0", "s3");
    f.add("s1", "s1", 8).add("s3", "s3", 8).jmp("words");
    f.label("bytes").br("geu", "s1", "a2", "taken").load(1, "a0", "s1").store(1, "a0", "s3");
    f.add("s1", "s1", 1).add("s3", "s3", 1).jmp("bytes");
    f.label("taken").br("ne", "a3", 0, "next");
    to(C.dataCr);
    f.label("dataCr").br("ne", "a0", 13, "bad");
    to(C.dataLf);
    f.label("dataLf").br("ne", "a0", 10, "bad").mov("a3", 0);
    to(C.sizeStart);
    // the trailer section: "name: value" lines up to an empty one
    f.label("trailerStart").br("eq", "a0", 13, "toFinal");
    ifToken(f, "a0", "s4", "toTrailerName");
    f.jmp("bad");
    f.label("toTrailerName");
    to(C.trailerName);
    f.label("trailerName");
    ifToken(f, "a0", "s4", "next");
    f.br("ne", "a0", 58, "bad");
    to(C.trailerValue);
    f.label("trailerValue").br("eq", "a0", 13, "toTrailerLf");
    ifFieldByte(f, "a0", "next");
    f.jmp("bad");
    f.label("toTrailerLf");
    to(C.trailerLf);
    f.label("trailerLf").br("ne", "a0", 10, "bad");
    to(C.trailerStart);
    f.label("toFinal");
    to(C.finalLf);
    f.label("finalLf").br("ne", "a0", 10, "bad");
    to(C.done);
    f.label("end").store(8, "a4", "s0").store(8, "a3", { base: "s0", offset: 8 });
    f.mov("a1", 0).br("ne", "a4", C.done, "count").mov("a1", 1);
    f.label("count").load(8, "a0", { base: "sp", offset: 0 }).sub("a0", "s3", "a0").ret();
    f.label("bad").mov("a1", -1).load(8, "a0", { base: "sp", offset: 0 }).sub("a0", "s3", "a0").ret();
  });
}
