// The arm64 target: register map, Linux tables and encoder, as one value the pipeline takes.

import { constantsFor, LAYOUTS, syscallsFor } from "../linux.ts";
import type { Target } from "../types.ts";
import { assembleA64, PHYSICAL, relocateA64 } from "./assemble.ts";

const syscalls = syscallsFor(1);

export const a64: Target = {
  name: "a64",
  elfMachine: 183,
  registers: Object.fromEntries(
    Object.entries(PHYSICAL).map(([ir, hw]) => [ir, hw === 31 ? "sp" : `x${hw}`]),
  ) as Target["registers"],
  syscalls,
  constants: constantsFor(1),
  layouts: LAYOUTS.a64,
  assemble: (program) => assembleA64(program, syscalls),
  relocate: relocateA64,
};
