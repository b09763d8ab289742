// The request-target in the IR (docs/http-semantics.md, section 4.1), the same rules as
// src/preview/target.ts: `normalise` decodes into PATH, and `lookup` probes the pack's hash table.

import { CLASS } from "../../../pack/layout.ts";
import type { ProgramBuilder } from "../../ir/builder.ts";
import { emitLex } from "./lex.ts";
import { PATH, S, W } from "./state.ts";

const FNV_BASIS = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

export function emitTarget(p: ProgramBuilder): void {
  if (p.has("normalise")) return;
  emitLex(p);

  // normalise(raw, len) → the length of the path written at PATH (also S.pathLen), or -1 for 400;
  // sets S.query and S.queryLen
  p.func("normalise", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").add("s1", "a0", "a1");
    f.load(1, "a2", "a0").br("eq", "a2", 47, "origin");
    f.mov("a1", 7).mov("a2", 0x20).call("find_word").br("eq", "a0", W("http://"), "abs");
    f.mov("a0", "s0").mov("a1", 8).mov("a2", 0x20).call("find_word").br("ne", "a0", W("https://"), "bad");
    f.add("s0", "s0", 1);
    f.label("abs").add("s0", "s0", 7);
    f.label("auth").br("geu", "s0", "s1", "origin").load(1, "a0", "s0");
    f.br("eq", "a0", 47, "origin").br("eq", "a0", 63, "origin").add("s0", "s0", 1).jmp("auth");
    f.label("origin").mov("a0", "s0").store(8, 0, { base: "s4", offset: S.query });
    f.label("qs").br("geu", "a0", "s1", "decode").load(1, "a1", "a0").br("eq", "a1", 63, "qfound");
    f.add("a0", "a0", 1).jmp("qs");
    f.label("qfound").add("a1", "a0", 1).store(8, "a1", { base: "s4", offset: S.query });
    f.sub("a2", "s1", "a1").store(8, "a2", { base: "s4", offset: S.queryLen }).mov("s1", "a0");
    // segments: s2 writes, s3 is the current segment's "/", a4 = 1 at the end, a5 = trailing "/"
    f.label("decode").add("s2", "s4", PATH).mov("s3", "s2");
    f.label("seg").store(1, 47, "s2").add("s2", "s2", 1);
    f.label("loop").mov("a4", 1).br("geu", "s0", "s1", "segend");
    f.load(1, "a0", "s0").add("s0", "s0", 1).mov("a4", 0).br("eq", "a0", 47, "segend");
    f.br("ne", "a0", 37, "put");
    f.load(8, "a3", { base: "s4", offset: S.cls });
    f.load(1, "a1", "s0")
      .load(1, "a0", { base: "a3", index: "a1" })
      .and("a0", "a0", CLASS.hex)
      .br("eq", "a0", 0, "bad");
    f.load(1, "a2", { base: "s0", offset: 1 }).load(1, "a0", { base: "a3", index: "a2" });
    f.and("a0", "a0", CLASS.hex).br("eq", "a0", 0, "bad");
    for (const r of ["a1", "a2"] as const) {
      const ok = f.newLabel("hex");
      f.or(r, r, 0x20).sub(r, r, 48).br("leu", r, 9, ok).sub(r, r, 39).label(ok);
    }
    f.shl("a1", "a1", 4).or("a0", "a1", "a2").add("s0", "s0", 2);
    f.br("eq", "a0", 0, "bad").br("eq", "a0", 47, "bad");
    f.label("put").store(1, "a0", "s2").add("s2", "s2", 1).jmp("loop");
    // end of a segment: drop "" and ".", pop for "..", else keep
    f.label("segend").sub("a1", "s2", "s3").br("eq", "a1", 1, "drop");
    f.load(1, "a2", { base: "s3", offset: 1 });
    f.br("ne", "a1", 2, "notdot").br("eq", "a2", 46, "drop");
    f.label("notdot").br("ne", "a1", 3, "keep");
    f.load(2, "a2", { base: "s3", offset: 1 }).br("ne", "a2", 0x2e2e, "keep");
    f.add("a1", "s4", PATH).br("eq", "s3", "a1", "bad");
    f.label("back").sub("s3", "s3", 1).load(1, "a2", "s3").br("ne", "a2", 47, "back");
    f.label("drop").mov("s2", "s3").mov("a5", 1).jmp("next");
    f.label("keep").mov("a5", 0);
    f.label("next").br("ne", "a4", 0, "fin");
    f.mov("s3", "s2").jmp("seg");
    f.label("fin").add("a1", "s4", PATH).br("eq", "s2", "a1", "slash").br("eq", "a5", 0, "done");
    f.label("slash").store(1, 47, "s2").add("s2", "s2", 1);
    f.label("done").sub("a0", "s2", "a1").store(8, "a0", { base: "s4", offset: S.pathLen }).ret();
    f.label("bad").mov("a0", -1).ret();
  });

  // lookup() → the route record of the path at PATH, or 0
  p.func("lookup", { frame: 16, saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.load(8, "s0", { base: "s4", offset: S.pathLen });
    f.add("a1", "s4", PATH).mov("s1", FNV_BASIS).mov("a3", 0);
    f.label("hash").br("geu", "a3", "s0", "hashed").load(1, "a4", { base: "a1", index: "a3" });
    f.xor("s1", "s1", "a4").mul("s1", "s1", FNV_PRIME).add("a3", "a3", 1).jmp("hash");
    f.label("hashed").load(8, "a0", { base: "s4", offset: S.pack }).load(4, "a3", { base: "a0", offset: 12 });
    f.mov("s2", 1).shl("s2", "s2", "a3").sub("s2", "s2", 1).and("s3", "s1", "s2");
    f.label("probe").load(8, "a0", { base: "s4", offset: S.pack }).load(8, "a1", { base: "a0", offset: 24 });
    f.add("a1", "a1", "a0").shl("a2", "s3", 4).add("a1", "a1", "a2");
    f.load(8, "a2", { base: "a1", offset: 8 }).br("eq", "a2", 0, "none");
    f.add("s3", "s3", 1).and("s3", "s3", "s2");
    f.load(8, "a3", "a1").br("ne", "a3", "s1", "probe");
    f.add("a2", "a2", "a0").store(8, "a2", { base: "sp", offset: 0 });
    f.load(4, "a1", { base: "a2", offset: 8 }).br("ne", "a1", "s0", "probe");
    f.load(8, "a3", "a2").add("a0", "a3", "a0").add("a2", "s4", PATH).mov("a3", "s0").call("same");
    f.br("eq", "a0", 0, "probe").load(8, "a0", { base: "sp", offset: 0 }).ret();
    f.label("none").mov("a0", 0).ret();
  });
}
