// Lowers IR functions to x86-64 machine code: the shortest sequence per instruction, prologues and
// epilogues, and branch relaxation (every branch starts short; one out of range lands on a nearby
// branch or trampoline to the same target or grows to near, until a fixpoint). The context an
// instruction's bytes depend on: liveness (../../ir/liveness.ts), register widths (widths.ts), the
// instruction before or after (a load or `and` folded into the branch after it, a syscall result
// read from rax, flags an ALU op already set), and which saved registers a function keeps private
// (saved.ts). docs/native.md lists the rules.

import {
  analyzeLiveness,
  type Liveness,
  labelIndexes,
  NO_RETURN_SYSCALLS,
  regBit,
} from "../../ir/liveness.ts";
import type { Cond, Func, Insn, Mem, Program, Reg, Src } from "../../ir/types.ts";
import type { AssembledText, Relocation } from "../types.ts";
import { PHYSICAL } from "./abi.ts";
import * as x from "./encode.ts";
import { chooseSaved } from "./saved.ts";
import { chooseArgs } from "./webs.ts";
import { binaryWidth, programWidths, type WidthsView, widthOf } from "./widths.ts";

const { RAX, RCX, RDX, RSP } = x;
const A0 = PHYSICAL.a0;

/** One piece of output: fixed bytes, a branch to relax, or a reference resolved after layout. */
type Item =
  /** `ends`: control never falls through these bytes (a return or an exit). */
  | { kind: "bytes"; bytes: number[]; ends?: boolean }
  | { kind: "label"; name: string }
  /**
   * cc null is an unconditional jmp; the target is a "func.label" or a function name (tail calls).
   * `via` is the index of a relay: a nearby branch to the same target that is sure to be taken
   * under the flags this one is taken with (a jmp, or a jcc whose condition code is in `implies`),
   * which a short branch reaches when the target itself is out of rel8 range. A relay never has one.
   */
  | {
      kind: "branch";
      cc: number | null;
      implies: readonly number[];
      target: string;
      long: boolean;
      via?: number;
      relay?: boolean;
      /** Added by addTrampolines: a jump no code falls into, placed for others to relay through. */
      trampoline?: boolean;
    }
  | { kind: "call"; target: string }
  /** Address of a function: `lea r64, [rip + rel32]`, resolved here. */
  | { kind: "leaFunction"; dst: number; symbol: string; offset: number }
  /** Address of data: `mov r32, imm32` with an abs32 relocation (the image sits below 4 GiB). */
  | { kind: "movData"; dst: number; symbol: string; offset: number };

const phys = (r: Reg | "sp"): number => PHYSICAL[r];

function mem(m: Mem): x.X64Mem {
  const out: x.X64Mem = { base: phys(m.base), disp: m.offset };
  if (m.index) {
    out.index = phys(m.index);
    out.scale = m.scale ?? 1;
  }
  return out;
}

const sameMem = (a: Mem, b: Mem): boolean =>
  a.base === b.base && a.index === b.index && (a.scale ?? 1) === (b.scale ?? 1) && a.offset === b.offset;

const shortest = (...options: number[][]): number[] =>
  options.reduce((best, o) => (o.length < best.length ? o : best));

/** log2 of a power of two in [1, 2^63] (as an unsigned 64-bit value), else null. */
function log2(value: bigint): number | null {
  const v = BigInt.asUintN(64, value);
  if (v === 0n || (v & (v - 1n)) !== 0n) return null;
  return v.toString(2).length - 1;
}

/** The shortest way to put a constant in a register. */
function movImm(dst: number, value: bigint): number[] {
  const v = BigInt.asIntN(64, value);
  if (v === 0n) return x.zeroReg(dst);
  if (x.isInt8(v)) return [...x.pushImm8(v), ...x.popReg(dst)];
  if (x.isUint32(v)) return x.movReg32Imm(dst, v);
  if (x.isInt32(v)) return shortest([...x.pushImm32(v), ...x.popReg(dst)], x.movRegImm32(dst, v));
  return x.movRegImm64(dst, BigInt.asUintN(64, v));
}

/** Sequences whose last instruction sets ZF from the whole destination register, marked by `zf`. */
const zeroFlagFromDst = new WeakSet<number[]>();
const zf = (bytes: number[]): number[] => {
  zeroFlagFromDst.add(bytes);
  return bytes;
};

/** A 64-bit copy: `push src; pop dst` (two bytes) between the eight registers without REX, else `mov`. */
function movReg(dst: number, src: number): number[] {
  if (dst === src) return [];
  return dst < 8 && src < 8 ? [...x.pushReg(src), ...x.popReg(dst)] : x.movRegReg(dst, src);
}

/** `dst = a & mask`: zero-extending moves for the byte, word and dword masks, 32-bit `and` below 2^32. */
function andImm(dst: number, a: number, mask: bigint): number[] {
  if (mask === 0n) return x.zeroReg(dst);
  if (mask === -1n) return movReg(dst, a);
  if (mask === 0xffn) return x.movzxReg8(dst, a);
  if (mask === 0xffffn) return x.movzxReg16(dst, a);
  if (mask === 0xffffffffn) return x.movReg32Reg32(dst, a);
  if (x.isUint32(mask)) return zf([...movReg(dst, a), ...x.aluReg32Imm("and", dst, mask)]);
  if (x.isInt32(mask)) return zf([...movReg(dst, a), ...x.aluRegImm("and", dst, mask)]);
  return zf([...movImm(RAX, mask), ...movReg(dst, a), ...x.aluRegReg("and", dst, RAX)]);
}

/** `dst = a ± imm`: inc/dec for ±1, lea when the destination differs, the imm8/imm32 forms otherwise. */
function addImm(dst: number, a: number, delta: bigint): number[] {
  if (delta === 0n) return movReg(dst, a);
  if (dst !== a && x.isInt32(delta)) return x.leaRegMem(dst, { base: a, disp: Number(delta) });
  const move = movReg(dst, a);
  if (delta === 1n || delta === -1n) return zf([...move, ...x.incDecReg(delta === 1n ? "inc" : "dec", dst)]);
  if (x.isInt32(delta)) return zf([...move, ...x.aluRegImm("add", dst, delta)]);
  if (x.isInt32(-delta)) return zf([...move, ...x.aluRegImm("sub", dst, -delta)]);
  return zf([...movImm(RAX, delta), ...move, ...x.aluRegReg("add", dst, RAX)]);
}

