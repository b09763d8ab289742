// What straight-line code proves about register values: an upper bound on each value's bit length
// (a byte load gives at most 8 bits, an `and` with 0xfff at most 12, a data address at most 32).
// Lowering uses it to pick the 32-bit forms, which need no REX.W byte, where they are exact.

import type { Insn, Reg, Src } from "../../ir/types.ts";
import { ARG_REGS } from "../../ir/types.ts";

/** Registers known to hold values below 2^width; a register not in the map may hold any 64-bit value. */
export type Widths = Map<Reg, number>;

/** Bits needed for a 64-bit value read as unsigned: 0 for 0, 64 for anything negative. */
export function bitLength(value: bigint): number {
  const v = BigInt.asUintN(64, value);
  return v === 0n ? 0 : v.toString(2).length;
}

/** Upper bound on the bit length of a register or constant. */
export function widthOf(widths: Widths, src: Src): number {
  return typeof src === "bigint" ? bitLength(src) : (widths.get(src) ?? 64);
}

function set(widths: Widths, reg: Reg, width: number): void {
  if (width >= 64) widths.delete(reg);
  else widths.set(reg, width);
}

function binaryWidth(insn: Extract<Insn, { op: "bin" }>, widths: Widths): number {
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
 * Updates `widths` to hold after `insn`. Labels and jumps forget everything (other paths join
 * there); calls forget a0..a5, syscalls a0. `isData` tells data symbols (abs32 addresses) from functions.
 */
export function trackWidths(insn: Insn, widths: Widths, isData: (symbol: string) => boolean): void {
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
      return;
    case "syscall":
      widths.delete("a0");
      return;
    case "label":
    case "jmp":
    case "ret":
      widths.clear();
      return;
    case "br":
    case "store":
      return;
  }
}
