// Which IR registers a function may still read after each of its instructions: backward dataflow
// over the function's control flow, so a lowering can drop a result nobody reads.

import { analyzeBody, labelIndexes, successors } from "../../ir/liveness.ts";
import {
  ARG_REGS,
  type Func,
  type Insn,
  type Mem,
  REGS,
  type Reg,
  SAVED_REGS,
  type Src,
} from "../../ir/types.ts";

/** The bit of `r` in the register masks below. */
export const bit = (r: Reg): number => 1 << REGS.indexOf(r);
const ALL_ARGS = ARG_REGS.reduce((m, r) => m | bit(r), 0);
const ALL_SAVED = SAVED_REGS.reduce((m, r) => m | bit(r), 0);

function srcBits(s: Src): number {
  return typeof s === "bigint" ? 0 : bit(s);
}

function memBits(m: Mem): number {
  return (m.base === "sp" ? 0 : bit(m.base)) | (m.index ? bit(m.index) : 0);
}

/** Masks of the registers `insn` reads and writes; a call reads every register, a syscall a0..a5. */
export function useDef(insn: Insn): { use: number; def: number } {
  switch (insn.op) {
    case "mov":
      return { use: srcBits(insn.src), def: bit(insn.dst) };
    case "bin":
      return { use: bit(insn.a) | srcBits(insn.b), def: bit(insn.dst) };
    case "un":
      return { use: bit(insn.a), def: bit(insn.dst) };
    case "load":
      return { use: memBits(insn.mem), def: bit(insn.dst) };
    case "store":
      return { use: srcBits(insn.src) | memBits(insn.mem), def: 0 };
    case "addr":
      return { use: 0, def: bit(insn.dst) };
    case "br":
      return { use: bit(insn.a) | srcBits(insn.b), def: 0 };
    case "call":
      // A callee may read any register its caller set, s-registers included.
      return { use: ALL_ARGS | ALL_SAVED, def: 0 };
    case "syscall":
      return { use: ALL_ARGS, def: 0 };
    case "handoff":
      return { use: bit(insn.target), def: 0 };
    case "ret":
      // The convention returns only a0, but IR code hands back more (sockaddr: a pointer in a1,
      // a length in a2), and every backend keeps what a callee leaves in a1..a5: so do we.
      return { use: ALL_ARGS | ALL_SAVED, def: 0 };
    default:
      return { use: 0, def: 0 };
  }
}

/**
 * What the whole program says about a function's surroundings (from analyzeLiveness): what each
 * callee reads, what callers read after calling this one, the saved registers a handler reads.
 */
export interface Surroundings {
  callee: (name: string) => number;
  returned: number;
  alwaysLive: number;
}

/**
 * For each instruction of `func`, whether `reg` may be read after it; call as `liveAfter(i, reg)`.
 * With `around`, calls, syscalls and returns read and write what the program says they do;
 * without, every call and return reads every register and a call writes none.
 */
export function liveness(func: Func, around?: Surroundings): (index: number, reg: Reg) => boolean {
  const body = func.body;
  if (around) {
    const { liveOut } = analyzeBody(body, around.callee, around.returned, around.alwaysLive);
    return (index, reg) => (liveOut[index]! & bit(reg)) !== 0;
  }
  const labels = labelIndexes(body);
  const next = body.map((_, i) => successors(body, i, labels));
  const effects = body.map(useDef);
  const liveIn = new Array<number>(body.length).fill(0);
  const liveOut = new Array<number>(body.length).fill(0);
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = body.length - 1; i >= 0; i--) {
      const out = next[i]!.reduce((m, s) => m | liveIn[s]!, 0);
      const inside = effects[i]!.use | (out & ~effects[i]!.def);
      if (out !== liveOut[i] || inside !== liveIn[i]) {
        liveOut[i] = out;
        liveIn[i] = inside;
        changed = true;
      }
    }
  }
  return (index, reg) => (liveOut[index]! & bit(reg)) !== 0;
}