/** Unsigned divide or remainder: rdx:rax by a register, preserving rdx (a2) when it is read later. */
function divide(
  kind: "udiv" | "urem",
  dst: number,
  a: number,
  b: number | bigint,
  rdxLive: boolean,
): number[] {
  if (typeof b === "bigint") {
    const k = log2(b);
    if (k !== null)
      return kind === "udiv"
        ? k === 0
          ? movReg(dst, a)
          : zf([...movReg(dst, a), ...x.shiftRegImm("shr", dst, k)])
        : andImm(dst, a, BigInt.asIntN(64, (1n << BigInt(k)) - 1n));
  }
  const keepRdx = dst !== RDX && rdxLive;
  const divisor = typeof b === "bigint" || b === RDX ? RCX : b;
  return [
    ...(keepRdx ? x.pushReg(RDX) : []),
    ...(typeof b === "bigint" ? movImm(RCX, b) : b === RDX ? movReg(RCX, RDX) : []),
    ...movReg(RAX, a),
    ...x.zeroReg(RDX),
    ...x.unaryReg("div", divisor),
    ...(kind === "udiv" ? x.xchgRax(dst) : movReg(dst, RDX)),
    ...(keepRdx ? x.popReg(RDX) : []),
  ];
}

function multiply(dst: number, a: number, b: number | bigint): number[] {
  if (typeof b === "bigint") {
    const v = BigInt.asIntN(64, b);
    if (v === 0n) return x.zeroReg(dst);
    const k = log2(v);
    const shift =
      k === null ? null : k === 0 ? movReg(dst, a) : [...movReg(dst, a), ...x.shiftRegImm("shl", dst, k)];
    if (x.isInt32(v)) return shift ? shortest(shift, x.imulRegRegImm(dst, a, v)) : x.imulRegRegImm(dst, a, v);
    if (shift) return shift;
    return [...movImm(RAX, v), ...movReg(dst, a), ...x.imulRegReg(dst, RAX)];
  }
  if (dst === a) return x.imulRegReg(dst, b);
  if (dst === b) return x.imulRegReg(dst, a);
  return [...movReg(dst, a), ...x.imulRegReg(dst, b)];
}

const movReg32 = (dst: number, src: number): number[] => (dst === src ? [] : x.movReg32Reg32(dst, src));

/**
 * `dst = a op b` in 32-bit forms (no REX.W byte), which compute the same when the operands and the
 * true result all fit 32 bits (a 32-bit op zero-extends its result); null when that is not proven.
 * Shifts need a constant count below 32 (the 32-bit forms take counts mod 32); an arithmetic shift
 * of a value below 2^32 is a logical one.
 */
function lowerNarrow(
  insn: Extract<Insn, { op: "bin" }>,
  widths: WidthsView,
  rdxLive: boolean,
): number[] | null {
  if (widthOf(widths, insn.a) > 32 || widthOf(widths, insn.b) > 32 || binaryWidth(insn, widths) > 32)
    return null;
  const dst = phys(insn.dst);
  const a = phys(insn.a);
  if (typeof insn.b === "bigint") {
    const v = insn.b;
    switch (insn.kind) {
      case "shl":
      case "shr":
      case "sar": {
        const count = Number(v);
        if (count >= 32) return null;
        if (count === 0) return movReg32(dst, a);
        return zf([...movReg32(dst, a), ...x.shiftReg32Imm(insn.kind === "shl" ? "shl" : "shr", dst, count)]);
      }
      case "add":
        if (v === 0n) return movReg32(dst, a);
        if (dst !== a) return x.leaReg32Mem(dst, { base: a, disp: Number(BigInt.asIntN(32, v)) });
        if (v === 1n) return zf(x.incDecReg32("inc", dst));
        return zf(x.aluReg32Imm("add", dst, v));
      case "or":
      case "xor":
        return zf([...movReg32(dst, a), ...x.aluReg32Imm(insn.kind, dst, v)]);
      case "mul":
        if (log2(v) !== null) return null;
        return x.imulReg32RegImm(dst, a, BigInt.asIntN(32, v));
      case "udiv":
      case "urem":
        if (log2(v) !== null) return null;
        return divide32(insn.kind, dst, a, v, rdxLive);
      default:
        return null;
    }
  }
  const b = phys(insn.b);
  switch (insn.kind) {
    case "add":
    case "or":
    case "xor":
    case "and":
      if (dst === a) return zf(x.aluReg32Reg(insn.kind, dst, b));
      if (dst === b) return zf(x.aluReg32Reg(insn.kind, dst, a));
      if (insn.kind === "add") return x.leaReg32Mem(dst, { base: a, index: b, scale: 1, disp: 0 });
      return zf([...x.movReg32Reg32(dst, a), ...x.aluReg32Reg(insn.kind, dst, b)]);
    case "mul":
      if (dst === a) return x.imulReg32Reg(dst, b);
      if (dst === b) return x.imulReg32Reg(dst, a);
      return [...x.movReg32Reg32(dst, a), ...x.imulReg32Reg(dst, b)];
    case "udiv":
    case "urem":
      return divide32(insn.kind, dst, a, b, rdxLive);
    default:
      return null;
  }
}

/** Unsigned divide or remainder of values below 2^32: edx:eax by a 32-bit register. */
function divide32(
  kind: "udiv" | "urem",
  dst: number,
  a: number,
  b: number | bigint,
  rdxLive: boolean,
): number[] {
  const keepRdx = dst !== RDX && rdxLive;
  const divisor = typeof b === "bigint" || b === RDX ? RCX : b;
  return [
    ...(keepRdx ? x.pushReg(RDX) : []),
    ...(typeof b === "bigint" ? movImm(RCX, b) : b === RDX ? x.movReg32Reg32(RCX, RDX) : []),
    ...x.movReg32Reg32(RAX, a),
    ...x.zeroReg(RDX),
    ...x.unaryReg32("div", divisor),
    ...(kind === "udiv" ? x.xchgEax(dst) : movReg32(dst, RDX)),
    ...(keepRdx ? x.popReg(RDX) : []),
  ];
}

/**
 * `udiv q, a, b` and `urem r, a, b` side by side (either order, the first writing neither a nor b,
 * b not a power of two): one div leaves the quotient in rax and the remainder in rdx.
 */
