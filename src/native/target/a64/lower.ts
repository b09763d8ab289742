// The fewest AArch64 instructions for one IR instruction at a time: constants, arithmetic with
// immediates, memory operands and compares. Control flow and frames are in assemble.ts.

import type { Base, BinOp, Cond, Insn, Mem, Reg, Src } from "../../ir/types.ts";
import * as a from "./encode.ts";

/** Hardware register of every IR register (see docs/native.md). */
export const PHYSICAL: Record<Base, number> = {
  a0: 0,
  a1: 1,
  a2: 2,
  a3: 3,
  a4: 4,
  a5: 5,
  s0: 19,
  s1: 20,
  s2: 21,
  s3: 22,
  s4: 23,
  s5: 24,
  sp: a.SP,
};

export const T0 = a.X16;
export const T1 = a.X17;
export const phys = (r: Base): number => PHYSICAL[r];

/** The fewest movz/movn/movk, or one orr of a logical immediate, that put `value` in `rd`. */
export function movImm(rd: number, value: bigint): number[] {
  const v = BigInt.asUintN(64, value);
  const halves = [0, 1, 2, 3].map((i) => Number((v >> BigInt(16 * i)) & 0xffffn));
  const zeros = halves.filter((h) => h === 0).length;
  const ones = halves.filter((h) => h === 0xffff).length;
  const useNot = ones > zeros;
  const skip = useNot ? 0xffff : 0;
  const out: number[] = [];
  halves.forEach((h, hw) => {
    if (h === skip) return;
    if (out.length === 0)
      out.push(useNot ? a.moveWide("movn", rd, ~h & 0xffff, hw) : a.moveWide("movz", rd, h, hw));
    else out.push(a.moveWide("movk", rd, h, hw));
  });
  if (out.length === 0) out.push(useNot ? a.moveWide("movn", rd, 0, 0) : a.moveWide("movz", rd, 0, 0));
  if (out.length > 1 && a.bitmaskImmediate(v) !== null) return [a.logicalImm("orr", rd, a.XZR, v)];
  return out;
}

export function movReg(dst: number, src: number): number[] {
  if (dst === src) return [];
  if (src === a.SP || dst === a.SP) return [a.addSubImm("add", dst, src, 0)];
  return [a.movReg(dst, src)];
}

/**
 * What the encoder's own registers (x16, x17, x8) are known to hold along straight-line code, so a
 * constant used again is not built again. Labels and calls forget everything; syscalls keep them.
 */
export class Scratch {
  private readonly known = new Map<number, bigint>();

  /** The instructions that put `value` in `rd`: none when it is already there. */
  load(rd: number, value: bigint): number[] {
    const v = BigInt.asUintN(64, value);
    if (this.known.get(rd) === v) return [];
    this.known.set(rd, v);
    return movImm(rd, v);
  }

  /** `rd` is about to hold something else. */
  clobber(rd: number): void {
    this.known.delete(rd);
  }

  forget(): void {
    this.known.clear();
  }

  /** A copy to try lowerings on without changing what this one knows. */
  clone(): Scratch {
    const copy = new Scratch();
    for (const [r, v] of this.known) copy.known.set(r, v);
    return copy;
  }

  /** Words `load` would emit, without changing what is known. */
  cost(rd: number, value: bigint): number {
    const v = BigInt.asUintN(64, value);
    return this.known.get(rd) === v ? 0 : movImm(rd, v).length;
  }
}

/** Register holding `src`: the register itself, xzr for 0, or T0 loaded with the constant. */
export function operand(src: Src, scratch: Scratch, out: number[]): number {
  if (typeof src !== "bigint") return phys(src);
  if (BigInt.asUintN(64, src) === 0n) return a.XZR;
  out.push(...scratch.load(T0, src));
  return T0;
}

/** A 12-bit immediate, shifted by 12 or not, for an add, sub or compare of `magnitude`. */
function imm12(magnitude: bigint): { imm: number; shift: boolean } | null {
  if (magnitude < 4096n) return { imm: Number(magnitude), shift: false };
  if (magnitude < 1n << 24n && (magnitude & 0xfffn) === 0n)
    return { imm: Number(magnitude >> 12n), shift: true };
  return null;
}

/** add/sub of a constant, as one or two immediate instructions when it fits. */
export function addImm(dst: number, src: number, value: bigint): number[] | null {
  const v = BigInt.asIntN(64, value);
  const op = v < 0n ? "sub" : "add";
  const mag = v < 0n ? -v : v;
  if (mag === 0n) return movReg(dst, src);
  const one = imm12(mag);
  if (one) return [a.addSubImm(op, dst, src, one.imm, one.shift)];
  if (mag < 1n << 24n)
    return [
      a.addSubImm(op, dst, src, Number(mag >> 12n), true),
      a.addSubImm(op, dst, dst, Number(mag & 0xfffn)),
    ];
  return null;
}

/** log2 of `v` when it is a power of two, else null. */
function log2(v: bigint): number | null {
  return v > 0n && (v & (v - 1n)) === 0n ? v.toString(2).length - 1 : null;
}

