// What a target is: a value holding its register map, its Linux ABI tables and its encoder.
// The pipeline (assemble, lay out, relocate, write ELF) never asks which architecture it runs for.

import type { Base, Program } from "../ir/types.ts";

/** A reference from code to a data symbol, patched once the linker has placed every segment. */
export interface Relocation {
  /** Byte offset in the code of the instruction (or field) to patch. */
  offset: number;
  /** Target-defined kind, e.g. "rel32" on x64 or "adr" on a64. */
  kind: string;
  symbol: string;
  addend: number;
}

export interface AssembledText {
  code: Uint8Array;
  /** Offset in `code` of every function (by name) and label (as "function.label"). */
  symbols: Map<string, number>;
  /** References to data symbols; references between functions are resolved by the encoder. */
  relocations: Relocation[];
}

/** Offsets and sizes of the kernel structures a server fills or reads; they differ by arch. */
export interface KernelLayouts {
  epollEvent: { size: number; events: number; data: number };
  sigaction: { size: number; handler: number; flags: number; restorer: number; mask: number };
  stat: { size: number; mode: number; size_: number; mtime: number };
}

export interface Target {
  name: "x64" | "a64";
  /** ELF e_machine: 62 for x86-64, 183 for aarch64. */
  elfMachine: number;
  /** Physical register behind each virtual register, for maps, listings and docs. */
  registers: Record<Base, string>;
  /** Linux syscall numbers by name; a name the arch lacks (open, fork, epoll_wait on a64) is absent. */
  syscalls: Record<string, number>;
  /** Flag and constant values that differ by arch (SA_RESTORER, O_DIRECTORY, ...), by Linux name. */
  constants: Record<string, bigint>;
  layouts: KernelLayouts;
  /** Lowers every function of the program to machine code, relaxing branches to a fixpoint. */
  assemble(program: Program): AssembledText;
  /** Patches one relocation now that `place` (address of code offset) and `value` (symbol address + addend) are known. */
  relocate(code: Uint8Array, relocation: Relocation, place: bigint, value: bigint): void;
}