function divideBoth(
  first: Extract<Insn, { op: "bin" }>,
  second: Insn | undefined,
  widths: WidthsView,
  rdxLive: boolean,
): number[] | null {
  if (second?.op !== "bin" || second.a !== first.a || second.b !== first.b) return null;
  const kinds = `${first.kind} ${second.kind}`;
  if (kinds !== "udiv urem" && kinds !== "urem udiv") return null;
  if (first.dst === first.a || first.dst === first.b || first.dst === second.dst) return null;
  if (typeof first.b === "bigint" && log2(first.b) !== null) return null;
  const [div, rem] = first.kind === "udiv" ? [first, second] : [second, first];
  const narrow = widthOf(widths, first.a) <= 32 && widthOf(widths, first.b) <= 32;
  const [q, r, a] = [phys(div.dst), phys(rem.dst), phys(first.a)];
  const b = typeof first.b === "bigint" ? first.b : phys(first.b);
  const keepRdx = q !== RDX && r !== RDX && rdxLive;
  const divisor = typeof b === "bigint" || b === RDX ? RCX : b;
  return [
    ...(keepRdx ? x.pushReg(RDX) : []),
    ...(typeof b === "bigint" ? movImm(RCX, b) : b === RDX ? movReg(RCX, RDX) : []),
    ...(narrow ? movReg32(RAX, a) : movReg(RAX, a)),
    ...x.zeroReg(RDX),
    ...(narrow ? x.unaryReg32("div", divisor) : x.unaryReg("div", divisor)),
    // the remainder leaves rdx before a quotient that goes there
    ...movReg(r, RDX),
    ...(narrow ? x.xchgEax(q) : x.xchgRax(q)),
    ...(keepRdx ? x.popReg(RDX) : []),
  ];
}

const ALU_OPS = { add: "add", sub: "sub", and: "and", or: "or", xor: "xor" } as const;

/** `dst = a op b` on a two-address machine; `rdxLive` says whether a2 is read before it is written. */
function lowerBinary(insn: Extract<Insn, { op: "bin" }>, rdxLive: boolean, widths: WidthsView): number[] {
  const narrow = lowerNarrow(insn, widths, rdxLive);
  if (narrow) return narrow;
  const dst = phys(insn.dst);
  const a = phys(insn.a);
  const imm = typeof insn.b === "bigint" ? BigInt.asIntN(64, insn.b) : null;
  const b = imm ?? phys(insn.b as Reg);
  const kind = insn.kind;

  switch (kind) {
    case "shl":
    case "shr":
    case "sar": {
      if (typeof b === "bigint") {
        const count = Number(BigInt.asUintN(6, b));
        return count === 0 ? movReg(dst, a) : zf([...movReg(dst, a), ...x.shiftRegImm(kind, dst, count)]);
      }
      // Only the count's low 6 bits matter, so the 32-bit move (no REX for low registers) is enough.
      return [...x.movReg32Reg32(RCX, b), ...movReg(dst, a), ...x.shiftRegCl(kind, dst)];
    }
    case "udiv":
    case "urem":
      return divide(kind, dst, a, b, rdxLive);
    case "mul":
      return multiply(dst, a, b);
    default:
      break;
  }
  const op = ALU_OPS[kind];
  if (typeof b === "bigint") {
    if (op === "add" || op === "sub") return addImm(dst, a, BigInt.asIntN(64, op === "add" ? b : -b));
    if (op === "and") return andImm(dst, a, b);
    if (op === "xor" && b === -1n) return [...movReg(dst, a), ...x.unaryReg("not", dst)];
    if (x.isInt32(b)) return zf([...movReg(dst, a), ...x.aluRegImm(op, dst, b)]);
    return zf([...movImm(RAX, b), ...movReg(dst, a), ...x.aluRegReg(op, dst, RAX)]);
  }
  if (dst === a) return zf(x.aluRegReg(op, dst, b));
  if (dst === b) {
    // a - dst = -dst + a; the other ops commute.
    if (op === "sub") return zf([...x.unaryReg("neg", dst), ...x.aluRegReg("add", dst, a)]);
    return zf(x.aluRegReg(op, dst, a));
  }
  if (op === "add") return x.leaRegMem(dst, { base: a, index: b, scale: 1, disp: 0 });
  return zf([...movReg(dst, a), ...x.aluRegReg(op, dst, b)]);
}

/**
 * Stores: a register as is; constants as an immediate field, except that 4- and 8-byte stores of a
 * small constant are shorter through rax (`push imm8; pop rax` or `xor eax, eax`, then a register store).
 */
function lowerStore(insn: Extract<Insn, { op: "store" }>): number[] {
  const m = mem(insn.mem);
  if (typeof insn.src !== "bigint") return x.storeReg(insn.size, phys(insn.src), m);
  const bits = insn.size * 8;
  const value = BigInt.asIntN(bits, insn.src);
  if (insn.size >= 4 && x.isInt8(value)) return [...movImm(RAX, value), ...x.storeReg(insn.size, RAX, m)];
  if (insn.size < 8) return x.storeImm(insn.size, BigInt.asUintN(bits, value), m);
  if (x.isInt32(value)) return x.storeImm(8, value, m);
  return [...movImm(RAX, value), ...x.storeReg(8, RAX, m)];
}

const SIGNED = new Set(["lt", "le", "gt", "ge"]);

/**
 * Conditions sure to hold when `cond` holds on the flags of a cmp or test: equal operands also
 * compare less-or-equal and greater-or-equal both ways, an ordering implies inequality.
 */
const IMPLIED_BY_COMPARE: Record<Cond, readonly Cond[]> = {
  eq: ["eq", "le", "ge", "leu", "geu"],
  ne: ["ne"],
  lt: ["lt", "le", "ne"],
  le: ["le"],
  gt: ["gt", "ge", "ne"],
  ge: ["ge"],
  ltu: ["ltu", "leu", "ne"],
  leu: ["leu"],
  gtu: ["gtu", "geu", "ne"],
  geu: ["geu"],
};

/** The same after an ALU op whose ZF is reused: only ZF is known (CF, SF and OF are the op's). */
const IMPLIED_BY_ZERO_FLAG: Record<"eq" | "ne", readonly Cond[]> = { eq: ["eq", "le", "leu"], ne: ["ne"] };

/**
 * Sets the flags for `br cond a, b`; a comparison with 0 is `test a, a` (same flags as `cmp a, 0`).
 * When both sides are known to fit 32 bits (31 for signed conditions) the 32-bit forms compare the
 * same way and need no REX.W byte. `ra` is where a's value is (another register than a's own when
 * a syscall result is still in rax; then b is a register or an imm32).
 */
