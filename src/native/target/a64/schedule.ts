// Moves a load up, or a store down, past a couple of register-only instructions when that puts it
// next to its neighbour in memory, so the two become one ldp/stp.

import type { Insn } from "../../ir/types.ts";
import { pairedAccess } from "./fuse.ts";
import { useDef } from "./liveness.ts";

/** Instructions between the two accesses, at most; they may only compute in registers. */
const WINDOW = 2;
const REGISTER_ONLY = new Set<Insn["op"]>(["mov", "bin", "un", "addr"]);

/** `body` with accesses that pair moved together; what every register and byte holds is unchanged. */
export function bringPairsTogether(body: readonly Insn[], localsAt: number): Insn[] {
  const out = [...body];
  for (let i = 0; i < out.length; i++) {
    const first = out[i]!;
    if (first.op !== "load" && first.op !== "store") continue;
    for (let j = i + 2; j <= i + 1 + WINDOW && j < out.length; j++) {
      const middle = out.slice(i + 1, j);
      if (!middle.every((m) => REGISTER_ONLY.has(m.op))) break;
      const second = out[j]!;
      if (!pairedAccess([first, second], 0, localsAt)) continue;
      const written = middle.reduce((m, insn) => m | useDef(insn).def, 0);
      const read = middle.reduce((m, insn) => m | useDef(insn).use, 0);
      if (first.op === "store" && (useDef(first).use & written) === 0) {
        // The store sinks below the middle, which does not change what it stores or where.
        out.splice(i, 1);
        out.splice(j - 1, 0, first);
        break;
      }
      const loaded = useDef(second);
      if (first.op === "load" && (loaded.def & (written | read)) === 0 && (loaded.use & written) === 0) {
        // The load rises above the middle, which neither reads nor writes its result nor moves its base.
        out.splice(j, 1);
        out.splice(i + 1, 0, second);
        break;
      }
    }
  }
  return out;
}
