// Standard base64 decoding in the IR, with exactly the rules of src/access/basic.ts: the length a
// multiple of 4, at most two "=" at the end, every other character from A-Z a-z 0-9 + /. Letters
// and digits are mapped by range checks rather than a 256-byte table: smaller.

import type { ProgramBuilder } from "../../ir/builder.ts";

/** Emits `base64_decode(src, len, dst)`: the number of bytes written at dst, or -1. */
export function emitBase64Decode(p: ProgramBuilder): void {
  if (p.has("base64_decode")) return;
  // a0 src, a1 end of the characters before padding, a2 dst, a3 bits, a4 bit count, a5 character
  p.func("base64_decode", { saves: ["s0"] }, (f) => {
    const [pad, loop, got, emit, done, bad] = ["pad", "loop", "got", "emit", "done", "bad"].map((l) =>
      f.newLabel(l),
    ) as [string, string, string, string, string, string];
    f.and("a3", "a1", 3).br("ne", "a3", 0, bad);
    f.mov("s0", "a2").add("a1", "a0", "a1").mov("a4", 0);
    // strip up to two "=" from the end
    f.label(pad).br("eq", "a4", 2, loop).br("eq", "a1", "a0", loop);
    f.load(1, "a5", { base: "a1", offset: -1 }).br("ne", "a5", 61, loop);
    f.sub("a1", "a1", 1).add("a4", "a4", 1).jmp(pad);
    f.label(loop).mov("a4", 0).mov("a3", 0);
    f.label(`${loop}next`).br("geu", "a0", "a1", done);
    f.load(1, "a5", "a0").add("a0", "a0", 1);
    const range = (low: number, count: number, add: number) => {
      const next = f.newLabel("range");
      f.sub("a5", "a5", low).br("geu", "a5", count, next).add("a5", "a5", add).jmp(got);
      f.label(next).add("a5", "a5", low);
    };
    range(65, 26, 0); // A-Z
    range(97, 26, 26); // a-z
    range(48, 10, 52); // 0-9
    range(43, 1, 62); // +
    range(47, 1, 63); // /
    f.jmp(bad);
    f.label(got).shl("a3", "a3", 6).or("a3", "a3", "a5").add("a4", "a4", 6).br("ltu", "a4", 8, `${loop}next`);
    f.label(emit)
      .sub("a4", "a4", 8)
      .shr("a5", "a3", "a4")
      .store(1, "a5", "a2")
      .add("a2", "a2", 1)
      .jmp(`${loop}next`);
    f.label(done).sub("a0", "a2", "s0").ret();
    f.label(bad).mov("a0", -1).ret();
  });
}
