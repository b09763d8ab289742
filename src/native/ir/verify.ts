// Rejects malformed IR before any byte is emitted, naming the function and the instruction:
// undefined or duplicate names and labels, registers outside the IR's set (the ones the calling
// convention and the encoders reserve), out-of-range immediates and displacements, frame accesses
// outside the frame, writes to saved registers a function does not save, an entry that returns,
// and functions that run off their end.

import type { Target } from "../target/types.ts";
import { formatInsn } from "./format.ts";
import {
  ARG_REGS,
  BIN_OPS,
  CONDS,
  type Func,
  type Insn,
  type Mem,
  type Program,
  REGS,
  type Reg,
  SAVED_REGS,
  type Src,
  UN_OPS,
} from "./types.ts";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const MAX_FRAME = 1 << 20;
/** The linker keeps file offsets congruent to addresses modulo 64 KiB, so no alignment can exceed it. */
const MAX_ALIGN = 1 << 16;
const INT64_MIN = -(1n << 63n);
const UINT64_END = 1n << 64n;
const SIZES: readonly number[] = [1, 2, 4, 8];

const isReg = (r: unknown): r is Reg => (REGS as readonly unknown[]).includes(r);

/** Why an operand is not an IR register, or null when it is one. */
function badRegister(r: unknown): string | null {
  if (isReg(r)) return null;
  if (r === "sp") return "sp can only be the base of a memory operand";
  return `"${String(r)}" is not an IR register (a0..a5, s0..s5); the encoders reserve every other register`;
}

function badSource(s: Src): string | null {
  if (typeof s !== "bigint") return badRegister(s);
  return s >= INT64_MIN && s < UINT64_END ? null : `the immediate ${s} does not fit 64 bits`;
}

function badMem(m: Mem): string | null {
  if (m.base !== "sp" && !isReg(m.base)) return badRegister(m.base);
  if (m.index !== undefined && !isReg(m.index))
    return m.index === "sp" ? "sp cannot be an index register" : badRegister(m.index);
  return null;
}

/** Why the operands of an instruction are malformed, or null. */
function badOperands(insn: Insn): string | null {
  switch (insn.op) {
    case "mov":
      return badRegister(insn.dst) ?? badSource(insn.src);
    case "bin":
      if (!(BIN_OPS as readonly string[]).includes(insn.kind)) return `unknown operation "${insn.kind}"`;
      return badRegister(insn.dst) ?? badRegister(insn.a) ?? badSource(insn.b);
    case "un":
      if (!(UN_OPS as readonly string[]).includes(insn.kind)) return `unknown operation "${insn.kind}"`;
      return badRegister(insn.dst) ?? badRegister(insn.a);
    case "load":
    case "store":
      if (!SIZES.includes(insn.size)) return `access size ${insn.size} is not 1, 2, 4 or 8`;
      return (insn.op === "load" ? badRegister(insn.dst) : badSource(insn.src)) ?? badMem(insn.mem);
    case "addr":
      return badRegister(insn.dst);
    case "br":
      if (!(CONDS as readonly string[]).includes(insn.cond)) return `unknown condition "${insn.cond}"`;
      return badRegister(insn.a) ?? badSource(insn.b);
    case "handoff":
      return (ARG_REGS as readonly string[]).includes(insn.target)
        ? null
        : `handoff target ${insn.target} is not an argument register`;
    case "label":
    case "jmp":
    case "call":
    case "ret":
    case "syscall":
      return null;
    default:
      return `unknown instruction "${(insn as { op: string }).op}"`;
  }
}

export class VerifyError extends Error {}

function destination(insn: Insn): Reg | null {
  switch (insn.op) {
    case "mov":
    case "bin":
    case "un":
    case "load":
    case "addr":
      return insn.dst;
    default:
      return null;
  }
}

function endsFlow(insn: Insn | undefined): boolean {
  if (!insn) return false;
  if (insn.op === "ret" || insn.op === "jmp" || insn.op === "handoff") return true;
  return (
    insn.op === "syscall" &&
    (insn.name === "exit" || insn.name === "exit_group" || insn.name === "rt_sigreturn")
  );
}

function fitsStore(size: number, value: bigint): boolean {
  const bits = BigInt(size * 8);
  return value >= -(1n << (bits - 1n)) && value < 1n << bits;
}

