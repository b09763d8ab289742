// The x86-64 Linux ABI speck relies on: which hardware register stands for each IR register, which
// ones the encoder keeps for itself, and the x86-64 column of the Linux tables in ../linux.ts
// (syscall numbers, flag values and kernel struct layouts), so both targets share one source.

import type { Base } from "../../ir/types.ts";
import { constantsFor, LAYOUTS, syscallsFor } from "../linux.ts";
import type { KernelLayouts } from "../types.ts";
import { R11, RAX, RCX, REG_NAMES, RSP } from "./encode.ts";

/**
 * Hardware register of every IR register. a0..a5 are the syscall argument registers (rdi rsi rdx
 * r10 r8 r9), so a syscall needs no moves; s0..s5 are the C ABI's callee-saved registers, so signal
 * handlers the kernel calls preserve them like any C function would.
 */
export const PHYSICAL: Readonly<Record<Base, number>> = {
  a0: 7,
  a1: 6,
  a2: 2,
  a3: 10,
  a4: 8,
  a5: 9,
  s0: 3,
  s1: 5,
  s2: 12,
  s3: 13,
  s4: 14,
  s5: 15,
  sp: RSP,
};

/** Encoder scratch, never visible to IR: rax (syscall number and result, div), rcx (shift counts; syscall clobbers it) and r11 (syscall clobbers it). */
export const SCRATCH: readonly number[] = [RAX, RCX, R11];

/** Register names for listings and docs, by IR register. */
export const REGISTER_NAMES = Object.fromEntries(
  Object.entries(PHYSICAL).map(([ir, hw]) => [ir, REG_NAMES[hw]]),
) as Record<Base, string>;

/** Linux syscall numbers on x86-64 (arch/x86/entry/syscalls/syscall_64.tbl), by name. */
export const SYSCALLS: Readonly<Record<string, number>> = syscallsFor(0);

/** Flag values whose x86-64 value differs from arm64's (O_DIRECTORY, O_NOFOLLOW, ...). */
export const CONSTANTS: Readonly<Record<string, bigint>> = constantsFor(0);

/** Kernel struct layouts on x86-64: epoll_event is 12 packed bytes, struct stat is 144. */
export const LAYOUTS_X64: KernelLayouts = LAYOUTS.x64;
