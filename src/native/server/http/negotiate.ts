// Accept-Encoding, If-None-Match and Range in the IR (docs/http-semantics.md, section 5), the same
// rules as src/preview/negotiate.ts.

import { ROUTE } from "../../../pack/layout.ts";
import type { FuncBuilder, ProgramBuilder } from "../../ir/builder.ts";
import type { Reg } from "../../ir/types.ts";
import { emitLex } from "./lex.ts";
import { CODING0, INM, S, W } from "./state.ts";

function ifSpace(f: FuncBuilder, r: Reg, to: string): void {
  f.br("eq", r, 32, to).br("eq", r, 9, to);
}

/** Branches to `to` when the byte in `r` ends an Accept-Encoding word: `,` `;` SP HTAB. */
function ifDelimiter(f: FuncBuilder, r: Reg, to: string): void {
  f.br("eq", r, 44, to).br("eq", r, 59, to);
  ifSpace(f, r, to);
}

export function emitNegotiate(p: ProgramBuilder): void {
  if (p.has("ae_line")) return;
  emitLex(p);

  // ae_line(ptr, len): folds one Accept-Encoding line into the weights q (weight + 1, 0 = unlisted)
  p.func("ae_line", { frame: 16, saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").add("s1", "a0", "a1");
    f.label("el").br("geu", "s0", "s1", "done").load(1, "a0", "s0");
    ifSpace(f, "a0", "adv");
    f.br("ne", "a0", 44, "tok");
    f.label("adv").add("s0", "s0", 1).jmp("el");
    // a word (the coding, a5 = 0, or a parameter, a5 = 1) ends at "," ";" SP HTAB
    f.label("tok").mov("s2", "s0").mov("a5", 0);
    f.label("word").br("geu", "s0", "s1", "wordend").load(1, "a0", "s0");
    ifDelimiter(f, "a0", "wordend");
    f.add("s0", "s0", 1).jmp("word");
    f.label("wordend").br("ne", "a5", 0, "pend");
    f.mov("s3", "s0").store(8, 1001, { base: "sp", offset: 0 });
    // (the usual coding without parameters: straight to the next one)
    f.br("geu", "s0", "s1", "pdone").br("eq", "a0", 44, "pdone");
    // parameters up to the next comma: OWS, then ";" (a3 = 1: OWS and a parameter follow) or the end
    f.label("par").mov("a3", 0);
    f.label("ws").br("geu", "s0", "s1", "wsend").load(1, "a0", "s0");
    f.br("eq", "a0", 32, "wadv").br("ne", "a0", 9, "wsend");
    f.label("wadv").add("s0", "s0", 1).jmp("ws");
    f.label("wsend").br("ne", "a3", 0, "pstart").br("geu", "s0", "s1", "pdone");
    f.br("eq", "a0", 59, "semi").br("eq", "a0", 44, "pdone");
    f.store(8, 0, { base: "sp", offset: 0 });
    f.label("skipc").br("geu", "s0", "s1", "pdone").load(1, "a0", "s0").br("eq", "a0", 44, "pdone");
    f.add("s0", "s0", 1).jmp("skipc");
    f.label("semi").add("s0", "s0", 1).mov("a3", 1).jmp("ws");
    f.label("pstart").mov("a4", "s0").mov("a5", 1).jmp("word");
    f.label("pend").sub("a0", "s0", "a4").br("ltu", "a0", 2, "par");
    f.load(1, "a0", "a4").or("a0", "a0", 0x20).br("ne", "a0", 113, "par");
    f.load(1, "a0", { base: "a4", offset: 1 }).br("ne", "a0", 61, "par");
    // qvalue from a4 + 2 to s0: 0 or 1, or 0. / 1. and up to 3 digits, at most 1
    f.add("a0", "a4", 2).br("geu", "a0", "s0", "qinv");
    f.load(1, "a2", "a0").sub("a2", "a2", 48).br("gtu", "a2", 1, "qinv").mul("a2", "a2", 1000);
    f.add("a0", "a0", 1).br("eq", "a0", "s0", "qok");
    f.load(1, "a3", "a0").br("ne", "a3", 46, "qinv");
    f.add("a0", "a0", 1).sub("a3", "s0", "a0").br("gtu", "a3", 3, "qinv");
    f.mov("a5", 3).mov("a3", 0);
    f.label("qd").mul("a3", "a3", 10).br("geu", "a0", "s0", "qnext");
    f.load(1, "a4", "a0").sub("a4", "a4", 48).br("gtu", "a4", 9, "qinv");
    f.add("a3", "a3", "a4").add("a0", "a0", 1);
    f.label("qnext").sub("a5", "a5", 1).br("ne", "a5", 0, "qd");
    f.add("a2", "a2", "a3").br("gtu", "a2", 1000, "qinv");
    f.label("qok").add("a2", "a2", 1).store(8, "a2", { base: "sp", offset: 0 }).jmp("par");
    f.label("qinv").store(8, 0, { base: "sp", offset: 0 }).jmp("par");
    // the element: a known coding with a valid weight
    f.label("pdone")
      .load(8, "a0", { base: "sp", offset: 0 })
      .br("eq", "a0", 0, "el")
      .br("eq", "s3", "s2", "el");
    f.mov("a0", "s2").sub("a1", "s3", "s2").mov("a2", 0x20).call("find_word");
    f.sub("a0", "a0", CODING0).br("gtu", "a0", 3, "el");
    f.load(8, "a1", { base: "sp", offset: 0 }).shl("a0", "a0", 3).add("a0", "a0", "s4");
    f.store(8, "a1", { base: "a0", offset: S.q }).jmp("el");
    f.label("done").ret();
  });

  // choose(route) → the variant slot (0 identity, 1 gzip, 2 br) with the highest effective weight
  p.func("choose", {}, (f) => {
    f.load(1, "a1", { base: "a0", offset: ROUTE.mask }).mov("a2", 2).mov("a3", 0).mov("a4", 0);
    f.label("loop").shr("a5", "a1", "a2").and("a5", "a5", 1).br("eq", "a5", 0, "next");
    f.shl("a5", "a2", 3)
      .add("a5", "a5", "s4")
      .load(8, "a5", { base: "a5", offset: S.q })
      .br("ne", "a5", 0, "have");
    f.load(8, "a5", { base: "s4", offset: S.q + 24 }).br("ne", "a5", 0, "have");
    f.mov("a5", 1).br("ne", "a2", 0, "have").mov("a5", 2);
    f.label("have").sub("a5", "a5", 1).br("leu", "a5", "a4", "next").mov("a3", "a2").mov("a4", "a5");
    f.label("next").sub("a2", "a2", 1).br("ge", "a2", 0, "loop");
    f.mov("a0", "a3").ret();
  });

  // inm(etag, len) → 1 when an If-None-Match element matches the ETag (weak comparison) or is "*"
  p.func("inm", { frame: 16, saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.store(8, "a0", { base: "sp", offset: 0 }).store(8, "a1", { base: "sp", offset: 8 });
    f.add("s3", "s4", INM).load(8, "s2", { base: "s4", offset: S.inmCount });
    f.label("line").br("eq", "s2", 0, "no").load(8, "s0", "s3").load(8, "s1", { base: "s3", offset: 8 });
    f.add("s1", "s1", "s0").add("s3", "s3", 16).sub("s2", "s2", 1);
    f.label("el").br("geu", "s0", "s1", "line").load(1, "a0", "s0");
    ifSpace(f, "a0", "adv");
    f.br("ne", "a0", 44, "tag");
    f.label("adv").add("s0", "s0", 1).jmp("el");
    f.label("tag").br("eq", "a0", 42, "yes").br("ne", "a0", 87, "quote");
    f.load(1, "a0", { base: "s0", offset: 1 }).br("ne", "a0", 47, "quote").add("s0", "s0", 2);
    f.label("quote").load(1, "a0", "s0").br("ne", "a0", 34, "line").mov("a0", "s0");
    f.label("q").add("s0", "s0", 1).br("geu", "s0", "s1", "line").load(1, "a1", "s0").br("ne", "a1", 34, "q");
    f.add("s0", "s0", 1).sub("a1", "s0", "a0");
    f.load(8, "a2", { base: "sp", offset: 0 }).load(8, "a3", { base: "sp", offset: 8 }).call("same");
    f.br("eq", "a0", 0, "el");
    f.label("yes").mov("a0", 1).ret();
    f.label("no").mov("a0", 0).ret();
  });

  // range(ptr, len, size) → 0 ignored, 1 unsatisfiable, 2 a range (S.first, S.last, S.length);
  // S.size is the size
  p.func("range", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.store(8, "a2", { base: "s4", offset: S.size }).br("leu", "a1", 6, "none");
    f.mov("s0", "a0").add("s1", "a0", "a1").mov("a1", 5).mov("a2", 0x20).call("find_word");
    f.br("ne", "a0", W("bytes"), "none").load(1, "a0", { base: "s0", offset: 5 }).br("ne", "a0", 61, "none");
    f.add("s0", "s0", 6);
    f.label("lt").br("geu", "s0", "s1", "rt").load(1, "a0", "s0");
    f.br("eq", "a0", 32, "ladv").br("ne", "a0", 9, "rt");
    f.label("ladv").add("s0", "s0", 1).jmp("lt");
    f.label("rt").br("geu", "s0", "s1", "trimmed").load(1, "a0", { base: "s1", offset: -1 });
    f.br("eq", "a0", 32, "radv").br("ne", "a0", 9, "trimmed");
    f.label("radv").sub("s1", "s1", 1).jmp("rt");
    f.label("trimmed").mov("s2", 0).mov("a0", "s0");
    f.label("sc").br("geu", "a0", "s1", "scd").load(1, "a1", "a0").br("eq", "a1", 44, "none");
    f.br("ne", "a1", 45, "sn").br("ne", "s2", 0, "sn").mov("s2", "a0");
    f.label("sn").add("a0", "a0", 1).jmp("sc");
    f.label("scd").br("eq", "s2", 0, "none").br("ne", "s2", "s0", "fl");
    // -N
    f.add("a0", "s2", 1).sub("a1", "s1", "a0").call("num").br("eq", "a0", -1, "none");
    f.load(8, "a1", { base: "s4", offset: S.size }).br("eq", "a0", 0, "unsat").br("eq", "a1", 0, "unsat");
    f.sub("a2", "a1", "a0").br("ltu", "a0", "a1", "sfirst").mov("a2", 0);
    f.label("sfirst").sub("a1", "a1", 1).mov("s3", "a2").mov("a2", "a1").jmp("lok");
    // F- and F-L
    f.label("fl")
      .mov("a0", "s0")
      .sub("a1", "s2", "s0")
      .call("num")
      .mov("s3", "a0")
      .br("eq", "s3", -1, "none");
    f.add("a0", "s2", 1).mov("a2", -2).br("eq", "a0", "s1", "have");
    f.sub("a1", "s1", "a0")
      .call("num")
      .br("eq", "a0", -1, "none")
      .br("ltu", "a0", "s3", "none")
      .mov("a2", "a0");
    f.label("have").load(8, "a1", { base: "s4", offset: S.size }).br("geu", "s3", "a1", "unsat");
    f.sub("a1", "a1", 1).br("leu", "a2", "a1", "lok").mov("a2", "a1");
    f.label("lok")
      .store(8, "s3", { base: "s4", offset: S.first })
      .store(8, "a2", { base: "s4", offset: S.last });
    f.sub("a2", "a2", "s3")
      .add("a2", "a2", 1)
      .store(8, "a2", { base: "s4", offset: S.length })
      .mov("a0", 2)
      .ret();
    f.label("none").mov("a0", 0).ret();
    f.label("unsat").mov("a0", 1).ret();
  });
}