/** Throws a VerifyError describing the first problem found in `program`. */
export function verify(program: Program, target?: Target): void {
  const functions = new Set<string>();
  const symbols = new Set<string>();
  for (const f of program.funcs) {
    if (functions.has(f.name) || symbols.has(f.name))
      throw new VerifyError(`verify: fn ${f.name} is defined twice`);
    functions.add(f.name);
    symbols.add(f.name);
  }
  for (const d of program.data) {
    if (symbols.has(d.name)) throw new VerifyError(`verify: data ${d.name}: the name is already used`);
    if (!Number.isInteger(d.size) || d.size < 0)
      throw new VerifyError(`verify: data ${d.name}: size ${d.size} is not a byte count`);
    if (d.kind !== "bss" && (!d.bytes || d.bytes.length !== d.size))
      throw new VerifyError(
        `verify: data ${d.name}: size ${d.size} does not match its ${d.bytes?.length ?? 0} bytes`,
      );
    if (!Number.isInteger(d.align) || d.align < 1 || (d.align & (d.align - 1)) !== 0)
      throw new VerifyError(`verify: data ${d.name}: alignment ${d.align} is not a power of two`);
    if (d.align > MAX_ALIGN)
      throw new VerifyError(
        `verify: data ${d.name}: alignment ${d.align} is over the 64 KiB the linker keeps`,
      );
    symbols.add(d.name);
  }
  if (!functions.has(program.entry))
    throw new VerifyError(`verify: entry function ${program.entry} is not defined`);
  for (const f of program.funcs) verifyFunction(f, f.name === program.entry, functions, symbols, target);
}

function verifyFunction(
  f: Func,
  isEntry: boolean,
  functions: Set<string>,
  symbols: Set<string>,
  target?: Target,
): void {
  const fail = (i: number, message: string): never => {
    throw new VerifyError(`verify: fn ${f.name}, insn ${i} "${formatInsn(f.body[i]!)}": ${message}`);
  };
  if (f.frame < 0 || f.frame > MAX_FRAME || !Number.isInteger(f.frame))
    throw new VerifyError(`verify: fn ${f.name}: frame of ${f.frame} bytes is outside 0..${MAX_FRAME}`);
  for (const r of f.saves)
    if (!(SAVED_REGS as readonly string[]).includes(r))
      throw new VerifyError(`verify: fn ${f.name}: only s0..s5 can be listed in saves, not ${r}`);
  if (new Set(f.saves).size !== f.saves.length)
    throw new VerifyError(`verify: fn ${f.name}: saves lists a register twice`);
  const labels = new Set<string>();
  f.body.forEach((insn, i) => {
    if (insn.op !== "label") return;
    if (labels.has(insn.name)) fail(i, `label "${insn.name}" is defined twice`);
    labels.add(insn.name);
  });
  f.body.forEach((insn, i) => {
    const bad = badOperands(insn);
    if (bad) fail(i, bad);
    const dst = destination(insn);
    if (dst && !isEntry && dst.startsWith("s") && !f.saves.includes(dst as (typeof SAVED_REGS)[number]))
      fail(i, `writes ${dst}, which the function does not list in saves`);
    switch (insn.op) {
      case "jmp":
      case "br":
        if (!labels.has(insn.target)) fail(i, `label "${insn.target}" is not defined`);
        break;
      case "ret":
        if (isEntry) fail(i, "the entry function has no caller to return to: end it with syscall exit_group");
        break;
      case "handoff":
        if (!isEntry || f.frame !== 0)
          fail(i, "handoff needs the kernel's stack: only the entry function, with frame 0, may hand off");
        break;
      case "call":
        if (!functions.has(insn.fn)) fail(i, `function "${insn.fn}" is not defined`);
        break;
      case "addr":
        if (!symbols.has(insn.symbol)) fail(i, `symbol "${insn.symbol}" is not defined`);
        if (insn.offset < INT32_MIN || insn.offset > INT32_MAX) fail(i, "the offset does not fit 32 bits");
        break;
      case "syscall":
        if (target && target.syscalls[insn.name] === undefined)
          fail(i, `syscall "${insn.name}" does not exist on ${target.name}`);
        break;
      case "bin":
        if (
          (insn.kind === "shl" || insn.kind === "shr" || insn.kind === "sar") &&
          typeof insn.b === "bigint" &&
          (insn.b < 0n || insn.b > 63n)
        )
          fail(i, `shift count ${insn.b} is outside 0..63`);
        if ((insn.kind === "udiv" || insn.kind === "urem") && insn.b === 0n)
          fail(i, "division by the constant 0");
        break;
      case "load":
      case "store": {
        const { mem, size } = insn;
        if (mem.offset < INT32_MIN || mem.offset > INT32_MAX || !Number.isInteger(mem.offset))
          fail(i, `displacement ${mem.offset} does not fit 32 bits`);
        if (mem.scale !== undefined && mem.scale !== 1 && mem.scale !== size)
          fail(i, `scale ${mem.scale} must be 1 or the access size ${size}`);
        if (mem.base === "sp") {
          if (mem.index) fail(i, "a frame access cannot use an index register");
          if (mem.offset < 0 || mem.offset + size > f.frame)
            fail(i, `frame access [sp+${mem.offset}, ${size} bytes] is outside the ${f.frame}-byte frame`);
        }
        if (insn.op === "store" && typeof insn.src === "bigint" && !fitsStore(size, insn.src))
          fail(i, `immediate ${insn.src} does not fit a ${size}-byte store`);
        break;
      }
    }
  });
  if (!endsFlow(f.body.at(-1)))
    throw new VerifyError(
      `verify: fn ${f.name}: the last instruction must be ret, jmp, or an exit or rt_sigreturn syscall`,
    );
}
