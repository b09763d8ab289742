// A value computed into one register and then only copied to another is computed straight into
// the other: `add a0, s1, 8; mov s4, a0` with a0 dead afterwards is `add s4, s1, 8`; and a copy
// straight back (`mov a0, s0; mov s0, a0`) is dropped.

import type { Func, Insn } from "../../ir/types.ts";
import { liveness, type Surroundings } from "./liveness.ts";

/** `func`'s body with each such copy folded into the instruction that computed the value, or dropped. */
export function forwardCopies(func: Func, around?: Surroundings): Insn[] {
  const body = func.body;
  let live: ReturnType<typeof liveness> | null = null;
  const out: Insn[] = [];
  for (let i = 0; i < body.length; i++) {
    const insn = body[i]!;
    const copy = body[i + 1];
    const computes =
      insn.op === "mov" || insn.op === "bin" || insn.op === "un" || insn.op === "load" || insn.op === "addr";
    if (computes && copy?.op === "mov" && copy.src === insn.dst && copy.dst !== insn.dst) {
      live ??= liveness(func, around);
      if (!live(i + 1, insn.dst)) {
        out.push({ ...insn, dst: copy.dst });
        i++;
        continue;
      }
    }
    out.push(insn);
    if (insn.op === "mov" && copy?.op === "mov" && copy.src === insn.dst && copy.dst === insn.src) i++;
  }
  return out;
}
