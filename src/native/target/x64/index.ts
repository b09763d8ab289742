// The x86-64 target: register map, Linux tables and encoder, as one value the pipeline takes.

import { constantsFor, LAYOUTS, syscallsFor } from "../linux.ts";
import type { Target } from "../types.ts";
import { assembleX64, PHYSICAL, relocateX64 } from "./assemble.ts";
import { REG_NAMES } from "./encode.ts";

const syscalls = syscallsFor(0);

export const x64: Target = {
  name: "x64",
  elfMachine: 62,
  registers: Object.fromEntries(
    Object.entries(PHYSICAL).map(([ir, hw]) => [ir, REG_NAMES[hw]]),
  ) as Target["registers"],
  syscalls,
  constants: constantsFor(0),
  layouts: LAYOUTS.x64,
  assemble: (program) => assembleX64(program, syscalls),
  relocate: relocateX64,
};
