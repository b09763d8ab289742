// What a function's code proves about register values: an upper bound on each value's bit length
// (a byte load gives at most 8 bits, an `and` with 0xfff at most 12, a data address at most 32),
// carried along every path (where paths join, the larger bound holds) and narrowed by unsigned and
// equality branches. Lowering uses it to pick the 32-bit forms, which need no REX.W byte, where
// they are exact.

import { labelIndexes, NO_RETURN_SYSCALLS } from "../../ir/liveness.ts";
import type { Cond, Insn, Program, Reg, Src } from "../../ir/types.ts";
import { ARG_REGS } from "../../ir/types.ts";

/** Registers known to hold values below 2^width; a register not in the map may hold any 64-bit value. */
export type Widths = Map<Reg, number>;

/** What lowering reads of widths: a map, or a view of one through a register renaming. */
export type WidthsView = Pick<ReadonlyMap<Reg, number>, "get">;

/** Bits needed for a 64-bit value read as unsigned: 0 for 0, 64 for anything negative. */
export function bitLength(value: bigint): number {
  const v = BigInt.asUintN(64, value);
  return v === 0n ? 0 : v.toString(2).length;
}

/** Upper bound on the bit length of a register or constant. */
export function widthOf(widths: WidthsView, src: Src): number {
  return typeof src === "bigint" ? bitLength(src) : (widths.get(src) ?? 64);
}

function set(widths: Widths, reg: Reg, width: number): void {
  if (width >= 64) widths.delete(reg);
  else widths.set(reg, width);
}

/** Upper bound on the bit length of a binary op's result, given its operands' bounds. */
export function binaryWidth(insn: Extract<Insn, { op: "bin" }>, widths: WidthsView): number {
  const a = widthOf(widths, insn.a);
  const b = widthOf(widths, insn.b);
  const count = typeof insn.b === "bigint" ? Number(BigInt.asUintN(6, insn.b)) : null;
  switch (insn.kind) {
    case "and":
      return Math.min(a, b);
    case "or":
    case "xor":
      return Math.max(a, b);
    case "add":
      return Math.max(a, b) + 1;
    case "mul":
      return a + b;
    case "udiv":
      return a;
    case "urem":
      return Math.min(a, b);
    case "shl":
      return count === null ? 64 : a + count;
    case "shr":
      return count === null ? a : Math.max(a - count, 0);
    case "sar":
      // A value below 2^63 is non-negative, so an arithmetic shift is a logical one.
      return a >= 64 ? 64 : count === null ? a : Math.max(a - count, 0);
    case "sub":
      return 64;
  }
}

/**
 * Updates `widths` to hold after `insn` (on the path that continues or jumps; joins are the
 * caller's business): calls forget a0..a5 but learn a0 from `returned` (a bound on what the callee
 * returns), syscalls forget a0. `isData` tells data symbols (abs32 addresses) from functions.
 */
export function trackWidths(
  insn: Insn,
  widths: Widths,
  isData: (symbol: string) => boolean,
  returned: (fn: string) => number = () => 64,
): void {
  switch (insn.op) {
    case "mov":
      set(widths, insn.dst, widthOf(widths, insn.src));
      return;
    case "bin":
      set(widths, insn.dst, binaryWidth(insn, widths));
      return;
    case "un":
      widths.delete(insn.dst);
      return;
    case "load":
      set(widths, insn.dst, insn.size * 8);
      return;
    case "addr":
      set(widths, insn.dst, isData(insn.symbol) ? 32 : 64);
      return;
    case "call":
      for (const r of ARG_REGS) widths.delete(r);
      set(widths, "a0", returned(insn.fn));
      return;
    case "syscall":
      widths.delete("a0");
      return;
    case "label":
    case "jmp":
    case "ret":
    case "handoff":
    case "br":
    case "store":
      return;
  }
}

/** `a <= b` (unsigned) bounds a by b's width. */
function bound(widths: Widths, a: Src, b: Src): void {
  if (typeof a !== "bigint") set(widths, a, Math.min(widthOf(widths, a), widthOf(widths, b)));
}