function lowerCompare(cond: Cond, a: Reg, b: Src, widths: WidthsView, ra = phys(a)): number[] {
  const limit = SIGNED.has(cond) ? 31 : 32;
  const narrow = widthOf(widths, a) <= limit && widthOf(widths, b) <= limit;
  if (typeof b !== "bigint")
    return narrow ? x.aluReg32Reg("cmp", ra, phys(b)) : x.aluRegReg("cmp", ra, phys(b));
  const v = BigInt.asIntN(64, b);
  if (v === 0n) return narrow ? x.testReg32(ra, ra) : x.testRegReg(ra, ra);
  if (narrow) return x.aluReg32Imm("cmp", ra, v);
  if (x.isInt32(v)) return x.aluRegImm("cmp", ra, v);
  return [...movImm(RAX, v), ...x.aluRegReg("cmp", ra, RAX)];
}

const UNSIGNED: Record<Cond, Cond> = {
  eq: "eq",
  ne: "ne",
  lt: "ltu",
  le: "leu",
  gt: "gtu",
  ge: "geu",
  ltu: "ltu",
  leu: "leu",
  gtu: "gtu",
  geu: "geu",
};

/**
 * `load r, [mem]` followed by `br cond r, b` where r is dead afterwards: the branch can compare the
 * memory operand directly. A narrower access compares zero-extended values, which are never
 * negative, so signed conditions become unsigned ones; `b` must fit the access size. Returns the
 * compare and the condition to branch on, or null when the pair does not fuse.
 */
function fusedLoadCompare(
  load: Extract<Insn, { op: "load" }>,
  br: Extract<Insn, { op: "br" }>,
  widths: WidthsView,
): { bytes: number[]; cond: Cond } | null {
  if (br.a !== load.dst || br.b === load.dst) return null;
  const m = mem(load.mem);
  const cond = load.size === 8 ? br.cond : UNSIGNED[br.cond];
  if (typeof br.b === "bigint") {
    const v = BigInt.asIntN(64, br.b);
    if (load.size === 8) return x.isInt32(v) ? { bytes: x.cmpMemImm(8, m, v), cond } : null;
    if (v < 0n || v >= 1n << BigInt(load.size * 8)) return null;
    return { bytes: x.cmpMemImm(load.size, m, v), cond };
  }
  if (widthOf(widths, br.b) > load.size * 8) return null;
  return { bytes: x.cmpMemReg(load.size, m, phys(br.b)), cond };
}

/** True when only labels lie between instruction `i` and label `target`: a jump there is a no-op. */
function fallsThroughTo(body: readonly Insn[], i: number, target: string): boolean {
  for (let j = i + 1; j < body.length; j++) {
    const insn = body[j]!;
    if (insn.op !== "label") return false;
    if (insn.name === target) return true;
  }
  return false;
}

/** Frames of up to this many quadwords are made with `push rax` and freed with `pop rcx` (1 byte each). */
const PUSHED_FRAME_WORDS = 3;

interface Frame {
  saves: number[];
  size: number;
}

/** Saves the s-registers, then makes room for the locals. */
function prologue(frame: Frame): number[] {
  const out: number[] = [];
  for (const r of frame.saves) out.push(...x.pushReg(r));
  const words = frame.size / 8;
  if (words <= PUSHED_FRAME_WORDS) for (let i = 0; i < words; i++) out.push(...x.pushReg(RAX));
  else out.push(...x.aluRegImm("sub", RSP, BigInt(frame.size)));
  return out;
}

/** Frees the locals, restores the s-registers and returns (a0, the result, is untouched): one entry per instruction. */
function epilogueParts(frame: Frame): number[][] {
  const out: number[][] = [];
  const words = frame.size / 8;
  if (words <= PUSHED_FRAME_WORDS) for (let i = 0; i < words; i++) out.push(x.popReg(RCX));
  else out.push(x.aluRegImm("add", RSP, BigInt(frame.size)));
  for (const r of [...frame.saves].reverse()) out.push(x.popReg(r));
  out.push(x.RET);
  return out;
}

/** Epilogues shorter than this stay in their function: a near jmp to another's is 5 bytes. */
const SHARED_EPILOGUE_MIN = 6;

/**
 * Epilogues placed so far across the program, by the hex of their bytes from each instruction to
 * the end, with the label there: a later function whose epilogue ends like one of them emits only
 * what comes before that part and jumps into it.
 */
type EpilogueLabels = Map<string, string>;
const hex = (parts: readonly number[][]): string =>
  parts
    .flat()
    .map((b) => b.toString(16))
    .join(".");

