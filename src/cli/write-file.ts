// Writes a file through a temporary name in the same folder, renamed when complete, so a failure
// leaves nothing half-written; errors name the path.

import { renameSync, rmSync, writeFileSync } from "node:fs";
import { UsageError } from "./errors.ts";

export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new UsageError(
      `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}