/** A binary op with a constant operand in one instruction, when some identity or form allows. */
function binaryImm(kind: BinOp, dst: number, src: number, b: bigint): number[] | null {
  const u = BigInt.asUintN(64, b);
  const count = Number(u & 63n);
  const logical = { and: "and", or: "orr", xor: "eor" } as const;
  switch (kind) {
    case "shl":
      return [a.shiftImm("lsl", dst, src, count)];
    case "shr":
      return [a.shiftImm("lsr", dst, src, count)];
    case "sar":
      return [a.shiftImm("asr", dst, src, count)];
    case "add":
    case "sub":
      return addImm(dst, src, kind === "add" ? b : -b);
    case "and":
    case "or":
    case "xor": {
      if (a.bitmaskImmediate(u) !== null) return [a.logicalImm(logical[kind], dst, src, u)];
      if (u !== (1n << 64n) - 1n) return null;
      if (kind === "and") return movReg(dst, src);
      return kind === "or" ? movImm(dst, -1n) : [a.aluReg("orn", dst, a.XZR, src)];
    }
    case "mul": {
      if (u === 0n) return [a.movReg(dst, a.XZR)];
      const k = log2(u);
      if (k !== null) return k === 0 ? movReg(dst, src) : [a.shiftImm("lsl", dst, src, k)];
      const plusOne = log2(u - 1n);
      if (plusOne !== null) return [a.aluReg("add", dst, src, src, plusOne)];
      return null;
    }
    case "udiv": {
      const k = log2(u);
      if (k === null) return null;
      return k === 0 ? movReg(dst, src) : [a.shiftImm("lsr", dst, src, k)];
    }
    case "urem": {
      const k = log2(u);
      if (k === null) return null;
      return k === 0 ? [a.movReg(dst, a.XZR)] : [a.logicalImm("and", dst, src, u - 1n)];
    }
  }
}

export function lowerBinary(insn: Extract<Insn, { op: "bin" }>, scratch: Scratch): number[] {
  const dst = phys(insn.dst);
  const src = phys(insn.a);
  const { kind, b } = insn;
  if (typeof b === "bigint") {
    const folded = binaryImm(kind, dst, src, b);
    if (folded) return folded;
  }
  const out: number[] = [];
  const rb = operand(b, scratch, out);
  switch (kind) {
    case "add":
    case "sub":
      out.push(a.aluReg(kind, dst, src, rb));
      break;
    case "and":
      out.push(a.aluReg("and", dst, src, rb));
      break;
    case "or":
      out.push(a.aluReg("orr", dst, src, rb));
      break;
    case "xor":
      out.push(a.aluReg("eor", dst, src, rb));
      break;
    case "mul":
      out.push(a.mulAdd("madd", dst, src, rb, a.XZR));
      break;
    case "udiv":
      out.push(a.dataProc2("udiv", dst, src, rb));
      break;
    case "urem":
      scratch.clobber(T1);
      out.push(a.dataProc2("udiv", T1, src, rb), a.mulAdd("msub", dst, T1, rb, src));
      break;
    case "shl":
      out.push(a.dataProc2("lslv", dst, src, rb));
      break;
    case "shr":
      out.push(a.dataProc2("lsrv", dst, src, rb));
      break;
    case "sar":
      out.push(a.dataProc2("asrv", dst, src, rb));
      break;
  }
  return out;
}

/**
 * A load or store of register `rt` at `m`, in the smallest form the offset allows; sp-based
 * offsets are moved up by `localsAt`, where the frame's locals begin.
 */
export function memoryAccess(
  load: boolean,
  size: a.Size,
  rt: number,
  m: Mem,
  localsAt: number,
  scratch: Scratch,
): number[] {
  let base = phys(m.base);
  const offset = m.offset + (m.base === "sp" ? localsAt : 0);
  const out: number[] = [];
  if (m.index) {
    if (offset !== 0) {
      scratch.clobber(T1);
      const folded = addImm(T1, base, BigInt(offset));
      out.push(...(folded ?? [...movImm(T1, BigInt(offset)), a.aluReg("add", T1, T1, base)]));
      base = T1;
    }
    const scaled = (m.scale ?? 1) === size && size > 1;
    if ((m.scale ?? 1) !== 1 && !scaled)
      throw new Error(`a64: scale ${m.scale} must be 1 or the access size ${size}`);
    out.push(a.loadStoreRegOffset(load, size, rt, base, phys(m.index), scaled));
    return out;
  }
  if (offset >= 0 && offset % size === 0 && offset / size < 4096)
    return [a.loadStoreScaled(load, size, rt, base, offset)];
  if (offset >= -256 && offset < 256) return [a.loadStoreUnscaled(load, size, rt, base, offset)];
  out.push(...scratch.load(T1, BigInt(offset)), a.loadStoreRegOffset(load, size, rt, base, T1, false));
  return out;
}