/** Lowers one function to items; labels are qualified as "func.label". */
function lowerFunction(
  func: Func,
  isEntry: boolean,
  syscalls: Record<string, number>,
  functions: ReadonlySet<string>,
  liveness: Liveness,
  known: readonly WidthsView[],
  epilogues?: EpilogueLabels,
): Item[] {
  const items: Item[] = [{ kind: "label", name: func.name }];
  const bytes = (b: number[]) => {
    if (b.length > 0) items.push({ kind: "bytes", bytes: b });
  };
  const finalBytes = (b: number[]) => items.push({ kind: "bytes", bytes: b, ends: true });
  const local = (name: string) => `${func.name}.${name}`;
  const frame: Frame = { saves: isEntry ? [] : func.saves.map(phys), size: Math.ceil(func.frame / 8) * 8 };
  const exitParts = epilogueParts(frame);
  const exitSequence = exitParts.flat();
  const sharedExit = local("%ret");
  /** The function's exit: its own epilogue, or the part before a known tail of it and a jump there. */
  const placeExit = () => {
    if (!epilogues || exitSequence.length < SHARED_EPILOGUE_MIN) return finalBytes(exitSequence);
    for (let k = 0; k < exitParts.length; k++) {
      const label = epilogues.get(hex(exitParts.slice(k)));
      const before = exitParts.slice(0, k).flat();
      if (label === undefined || before.length + 5 >= exitSequence.length) continue;
      bytes(before);
      items.push({ kind: "branch", cc: null, implies: [], target: label, long: false });
      return;
    }
    exitParts.forEach((part, k) => {
      const tail = hex(exitParts.slice(k));
      if (exitParts.slice(k).flat().length >= SHARED_EPILOGUE_MIN && !epilogues.has(tail)) {
        const label = `%epilogue.${epilogues.size}`;
        epilogues.set(tail, label);
        items.push({ kind: "label", name: label });
      }
      if (k === exitParts.length - 1) finalBytes(part);
      else bytes(part);
    });
  };
  // `call f; ret` becomes `[pop]; jmp f` when at most one pop precedes the ret: always shorter.
  const tailCall = (i: number) =>
    func.body[i]?.op === "call" && func.body[i + 1]?.op === "ret" && exitSequence.length <= 2;
  let exitPlaced = false;
  /** Whether `reg` may be read after instruction `i`. */
  const liveAfter = (i: number, reg: Reg) => (liveness.after(func.name, i) & regBit(reg)) !== 0;
  // The kernel starts the entry with the stack pointer at argc; IR hands it over in a0.
  if (isEntry && liveness.entry(func.name) & regBit("a0")) bytes(movReg(A0, RSP));
  bytes(prologue(frame));

  /** The register whose zero-ness ZF holds after the instruction just lowered, if any. */
  let zeroFlagOf: Reg | null = null;
  /** The condition a fused load-and-compare leaves for the branch after it. */
  let fusedCond: Cond | null = null;
  /** Set by a 32-bit `sub` whose branch must compare 32 bits (see wrapsUnread). */
  let narrowCompareNext = false;
  /** The registers of a plain register copy just lowered: [destination, source]. */
  let copiedNext: [Reg, Reg] | null = null;
  let copied: [Reg, Reg] | null = null;
  /** Set by a syscall that left its result in rax for the instruction after it to read. */
  let resultInRaxNext = false;
  let resultInRax = false;
  const labels = labelIndexes(func.body);
  /**
   * Instructions the one before already lowered (a lea of two adds, a test of a loaded byte, an op
   * on a loaded qword), with the register whose zero-ness ZF then holds, if any.
   */
  const foldedBefore = new Map<number, Reg | null>();
  /**
   * `load r, [mem]; op r, r, x; store [mem], r` (add, sub, and, or, xor; bytes, dwords or qwords;
   * mem not addressed through r) with r read nowhere after: one `op [mem], x` (or inc/dec).
   * The stored low bytes of these ops depend only on the low bytes of their operands.
   */
  const readModifyWrite = (i: number): number[] | null => {
    const load = func.body[i]!;
    const op = func.body[i + 1];
    const store = func.body[i + 2];
    if (load.op !== "load" || op?.op !== "bin" || store?.op !== "store") return null;
    const r = load.dst;
    const size = load.size;
    if (size === 2 || store.size !== size || store.src !== r || op.dst !== r || op.a !== r || op.b === r)
      return null;
    if (!["add", "sub", "and", "or", "xor"].includes(op.kind) || liveAfter(i + 2, r)) return null;
    if (load.mem.base === r || load.mem.index === r || !sameMem(load.mem, store.mem)) return null;
    const m = mem(load.mem);
    const kind = op.kind as x.AluOp;
    if (typeof op.b !== "bigint") return x.aluMemReg(kind, size, m, phys(op.b));
    const v = BigInt.asIntN(size * 8, op.b);
    if ((kind === "add" && v === 1n) || (kind === "sub" && v === -1n)) return x.incDecMem("inc", size, m);
    if ((kind === "add" && v === -1n) || (kind === "sub" && v === 1n)) return x.incDecMem("dec", size, m);
    if (size === 8 && !x.isInt32(v)) return null;
    return x.aluMemImm(kind, size, m, v);
  };
  /**
   * `load64 r, [mem]; op d, d, r` (or `op d, r, d` for add, and, or, xor) with r read nowhere
   * after: one `op d, qword [mem]`.
   */
  const memoryOperand = (i: number): boolean => {
    const load = func.body[i]!;
    const op = func.body[i + 1];
    if (load.op !== "load" || load.size !== 8 || op?.op !== "bin" || op.dst === load.dst) return false;
    if (!["add", "sub", "and", "or", "xor"].includes(op.kind) || liveAfter(i + 1, load.dst)) return false;
    return (
      (op.a === op.dst && op.b === load.dst) || (op.kind !== "sub" && op.b === op.dst && op.a === load.dst)
    );
  };
  /** `shl t, s, k` (k 1..3) then `add d, e, t` with t read nowhere after: one `lea d, [e + s * 2^k]`. */
  const scaledSum = (i: number): x.X64Mem | null => {
    const shift = func.body[i]!;
    const add = func.body[i + 1];
    if (shift.op !== "bin" || shift.kind !== "shl" || typeof shift.b !== "bigint") return null;
    if (shift.b < 1n || shift.b > 3n || add?.op !== "bin" || add.kind !== "add") return null;
    const t = shift.dst;
    const base = add.a === t ? add.b : add.b === t ? add.a : null;
    if (typeof base !== "string" || base === t || liveAfter(i + 1, t)) return null;
    return { base: phys(base), index: phys(shift.a), scale: (1 << Number(shift.b)) as 2 | 4 | 8, disp: 0 };
  };
  /**
   * `add d, a, r; add d, d, k` or `add d, a, k; add d, d, r` (r not d): one `lea d, [a + r + k]`,
   * unless a zero test of d follows, which would then need the flags lea does not set.
   */
  const threeTermSum = (i: number): x.X64Mem | null => {
    const first = func.body[i]!;
    const second = func.body[i + 1];
    if (first.op !== "bin" || first.kind !== "add" || second?.op !== "bin" || second.kind !== "add")
      return null;
    if (second.dst !== first.dst || second.a !== first.dst) return null;
    const after = func.body[i + 2];
    if (after?.op === "br" && after.a === first.dst && after.b === 0n) return null;
    const [reg, imm] = typeof first.b === "bigint" ? [second.b, first.b] : [first.b, second.b];
    if (typeof reg !== "string" || typeof imm !== "bigint" || !x.isInt32(BigInt.asIntN(64, imm))) return null;
    if (typeof first.b === "bigint" && reg === first.dst) return null;
    return { base: phys(first.a), index: phys(reg), scale: 1, disp: Number(BigInt.asIntN(64, imm)) };
  };
  /** Whether instruction i is `and d, a, mask` (mask 1..255) that only feeds `br eq/ne d, 0` right after. */
  const maskTested = (i: number): boolean => {
    const and = func.body[i];
    const br = func.body[i + 1];
    if (and?.op !== "bin" || and.kind !== "and" || typeof and.b !== "bigint") return false;
    if (and.b < 1n || and.b > 255n || br?.op !== "br" || br.a !== and.dst || br.b !== 0n) return false;
    if ((br.cond !== "eq" && br.cond !== "ne") || fallsThroughTo(func.body, i + 1, br.target)) return false;
    return !liveAfter(i + 1, and.dst);
  };
  /**
   * `sub d, a, k` (a below 2^32, 0 < k < 2^31) right before `br cond d, K, L` (0 <= K < 2^31,
   * unsigned or equality): computed and compared in 32 bits, d differs from the IR's value only
   * when a < k, and then it lies in (2^31, 2^32) where the 64-bit value is negative, so the branch
   * goes the same way, to the side that sees the wrapped difference. When that side never reads d,
   * the 32-bit forms are exact; returns them, or null.
   */
  const wrapsUnread = (i: number): number[] | null => {
    const insn = func.body[i]!;
    const next = func.body[i + 1];
    if (insn.op !== "bin" || insn.kind !== "sub" || typeof insn.b !== "bigint") return null;
    if (next?.op !== "br" || next.a !== insn.dst || typeof next.b !== "bigint") return null;
    const k = BigInt.asIntN(64, insn.b);
    const limit = 1n << 31n;
    if (k <= 0n || k >= limit || next.b < 0n || next.b >= limit || widthOf(known[i]!, insn.a) > 32)
      return null;
    if (fallsThroughTo(func.body, i + 1, next.target)) return null;
    const wrappedTaken = next.cond === "gtu" || next.cond === "geu" || next.cond === "ne";
    if (!wrappedTaken && next.cond !== "ltu" && next.cond !== "leu" && next.cond !== "eq") return null;
    const wrappedSide = wrappedTaken ? labels.get(next.target)! : i + 2;
    if (liveness.before(func.name, wrappedSide) & regBit(insn.dst)) return null;
    const dst = phys(insn.dst);
    const a = phys(insn.a);
    if (dst !== a) return x.leaReg32Mem(dst, { base: a, disp: -Number(k) });
    return zf(k === 1n ? x.incDecReg32("dec", dst) : x.aluReg32Imm("sub", dst, k));
  };

  /**
   * `zeroFlag`: the register whose zero-ness ZF holds before `insn`, if any; `compared`: the
   * condition to branch on when the load before `insn` already set the flags for it;
   * `narrowCompare`: the branch compares 32 bits after a wrapping 32-bit `sub` (see wrapsUnread).
   */
  const lower = (
    insn: Insn,
    i: number,
    zeroFlag: Reg | null,
    compared: Cond | null,
    narrowCompare: boolean,
  ): void => {
    const widths = known[i]!;
    switch (insn.op) {
      case "mov":
        if (resultInRax) bytes(movReg(phys(insn.dst), RAX));
        else if (typeof insn.src === "bigint") bytes(movImm(phys(insn.dst), insn.src));
        // `mov b, a` right after `mov a, b`: b still holds that value.
        else if (copied?.[0] === insn.src && copied[1] === insn.dst) return;
        else if (insn.dst !== insn.src && widthOf(widths, insn.src) <= 32)
          bytes(x.movReg32Reg32(phys(insn.dst), phys(insn.src)));
        else bytes(movReg(phys(insn.dst), phys(insn.src)));
        if (!resultInRax && typeof insn.src !== "bigint") copiedNext = [insn.dst, insn.src];
        return;
      case "bin": {
        if (foldedBefore.has(i)) {
          zeroFlagOf = foldedBefore.get(i)!;
          return;
        }
        const scaled = scaledSum(i);
        if (scaled) {
          bytes(x.leaRegMem(phys((func.body[i + 1] as Extract<Insn, { op: "bin" }>).dst), scaled));
          foldedBefore.set(i + 1, null);
          return;
        }
        const sum = threeTermSum(i);
        if (sum) {
          bytes(x.leaRegMem(phys(insn.dst), sum));
          foldedBefore.set(i + 1, null);
          return;
        }
        // `and d, a, mask; br eq/ne d, 0` with d read nowhere else: `test` the mask, no copy.
        if (insn.dst !== insn.a && maskTested(i)) {
          bytes(x.testReg8Imm(phys(insn.a), insn.b as bigint));
          zeroFlagOf = insn.dst;
          return;
        }
        const both = divideBoth(insn, func.body[i + 1], widths, liveAfter(i + 1, "a2"));
        if (both) {
          bytes(both);
          foldedBefore.set(i + 1, null);
          return;
        }
        const wrapping = wrapsUnread(i);
        if (wrapping) narrowCompareNext = true;
        const lowered = wrapping ?? lowerBinary(insn, liveAfter(i, "a2"), widths);
        bytes(lowered);
        if (zeroFlagFromDst.has(lowered)) zeroFlagOf = insn.dst;
        return;
      }
      case "un":
        bytes([...movReg(phys(insn.dst), phys(insn.a)), ...x.unaryReg(insn.kind, phys(insn.dst))]);
        return;
      case "load": {
        const next = func.body[i + 1];
        const fused =
          next?.op === "br" && !liveAfter(i + 1, insn.dst) && !fallsThroughTo(func.body, i + 1, next.target)
            ? fusedLoadCompare(insn, next, widths)
            : null;
        const update = readModifyWrite(i);
        if (update) {
          bytes(update);
          foldedBefore.set(i + 1, null).set(i + 2, null);
        } else if (fused) {
          bytes(fused.bytes);
          fusedCond = fused.cond;
        } else if (
          next?.op === "bin" &&
          next.a === insn.dst &&
          maskTested(i + 1) &&
          (next.dst === insn.dst || !liveAfter(i + 1, insn.dst))
        ) {
          // The mask looks at the low byte only, which is the byte at the address.
          bytes(x.testMem8Imm(mem(insn.mem), next.b as bigint));
          foldedBefore.set(i + 1, next.dst);
        } else if (next?.op === "bin" && memoryOperand(i)) {
          bytes(x.aluRegMem(next.kind as x.AluOp, phys(next.dst), mem(insn.mem)));
          foldedBefore.set(i + 1, next.dst);
        } else bytes(x.load(insn.size, phys(insn.dst), mem(insn.mem)));
        return;
      }
      case "store":
        if (!foldedBefore.has(i)) bytes(lowerStore(insn));
        return;
      case "addr":
        items.push({
          kind: functions.has(insn.symbol) ? "leaFunction" : "movData",
          dst: phys(insn.dst),
          symbol: insn.symbol,
          offset: insn.offset,
        });
        return;
      case "label":
        items.push({ kind: "label", name: local(insn.name) });
        return;
      case "jmp":
        if (!fallsThroughTo(func.body, i, insn.target))
          items.push({ kind: "branch", cc: null, implies: [], target: local(insn.target), long: false });
        return;
      case "br": {
        if (fallsThroughTo(func.body, i, insn.target)) return;
        // The load before compared its memory operand already (see fusedLoadCompare).
        const cond = compared ?? insn.cond;
        // eq/ne against 0 right after an ALU op on the same register: its ZF is the answer.
        const reuse = zeroFlag === insn.a && insn.b === 0n && (cond === "eq" || cond === "ne");
        if (!reuse && compared === null)
          bytes(
            narrowCompare
              ? lowerCompare(cond, insn.a, insn.b, new Map([[insn.a, 32]]))
              : lowerCompare(cond, insn.a, insn.b, widths, resultInRax ? RAX : phys(insn.a)),
          );
        const implied = reuse ? IMPLIED_BY_ZERO_FLAG[cond as "eq" | "ne"] : IMPLIED_BY_COMPARE[cond];
        items.push({
          kind: "branch",
          cc: x.CC[cond],
          implies: implied.map((c) => x.CC[c]),
          target: local(insn.target),
          long: false,
        });
        return;
      }
      case "call":
        if (tailCall(i)) {
          // Nothing can point into the frame (sp is only ever a memory base), so it can go first.
          bytes(exitSequence.slice(0, -1));
          items.push({ kind: "branch", cc: null, implies: [], target: insn.fn, long: false });
        } else items.push({ kind: "call", target: insn.fn });
        return;
      case "ret":
        if (tailCall(i - 1)) return;
        if (exitSequence.length <= 2) finalBytes(exitSequence);
        else if (exitPlaced)
          items.push({ kind: "branch", cc: null, implies: [], target: sharedExit, long: false });
        else {
          items.push({ kind: "label", name: sharedExit });
          placeExit();
          exitPlaced = true;
        }
        return;
      case "handoff":
        // verify checked the IR's frame; inlining must not have grown it since.
        if (frame.size !== 0)
          throw new Error(`x64: fn ${func.name}: handoff from a frame of ${frame.size} bytes`);
        finalBytes(x.jmpReg(phys(insn.target)));
        return;
      case "syscall": {
        const number = syscalls[insn.name];
        if (number === undefined)
          throw new Error(
            `x64: fn ${func.name}: no syscall named "${insn.name}" on x86-64 (see target/linux.ts)`,
          );
        // Numbers 128..255 do not fit push imm8: `xor eax, eax; mov al, n` is a byte shorter than mov eax.
        const load =
          number >= 128 && number <= 255
            ? [...x.zeroReg(RAX), ...x.movLowByteImm(RAX, BigInt(number))]
            : movImm(RAX, BigInt(number));
        if (NO_RETURN_SYSCALLS.has(insn.name)) finalBytes([...load, ...x.SYSCALL]);
        else bytes([...load, ...x.SYSCALL]);
        // The result arrives in rax; rax is scratch, so exchanging is as good as moving, and shorter.
        // When the next instruction is a0's last reader (a branch or a copy), it reads rax instead.
        if (NO_RETURN_SYSCALLS.has(insn.name) || !liveAfter(i, "a0")) return;
        const next = func.body[i + 1];
        const lastReader =
          !liveAfter(i + 1, "a0") &&
          ((next?.op === "br" &&
            next.a === "a0" &&
            next.b !== "a0" &&
            (typeof next.b !== "bigint" || x.isInt32(BigInt.asIntN(64, next.b))) &&
            !fallsThroughTo(func.body, i + 1, next.target)) ||
            (next?.op === "mov" && next.src === "a0" && next.dst !== "a0"));
        if (lastReader) resultInRaxNext = true;
        else bytes(x.xchgRax(A0));
        return;
      }
    }
  };
  func.body.forEach((insn, i) => {
    const flags = zeroFlagOf;
    const compared = fusedCond;
    const narrowCompare = narrowCompareNext;
    narrowCompareNext = false;
    resultInRax = resultInRaxNext;
    resultInRaxNext = false;
    copied = copiedNext;
    copiedNext = null;
    zeroFlagOf = null;
    fusedCond = null;
    lower(insn, i, flags, compared, narrowCompare);
  });
  return items;
}

