// Every target by name, for the pipeline and the CLI.

import { a64 } from "./a64/index.ts";
import type { Target } from "./types.ts";
import { x64 } from "./x64/index.ts";

export const TARGETS: Readonly<Record<Target["name"], Target>> = { x64, a64 };

/** The target for an OCI architecture name (amd64, arm64). */
export function targetForArch(arch: string): Target {
  if (arch === "amd64") return x64;
  if (arch === "arm64") return a64;
  throw new Error(`no native target for architecture "${arch}" (speck builds amd64 and arm64)`);
}
