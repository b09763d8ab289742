// The public surface of the native code generator: write IR, check and interpret it, link it for a
// target, and account for its size. See docs/native.md.

export { writeExecutable } from "./elf/file.ts";
export { type FuncBuilder, type FuncOptions, type MemLike, ProgramBuilder } from "./ir/builder.ts";
export { formatInsn, formatProgram } from "./ir/format.ts";
export {
  Exit,
  type InterpretOptions,
  type InterpretResult,
  interpret,
  Machine,
  type MachineOptions,
  Memory,
  type SyscallHandler,
} from "./ir/interpret.ts";
export { optimize } from "./ir/optimize.ts";
export { type Streams, streamSyscalls } from "./ir/streams.ts";
export type * from "./ir/types.ts";
export { ARG_REGS, BIN_OPS, CONDS, REGS, SAVED_REGS, UN_OPS } from "./ir/types.ts";
export { VerifyError, verify } from "./ir/verify.ts";
export { BASE_ADDRESS, type Linked, type LinkedSizes, type LinkOptions, link } from "./link.ts";
export { costTable, functionTable, opCosts, opKindBytes, sizeReport } from "./report.ts";
export { TARGETS, targetForArch } from "./target/index.ts";
export type { KernelLayouts, Target } from "./target/types.ts";
