// Puts an executable on disk without ever leaving a half-written one: the bytes go to a temporary
// name beside the target, get the execute bits, and are renamed over it.

import { chmodSync, renameSync, rmSync, writeFileSync } from "node:fs";

/** Writes `elf` to `path` with mode 0755, atomically. */
export function writeExecutable(path: string, elf: Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, elf, { mode: 0o755 });
    chmodSync(temporary, 0o755);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
