// The IR's data model: a program is functions of structured-assembly instructions over a fixed
// set of virtual registers, plus read-only, writable and zero-filled data. Every target maps the
// registers one-to-one onto physical registers, so no allocator is needed. See docs/native.md.

/** Argument and scratch registers: carry call and syscall arguments; any call or syscall may clobber them. */
export const ARG_REGS = ["a0", "a1", "a2", "a3", "a4", "a5"] as const;
/** Saved registers: preserved across calls; a function that writes one lists it in `saves`. */
export const SAVED_REGS = ["s0", "s1", "s2", "s3", "s4", "s5"] as const;
export const REGS = [...ARG_REGS, ...SAVED_REGS] as const;

export type ArgReg = (typeof ARG_REGS)[number];
export type SavedReg = (typeof SAVED_REGS)[number];
export type Reg = (typeof REGS)[number];
/** `sp` may only be a memory base: it addresses the function's frame, [sp + 0, sp + frame). */
export type Base = Reg | "sp";
/** Immediates are 64-bit two's complement; bigint keeps every bit exact. */
export type Imm = bigint;
export type Src = Reg | Imm;

export type Size = 1 | 2 | 4 | 8;

export const BIN_OPS = [
  "add",
  "sub",
  "mul",
  "udiv",
  "urem",
  "and",
  "or",
  "xor",
  "shl",
  "shr",
  "sar",
] as const;
export type BinOp = (typeof BIN_OPS)[number];

export const UN_OPS = ["neg", "not"] as const;
export type UnOp = (typeof UN_OPS)[number];

/** Branch conditions: signed (lt..ge) and unsigned (ltu..geu) orderings of two 64-bit values. */
export const CONDS = ["eq", "ne", "lt", "le", "gt", "ge", "ltu", "leu", "gtu", "geu"] as const;
export type Cond = (typeof CONDS)[number];

/** A memory operand: base + index * scale + offset; scale is 1 or the access size. */
export interface Mem {
  base: Base;
  index?: Reg;
  scale?: Size;
  offset: number;
}

export type Insn =
  | { op: "mov"; dst: Reg; src: Src }
  | { op: "bin"; kind: BinOp; dst: Reg; a: Reg; b: Src }
  | { op: "un"; kind: UnOp; dst: Reg; a: Reg }
  /** Loads zero-extend to 64 bits. */
  | { op: "load"; size: Size; dst: Reg; mem: Mem }
  | { op: "store"; size: Size; src: Src; mem: Mem }
  /** Address of a data symbol or function, plus a byte offset. */
  | { op: "addr"; dst: Reg; symbol: string; offset: number }
  | { op: "label"; name: string }
  | { op: "jmp"; target: string }
  | { op: "br"; cond: Cond; a: Reg; b: Src; target: string }
  /** Calls an IR function: arguments in a0..a5, result in a0; a0..a5 are clobbered. */
  | { op: "call"; fn: string }
  | { op: "ret" }
  /** A Linux system call by name: arguments in a0..a5, result (or -errno) in a0; a1..a5 are preserved. */
  | { op: "syscall"; name: string }
  /**
   * Jumps to machine code at the address in `target`, an argument register, with the stack the
   * kernel started the program with: only in the entry function, whose frame must be 0.
   */
  | { op: "handoff"; target: ArgReg };

export interface Func {
  name: string;
  /** Bytes of local storage at [sp + 0, sp + frame); rounded up by targets as their ABI needs. */
  frame: number;
  /** Saved registers this function writes; the prologue saves and every `ret` restores them. */
  saves: SavedReg[];
  body: Insn[];
}

export type DataKind = "rodata" | "data" | "bss";

export interface Data {
  name: string;
  kind: DataKind;
  align: number;
  /** Contents for rodata and data; bss has only a size. */
  bytes?: Uint8Array;
  size: number;
}

/**
 * A whole program. `entry` names the function the kernel starts; it never returns (it must end in
 * the exit syscall) and receives the initial stack pointer (pointing at argc, argv, envp) in a0.
 */
export interface Program {
  entry: string;
  funcs: Func[];
  data: Data[];
}
