// Start-up of the access rules in the native server: `access_start(envp)` finds the pack's access
// section before the workers are forked, so each worker inherits what it loaded.

import type { ProgramBuilder } from "../../ir/builder.ts";
import { G } from "../globals.ts";
import { emitAccessState } from "./enforce.ts";

/** Emits `access_start(envp)` for a build with the access `features`. */
export function emitAccessStart(p: ProgramBuilder, _features: number): void {
  emitAccessState(p, G.pack);
  p.func("access_start", {}, (f) => {
    f.call("access_load").ret();
  });
}
