// The request head in the IR (docs/http-semantics.md, section 2), the same rules as
// src/preview/parse.ts: `head(ptr, len)` frames one request and parses it into the state block.

import { CLASS } from "../../../pack/layout.ts";
import type { FuncBuilder, ProgramBuilder } from "../../ir/builder.ts";
import type { Reg } from "../../ir/types.ts";
import { emitLex } from "./lex.ts";
import { emitNegotiate } from "./negotiate.ts";
import { CLEAR_END, CLEAR_START, DYN, HEADER0, INM, S, slot, W } from "./state.ts";

export const HEAD_LIMIT = 8192;
export const BODY_LIMIT = 1 << 20;

/** Branches to `to` when the byte in `r` is SP or HTAB. */
export function ifSpace(f: FuncBuilder, r: Reg, to: string): void {
  f.br("eq", r, 32, to).br("eq", r, 9, to);
}

/**
 * With `largeBodies` (builds with proxy rules, whose limit is their own maxBodySize), a
 * Content-Length above BODY_LIMIT is left to the caller (respond.ts) instead of a 413 here.
 */
export function emitParse(p: ProgramBuilder, largeBodies = false): void {
  if (p.has("head")) return;
  emitLex(p);
  emitNegotiate(p);

  // reset(): clears the request record and the dynamic bytes
  p.func("reset", {}, (f) => {
    f.mov("a2", CLEAR_START);
    f.label("clear")
      .store(8, 0, { base: "s4", index: "a2" })
      .add("a2", "a2", 8)
      .br("ltu", "a2", CLEAR_END, "clear");
    f.add("a0", "s4", DYN).store(8, "a0", { base: "s4", offset: S.out }).ret();
  });

  // conn_tokens(ptr, len): sets close / keepAlive from a Connection value
  p.func("conn_tokens", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a0").add("s1", "a0", "a1");
    f.label("tok").br("geu", "s0", "s1", "done").load(1, "a0", "s0");
    ifSpace(f, "a0", "adv");
    f.br("ne", "a0", 44, "start");
    f.label("adv").add("s0", "s0", 1).jmp("tok");
    f.label("start").mov("s2", "s0");
    f.label("scan").br("geu", "s0", "s1", "end").load(1, "a0", "s0").br("eq", "a0", 44, "end");
    ifSpace(f, "a0", "end");
    f.add("s0", "s0", 1).jmp("scan");
    f.label("end").mov("a0", "s2").sub("a1", "s0", "s2").mov("a2", 0x20).call("find_word");
    f.br("ne", "a0", W("close"), "ka").store(1, 1, { base: "s4", offset: S.close }).jmp("rest");
    f.label("ka").br("ne", "a0", W("keep-alive"), "rest").store(1, 1, { base: "s4", offset: S.keepAlive });
    f.label("rest").br("geu", "s0", "s1", "done").load(1, "a0", "s0").br("eq", "a0", 44, "tok");
    f.add("s0", "s0", 1).jmp("rest");
    f.label("done").ret();
  });

  // head(ptr, len) → the head's length once a complete request is parsed into the record; 0 while
  // incomplete; ~ordinal (negative) for an error response that closes
  p.func("head", { frame: 16, saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a1").call("reset");
    // framing over s0 (s1 bytes): a2 index, a1 previous byte, a3 this byte, a0 bit 1 a CRLF (the
    // busiest in a0..a2, which need no REX prefix on x86-64). A bare LF or a lone CR before the
    // end of the head is 400 as soon as it is seen, so the answer never depends on how reads split
    // the bytes (a complete head with one would otherwise be judged on its request line first)
    f.mov("a2", 0).mov("a1", 0).mov("a0", 0);
    f.label("scan").br("geu", "a2", HEAD_LIMIT, "nf").br("geu", "a2", "s1", "nf");
    f.load(1, "a3", { base: "s0", index: "a2" }).br("ne", "a3", 10, "notlf");
    f.br("ne", "a1", 13, "bad").or("a0", "a0", 2).br("ltu", "a2", 3, "next");
    f.load(2, "a1", { base: "s0", index: "a2", offset: -3 }).br("eq", "a1", 0x0a0d, "found").jmp("next");
    f.label("notlf").br("eq", "a1", 13, "bad");
    f.label("next").mov("a1", "a3").add("a2", "a2", 1).jmp("scan");
    f.label("nf").and("a3", "a0", 2).mov("a0", 0).br("ltu", "s1", HEAD_LIMIT, "ret");
    f.mov("a0", ~7).br("ne", "a3", 0, "ret").mov("a0", ~5);
    f.label("ret").ret();

    // request line
    f.label("found").add("a2", "a2", 1).store(8, "a2", { base: "sp", offset: 0 });
    f.mov("s1", "s0").load(8, "s2", { base: "s4", offset: S.cls });
    f.label("m").load(1, "a0", "s1").load(1, "a1", { base: "s2", index: "a0" }).and("a1", "a1", CLASS.token);
    f.br("eq", "a1", 0, "mend").add("s1", "s1", 1).jmp("m");
    f.label("mend").br("eq", "s1", "s0", "bad").br("ne", "a0", 32, "bad");
    f.mov("a0", "s0").sub("a1", "s1", "s0").mov("a2", 0).call("find_word");
    f.store(8, "a0", { base: "s4", offset: S.method });
    f.add("s1", "s1", 1).mov("s3", "s1");
    f.label("t")
      .load(1, "a0", "s1")
      .sub("a1", "a0", 0x21)
      .br("gtu", "a1", 0x5d, "tend")
      .add("s1", "s1", 1)
      .jmp("t");
    f.label("tend").br("eq", "s1", "s3", "bad").br("ne", "a0", 32, "bad");
    f.store(8, "s3", { base: "s4", offset: S.target }).sub("a0", "s1", "s3");
    f.store(8, "a0", { base: "s4", offset: S.targetLen });
    f.load(4, "a0", { base: "s1", offset: 1 }).br("ne", "a0", 0x50545448, "bad");
    f.load(1, "a0", { base: "s1", offset: 5 }).br("ne", "a0", 47, "bad");
    f.load(1, "a2", { base: "s1", offset: 6 }).sub("a2", "a2", 48).br("gtu", "a2", 9, "bad");
    f.load(1, "a0", { base: "s1", offset: 7 }).br("ne", "a0", 46, "bad");
    f.load(1, "a3", { base: "s1", offset: 8 }).sub("a3", "a3", 48).br("gtu", "a3", 9, "bad");
    f.load(2, "a0", { base: "s1", offset: 9 }).br("ne", "a0", 0x0a0d, "bad");
    f.br("ne", "a2", 1, "v505").br("eq", "a3", 0, "h").store(1, 1, { base: "s4", offset: S.minor });
    f.label("h").add("s1", "s1", 11);

    // header lines
    f.label("line").load(2, "a0", "s1").br("eq", "a0", 0x0a0d, "end").mov("s3", "s1");
    f.label("name")
      .load(1, "a0", "s1")
      .load(1, "a1", { base: "s2", index: "a0" })
      .and("a1", "a1", CLASS.token);
    f.br("eq", "a1", 0, "nend").add("s1", "s1", 1).jmp("name");
    f.label("nend").br("eq", "s1", "s3", "bad").br("ne", "a0", 58, "bad");
    f.mov("a0", "s3").sub("a1", "s1", "s3").mov("a2", 0x20).call("find_word").mov("s3", "a0");
    f.label("ows").add("s1", "s1", 1).load(1, "a0", "s1");
    ifSpace(f, "a0", "ows");
    f.mov("s0", "s1");
    f.label("val").load(1, "a0", "s1").br("eq", "a0", 13, "cr");
    f.load(1, "a1", { base: "s2", index: "a0" }).and("a1", "a1", CLASS.fieldValue).br("eq", "a1", 0, "bad");
    f.add("s1", "s1", 1).jmp("val");
    f.label("cr").load(1, "a0", { base: "s1", offset: 1 }).br("ne", "a0", 10, "bad").mov("a1", "s1");
    f.label("trim").br("eq", "a1", "s0", "trimmed").load(1, "a0", { base: "a1", offset: -1 });
    f.br("eq", "a0", 32, "dec").br("ne", "a0", 9, "trimmed");
    f.label("dec").sub("a1", "a1", 1).jmp("trim");
    f.label("trimmed").sub("a1", "a1", "s0").store(8, "a1", { base: "sp", offset: 8 }).add("s1", "s1", 2);
    // s0 value, a1 its length, s3 the name's word
    f.sub("a0", "s3", HEADER0).br("gtu", "a0", 8, "line");
    f.br("ne", "s3", W("host"), "conn");
    f.load(8, "a0", { base: "s4", offset: S.hosts }).add("a0", "a0", 1);
    f.store(8, "a0", { base: "s4", offset: S.hosts }).jmp("slot");
    f.label("conn").br("ne", "s3", W("connection"), "cl");
    f.mov("a0", "s0").call("conn_tokens").jmp("slot");
    f.label("cl").br("ne", "s3", W("content-length"), "inm");
    f.mov("a0", "s0").call("num").br("eq", "a0", -1, "bad");
    f.load(8, "a1", { base: "s4", offset: slot("content-length") }).br("eq", "a1", 0, "clok");
    f.load(8, "a1", { base: "s4", offset: S.contentLength }).br("ne", "a0", "a1", "bad");
    f.label("clok").store(8, "a0", { base: "s4", offset: S.contentLength }).jmp("slot");
    f.label("inm").br("ne", "s3", W("if-none-match"), "ae");
    f.load(8, "a0", { base: "s4", offset: S.inmCount }).shl("a2", "a0", 4).add("a2", "a2", "s4");
    f.store(8, "s0", { base: "a2", offset: INM }).store(8, "a1", { base: "a2", offset: INM + 8 });
    f.add("a0", "a0", 1).store(8, "a0", { base: "s4", offset: S.inmCount }).jmp("slot");
    f.label("ae").br("ne", "s3", W("accept-encoding"), "slot");
    f.mov("a0", "s0").call("ae_line");
    f.label("slot")
      .shl("a0", "s3", 4)
      .add("a0", "a0", "s4")
      .store(8, "s0", { base: "a0", offset: S.slots - HEADER0 * 16 });
    f.load(8, "a1", { base: "sp", offset: 8 }).store(8, "a1", {
      base: "a0",
      offset: S.slots - HEADER0 * 16 + 8,
    });
    f.jmp("line");

    // after the last line
    f.label("end")
      .load(8, "a0", { base: "s4", offset: slot("transfer-encoding") })
      .br("ne", "a0", 0, "bad");
    f.load(8, "a0", { base: "s4", offset: S.hosts }).br("gtu", "a0", 1, "bad");
    f.load(8, "a1", { base: "s4", offset: S.minor }).br("eq", "a1", 0, "size").br("ne", "a0", 1, "bad");
    f.label("size");
    if (!largeBodies)
      f.load(8, "a0", { base: "s4", offset: S.contentLength }).br("gtu", "a0", BODY_LIMIT, "e413");
    f.load(8, "a0", { base: "sp", offset: 0 }).ret();
    f.label("bad").mov("a0", -1).ret();
    f.label("v505").mov("a0", ~10).ret();
    f.label("e413").mov("a0", ~4).ret();
  });
}
