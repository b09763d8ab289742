// Small shared pieces of the HTTP layer: word lookup, byte comparison and decimal numbers.

import type { ProgramBuilder } from "../../ir/builder.ts";
import { emitState } from "./state.ts";

export function emitLex(p: ProgramBuilder): void {
  if (p.has("find_word")) return;
  emitState(p);

  // find_word(ptr, len, fold) → index in WORDS of the word equal to the bytes (each OR fold), or
  // WORDS.length
  p.func("find_word", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.addr("a3", "http_words").mov("a4", 0);
    f.label("next").load(1, "a5", "a3").br("eq", "a5", 0, "done").br("ne", "a5", "a1", "skip");
    f.mov("s0", "a1");
    f.label("cmp").br("eq", "s0", 0, "done").sub("s0", "s0", 1);
    f.load(1, "s1", { base: "a0", index: "s0" }).or("s1", "s1", "a2");
    f.load(1, "s2", { base: "a3", index: "s0", offset: 1 }).br("eq", "s1", "s2", "cmp");
    f.label("skip").add("a3", "a3", "a5").add("a3", "a3", 1).add("a4", "a4", 1).jmp("next");
    f.label("done").mov("a0", "a4").ret();
  });

  // same(a, alen, b, blen) → 1 when the byte strings are equal, else 0
  p.func("same", {}, (f) => {
    f.br("ne", "a1", "a3", "no");
    f.label("loop").br("eq", "a1", 0, "yes").sub("a1", "a1", 1);
    f.load(1, "a3", { base: "a0", index: "a1" })
      .load(1, "a4", { base: "a2", index: "a1" })
      .br("eq", "a3", "a4", "loop");
    f.label("no").mov("a0", 0).ret();
    f.label("yes").mov("a0", 1).ret();
  });

  // num(ptr, len) → the value of 1 to 15 decimal digits, or -1
  p.func("num", {}, (f) => {
    f.sub("a2", "a1", 1).br("gtu", "a2", 14, "bad");
    f.add("a1", "a1", "a0").mov("a2", 0);
    f.label("digit").load(1, "a3", "a0").sub("a3", "a3", 48).br("gtu", "a3", 9, "bad");
    f.mul("a2", "a2", 10).add("a2", "a2", "a3").add("a0", "a0", 1).br("ltu", "a0", "a1", "digit");
    f.mov("a0", "a2").ret();
    f.label("bad").mov("a0", -1).ret();
  });
}
