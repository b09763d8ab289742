// Gate for tests that need a real tool (docker, qemu, binutils, a registry, ...): in CI a missing
// tool fails the test; on a developer's machine the test is skipped with what to install.

import { spawnSync } from "node:child_process";
import type { TestContext } from "node:test";

const found = new Map<string, boolean>();

export function hasCommand(command: string): boolean {
  let ok = found.get(command);
  if (ok === undefined) {
    ok = spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
    found.set(command, ok);
  }
  return ok;
}

export const inCI = process.env.CI === "true";

/**
 * Returns true when every command is on PATH. Otherwise fails the test in CI, or skips it
 * elsewhere saying what to install, and returns false so the caller can return early.
 */
export function requireCommands(t: TestContext, commands: readonly string[], install: string): boolean {
  const missing = commands.filter((c) => !hasCommand(c));
  if (missing.length === 0) return true;
  const message = `needs ${missing.join(", ")}: ${install}`;
  if (inCI) throw new Error(`${message} (missing in CI)`);
  t.skip(message);
  return false;
}