function itemSize(item: Item): number {
  switch (item.kind) {
    case "bytes":
      return item.bytes.length;
    case "label":
      return 0;
    case "branch":
      return item.long ? (item.cc === null ? 5 : 6) : 2;
    case "call":
      return 5;
    case "leaFunction":
      return 7;
    case "movData":
      return item.dst >= 8 ? 6 : 5;
  }
}

type Branch = Extract<Item, { kind: "branch" }>;

/**
 * Lays out `items`, all branches short at first; then gives every short branch whose target is out
 * of rel8 range a relay in range (a branch to the same target sure to be taken when it is) or else
 * the near form, and repeats. Branches only grow and distances with them, so a relay once out of
 * range stays so: this terminates. Returns every item's offset and every label's.
 */
function relax(items: Item[]): { offsets: number[]; symbols: Map<string, number> } {
  const byTarget = new Map<string, number[]>();
  items.forEach((item, i) => {
    if (item.kind !== "branch") return;
    item.long = false;
    item.via = undefined;
    item.relay = undefined;
    byTarget.set(item.target, [...(byTarget.get(item.target) ?? []), i]);
  });
  // Trampolines exist to be relays: they are tried first, the others in order.
  const rank = (i: number) => ((items[i] as Branch).trampoline ? 0 : 1);
  for (const list of byTarget.values()) list.sort((a, b) => rank(a) - rank(b) || a - b);
  let offsets: number[] = [];
  const symbols = new Map<string, number>();
  for (let changed = true; changed; ) {
    changed = false;
    offsets = [];
    symbols.clear();
    let at = 0;
    for (const item of items) {
      offsets.push(at);
      if (item.kind === "label") symbols.set(item.name, at);
      at += itemSize(item);
    }
    items.forEach((item, i) => {
      if (item.kind !== "branch" || item.long) return;
      const target = symbols.get(item.target);
      if (target === undefined) throw new Error(`x64: branch to undefined label "${item.target}"`);
      const end = offsets[i]! + 2;
      const reaches = (to: number) => x.isInt8(offsets[to]! - end);
      if (x.isInt8(target - end) || (item.via !== undefined && reaches(item.via))) return;
      item.via = item.relay
        ? undefined
        : byTarget.get(item.target)!.find((j) => {
            const relay = items[j] as Branch;
            const taken = relay.cc === null || item.implies.includes(relay.cc);
            return j !== i && relay.via === undefined && taken && reaches(j);
          });
      if (item.via !== undefined) (items[item.via] as Branch).relay = true;
      else {
        item.long = true;
        changed = true;
      }
    });
  }
  return { offsets, symbols };
}

