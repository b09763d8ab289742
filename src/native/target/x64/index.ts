// The x86-64 target: register map, Linux tables and encoder, as one value the pipeline takes.

import type { Target } from "../types.ts";
import { CONSTANTS, LAYOUTS_X64, REGISTER_NAMES, SYSCALLS } from "./abi.ts";
import { assembleX64, relocateX64 } from "./assemble.ts";

export const x64: Target = {
  name: "x64",
  elfMachine: 62,
  registers: REGISTER_NAMES,
  syscalls: SYSCALLS,
  constants: CONSTANTS,
  layouts: LAYOUTS_X64,
  assemble: (program) => assembleX64(program, SYSCALLS),
  relocate: relocateX64,
};
