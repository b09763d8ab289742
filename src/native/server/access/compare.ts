// Constant-time equality in the IR: the time depends on the length only, never on where bytes
// differ, so a response time cannot reveal how much of a secret a guess got right.

import type { ProgramBuilder } from "../../ir/builder.ts";

/** Emits `ct_equal(a, b, len)`: 1 when the len bytes at a and b are equal, else 0; no data-dependent branch. */
export function emitConstantTimeEqual(p: ProgramBuilder): void {
  if (p.has("ct_equal")) return;
  p.func("ct_equal", {}, (f) => {
    const loop = f.newLabel("loop");
    const done = f.newLabel("done");
    f.mov("a3", 0).add("a2", "a0", "a2");
    f.label(loop).br("geu", "a0", "a2", done);
    f.load(1, "a4", "a0").load(1, "a5", "a1").xor("a4", "a4", "a5").or("a3", "a3", "a4");
    f.add("a0", "a0", 1).add("a1", "a1", 1).jmp(loop);
    // (diff - 1) >> 63 is 1 only for diff = 0 (diff is at most 255)
    f.label(done).sub("a0", "a3", 1).shr("a0", "a0", 63).ret();
  });
}