/** Trampolines are placed only where they reach this far (rel8, less a margin for what they shift). */
const TRAMPOLINE_REACH = 112;
/** Bounds the trampolines tried per program (each costs a relaxation). */
const MAX_TRAMPOLINE_TRIES = 64;

/**
 * Proposes a trampoline, an unconditional jump to some target, at the point where control never
 * falls in (after a jump, a return or an exit) within reach of the most near branches to that
 * target, at least two (4 bytes saved each, 5 spent at most); `tried` holds the places (by the
 * item before) and targets proposed before. Returns where to insert it, or null.
 */
function proposeTrampoline(
  items: readonly Item[],
  offsets: readonly number[],
  tried: ReadonlyMap<Item, ReadonlySet<string>>,
): { at: number; target: string } | null {
  const far = new Map<string, number[]>();
  items.forEach((item, i) => {
    if (item.kind === "branch" && item.long) far.set(item.target, [...(far.get(item.target) ?? []), i]);
  });
  let best: { at: number; target: string; count: number } | null = null;
  for (let at = 1; at <= items.length; at++) {
    const before = items[at - 1]!;
    const closed =
      (before.kind === "branch" && before.cc === null) || (before.kind === "bytes" && before.ends);
    if (!closed) continue;
    const place = at < items.length ? offsets[at]! : offsets[at - 1]! + itemSize(before);
    for (const [target, branches] of [...far].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (tried.get(before)?.has(target)) continue;
      const count = branches.filter((i) => Math.abs(place - (offsets[i]! + 2)) <= TRAMPOLINE_REACH).length;
      if (count >= 2 && (best === null || count > best.count)) best = { at, target, count };
    }
  }
  return best;
}