/** A store of a register or constant; a constant is built as cheaply as its stored bytes allow. */
export function lowerStore(
  insn: Extract<Insn, { op: "store" }>,
  localsAt: number,
  scratch: Scratch,
): number[] {
  const out: number[] = [];
  let src = insn.src;
  if (typeof src === "bigint") {
    const bits = insn.size * 8;
    const forms = [src, BigInt.asUintN(bits, src), BigInt.asIntN(bits, src)];
    const cost = (v: bigint) => (BigInt.asUintN(64, v) === 0n ? 0 : scratch.cost(T0, v));
    src = forms.reduce((best, v) => (cost(v) < cost(best) ? v : best));
  }
  const rt = operand(src, scratch, out);
  return [...out, ...memoryAccess(false, insn.size, rt, insn.mem, localsAt, scratch)];
}

/** What a compare-and-branch becomes: a flag-setting compare then b.cond, or a single test. */
export type BranchShape =
  | { kind: "cmp"; words: number[]; cond: number }
  | { kind: "cbz"; nonZero: boolean; reg: number }
  | { kind: "tbz"; nonZero: boolean; reg: number; bit: number }
  | { kind: "always" }
  | { kind: "never" };

/** Compares with 0 (or 1, unsigned) that only ask whether a register is zero. */
const ZERO_TESTS: Partial<Record<string, "zero" | "nonZero" | "never" | "always">> = {
  "eq 0": "zero",
  "leu 0": "zero",
  "ltu 1": "zero",
  "ne 0": "nonZero",
  "gtu 0": "nonZero",
  "geu 1": "nonZero",
  "ltu 0": "never",
  "geu 0": "always",
};

/** Compares with 0 or -1 that only ask for the sign bit: whether the branch is taken when it is set. */
const SIGN_TESTS: Partial<Record<string, boolean>> = {
  "lt 0": true,
  "le -1": true,
  "ge 0": false,
  "gt -1": false,
};

/** The shortest test of `a cond b`: zero and sign tests need no compare. */
export function lowerBranch(cond: Cond, ra: Reg, b: Src, scratch: Scratch): BranchShape {
  const r = phys(ra);
  if (typeof b !== "bigint")
    return { kind: "cmp", words: [a.aluReg("subs", a.XZR, r, phys(b))], cond: a.COND[cond] };
  const v = BigInt.asIntN(64, b);
  const zero = ZERO_TESTS[`${cond} ${v}`];
  if (zero === "zero" || zero === "nonZero") return { kind: "cbz", nonZero: zero === "nonZero", reg: r };
  if (zero) return { kind: zero };
  const sign = SIGN_TESTS[`${cond} ${v}`];
  if (sign !== undefined) return { kind: "tbz", nonZero: sign, reg: r, bit: 63 };
  return { kind: "cmp", words: compareImm(r, v, scratch), cond: a.COND[cond] };
}

/** cmp (or cmn for a negative constant) with an immediate when one fits, else through T0. */
function compareImm(r: number, v: bigint, scratch: Scratch): number[] {
  const direct = imm12(v < 0n ? -v : v);
  if (direct) return [a.addSubImm(v < 0n ? "adds" : "subs", a.XZR, r, direct.imm, direct.shift)];
  return [...scratch.load(T0, v), a.aluReg("subs", a.XZR, r, T0)];
}

/** The number of the one set bit of `value`, or null when it has another number of set bits. */
export function singleBit(value: bigint): number | null {
  return log2(BigInt.asUintN(64, value));
}

/** Words a branch of this shape takes, the b.cond or b included. */
export function branchCost(shape: BranchShape): number {
  switch (shape.kind) {
    case "cmp":
      return shape.words.length + 1;
    case "never":
      return 0;
    default:
      return 1;
  }
}

/** The flag-setting compare of `a` with `b` (cmp or cmn), even where a zero test would be shorter. */
export function compare(ra: Reg, b: Src, scratch: Scratch): number[] {
  if (typeof b !== "bigint") return [a.aluReg("subs", a.XZR, phys(ra), phys(b))];
  return compareImm(phys(ra), BigInt.asIntN(64, b), scratch);
}

/** Whether arm64 condition `cond` holds when the flags are `nzcv` (N 8, Z 4, C 2, V 1). */
function holds(cond: number, nzcv: number): boolean {
  const [n, z, c, v] = [8, 4, 2, 1].map((f) => (nzcv & f) !== 0) as [boolean, boolean, boolean, boolean];
  const positive = [z, c, n, v, c && !z, n === v, n === v && !z, true][cond >> 1]!;
  return (cond & 1) === 1 && cond !== 15 ? !positive : positive;
}

/**
 * ccmp/ccmn of `a` with `b` when `when` holds, else flags that make `cond` come out `outcome`;
 * null when `b` is a constant beyond ±31.
 */
export function conditionalCompare(
  ra: Reg,
  b: Src,
  when: number,
  cond: number,
  outcome: boolean,
): number | null {
  let nzcv = 0;
  while (holds(cond, nzcv) !== outcome) nzcv++;
  if (typeof b !== "bigint") return a.condCompare("ccmp", phys(ra), phys(b), false, nzcv, when);
  const v = BigInt.asIntN(64, b);
  if (v < -31n || v > 31n) return null;
  return a.condCompare(v < 0n ? "ccmn" : "ccmp", phys(ra), Number(v < 0n ? -v : v), true, nzcv, when);
}