/** Narrows `widths` by what holds when `br cond a, b` is taken (or, with `taken` false, is not). */
function refine(widths: Widths, cond: Cond, a: Reg, b: Src, taken: boolean): void {
  const holds: Cond | null = taken
    ? cond
    : (({ ltu: "geu", leu: "gtu", gtu: "leu", geu: "ltu", eq: "ne", ne: "eq" } as const)[
        cond as "ltu" | "leu" | "gtu" | "geu" | "eq" | "ne"
      ] ?? null);
  if (holds === "ltu" || holds === "leu") bound(widths, a, b);
  else if (holds === "gtu" || holds === "geu") bound(widths, b, a);
  else if (holds === "eq") {
    bound(widths, a, b);
    bound(widths, b, a);
  }
}

/**
 * The widths known before each instruction of a function body: a forward dataflow from nothing
 * known at the entry to a fixpoint (bounds only grow, so it terminates). Unreachable
 * instructions get the empty map.
 */
export function widthsBefore(
  body: readonly Insn[],
  isData: (symbol: string) => boolean,
  returned?: (fn: string) => number,
): Widths[] {
  const labels = labelIndexes(body);
  const state: (Widths | undefined)[] = new Array(body.length).fill(undefined);
  const work: number[] = [];
  const flow = (to: number, widths: Widths) => {
    if (to >= body.length) return;
    const current = state[to];
    if (current === undefined) {
      state[to] = new Map(widths);
      work.push(to);
      return;
    }
    let changed = false;
    for (const [reg, width] of current) {
      const other = widths.get(reg);
      if (other === undefined || other > width) {
        set(current, reg, other ?? 64);
        changed = true;
      }
    }
    if (changed) work.push(to);
  };
  if (body.length > 0) flow(0, new Map());
  while (work.length > 0) {
    const i = work.pop()!;
    const insn = body[i]!;
    const widths = new Map(state[i]);
    switch (insn.op) {
      case "br": {
        const taken = new Map(widths);
        refine(taken, insn.cond, insn.a, insn.b, true);
        flow(labels.get(insn.target)!, taken);
        refine(widths, insn.cond, insn.a, insn.b, false);
        flow(i + 1, widths);
        break;
      }
      case "jmp":
        flow(labels.get(insn.target)!, widths);
        break;
      case "ret":
      case "handoff":
        break;
      case "syscall":
        if (NO_RETURN_SYSCALLS.has(insn.name)) break;
        trackWidths(insn, widths, isData);
        flow(i + 1, widths);
        break;
      default:
        trackWidths(insn, widths, isData, returned);
        flow(i + 1, widths);
    }
  }
  return state.map((w) => w ?? new Map());
}

/**
 * Widths before every instruction of every function, with a call's result bounded by what its
 * callee returns at each `ret`: bounds start at 0 and grow to a fixpoint, so recursion is sound.
 */
export function programWidths(program: Program): Map<string, Widths[]> {
  const functions = new Set(program.funcs.map((f) => f.name));
  const isData = (symbol: string) => !functions.has(symbol);
  const returns = new Map<string, number>(program.funcs.map((f) => [f.name, 0]));
  const returned = (fn: string) => returns.get(fn) ?? 64;
  const callers = new Map<string, Set<string>>();
  for (const func of program.funcs)
    for (const insn of func.body)
      if (insn.op === "call") callers.set(insn.fn, (callers.get(insn.fn) ?? new Set()).add(func.name));
  const all = new Map<string, Widths[]>();
  // Recompute only the callers of functions whose bound grew, until none grows.
  let dirty = new Set(program.funcs.map((f) => f.name));
  while (dirty.size > 0) {
    const grew = new Set<string>();
    for (const func of program.funcs) {
      if (!dirty.has(func.name)) continue;
      const before = widthsBefore(func.body, isData, returned);
      all.set(func.name, before);
      const width = func.body.reduce(
        (most, insn, i) => (insn.op === "ret" ? Math.max(most, widthOf(before[i]!, "a0")) : most),
        0,
      );
      if (width > returns.get(func.name)!) {
        returns.set(func.name, width);
        grew.add(func.name);
      }
    }
    dirty = new Set([...grew].flatMap((name) => [...(callers.get(name) ?? [])]));
  }
  return all;
}