/**
 * Relaxes `items` (see relax), then adds trampolines one at a time where they shrink the code,
 * keeping each only if the whole layout got smaller. Returns the final layout.
 */
function layOut(items: Item[]): { offsets: number[]; symbols: Map<string, number> } {
  const total = (offsets: readonly number[]) =>
    offsets[offsets.length - 1]! + itemSize(items[items.length - 1]!);
  let layout = relax(items);
  const tried = new Map<Item, Set<string>>();
  for (let round = 0; round < MAX_TRAMPOLINE_TRIES; round++) {
    const proposal = proposeTrampoline(items, layout.offsets, tried);
    if (proposal === null) break;
    const before = items[proposal.at - 1]!;
    tried.set(before, (tried.get(before) ?? new Set()).add(proposal.target));
    const trampoline: Item = {
      kind: "branch",
      cc: null,
      implies: [],
      target: proposal.target,
      long: false,
      trampoline: true,
    };
    items.splice(proposal.at, 0, trampoline);
    const next = relax(items);
    if (total(next.offsets) < total(layout.offsets)) layout = next;
    else {
      items.splice(proposal.at, 1);
      layout = relax(items);
    }
  }
  return layout;
}

/** Assembles a whole program: lowers every function, relaxes branches, resolves internal references. */
export function assembleX64(input: Program, syscalls: Record<string, number>): AssembledText {
  const program = chooseArgs(input, analyzeLiveness(input));
  const ordered = [...program.funcs].sort((a, b) =>
    a.name === program.entry ? -1 : b.name === program.entry ? 1 : 0,
  );
  const functions = new Set(program.funcs.map((f) => f.name));
  const size = (func: Func, liveness: Liveness, known: readonly WidthsView[]) =>
    lowerFunction(func, false, syscalls, functions, liveness, known).reduce(
      (n, item) => n + itemSize(item),
      0,
    );
  const chosen = chooseSaved(program, analyzeLiveness(program), programWidths(program), size);
  const byName = new Map(chosen.program.funcs.map((f) => [f.name, f]));
  const epilogues: EpilogueLabels = new Map();
  const items = ordered.flatMap((f) =>
    lowerFunction(
      byName.get(f.name)!,
      f.name === program.entry,
      syscalls,
      functions,
      chosen.liveness.get(f.name)!,
      chosen.widths.get(f.name)!,
      epilogues,
    ),
  );

  const { offsets, symbols } = layOut(items);

  const code: number[] = [];
  const relocations: Relocation[] = [];
  const resolve = (name: string): number => {
    const at = symbols.get(name);
    if (at === undefined) throw new Error(`x64: reference to undefined symbol "${name}"`);
    return at;
  };
  items.forEach((item, i) => {
    const end = offsets[i]! + itemSize(item);
    switch (item.kind) {
      case "bytes":
        code.push(...item.bytes);
        return;
      case "label":
        return;
      case "branch": {
        const rel = (item.via === undefined ? resolve(item.target) : offsets[item.via]!) - end;
        if (item.cc === null) code.push(...(item.long ? x.jmpNear(rel) : x.jmpShort(rel)));
        else code.push(...(item.long ? x.jccNear(item.cc, rel) : x.jccShort(item.cc, rel)));
        return;
      }
      case "call":
        code.push(...x.callNear(resolve(item.target) - end));
        return;
      case "leaFunction":
        code.push(...x.leaRipRel(item.dst, resolve(item.symbol) + item.offset - end));
        return;
      case "movData":
        relocations.push({ offset: end - 4, kind: "abs32", symbol: item.symbol, addend: item.offset });
        code.push(...x.movReg32Imm(item.dst, 0n));
        return;
    }
  });
  const named = new Map<string, number>();
  for (const [name, at] of symbols) if (!name.includes("%")) named.set(name, at);
  return { code: Uint8Array.from(code), symbols: named, relocations };
}

/** Patches an abs32 relocation: the 4-byte field holds the absolute address, which must be below 4 GiB. */
export function relocateX64(code: Uint8Array, relocation: Relocation, _place: bigint, value: bigint): void {
  if (relocation.kind !== "abs32") throw new Error(`x64: unknown relocation kind "${relocation.kind}"`);
  if (!x.isUint32(value))
    throw new Error(
      `x64: address 0x${value.toString(16)} of "${relocation.symbol}" is above 4 GiB; link the image lower (abs32)`,
    );
  new DataView(code.buffer, code.byteOffset).setUint32(relocation.offset, Number(value), true);
}
