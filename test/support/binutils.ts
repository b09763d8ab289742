// Assembles a listing with GNU binutils (as for x86-64, aarch64-linux-gnu-as for arm64) and returns
// the raw bytes of its .text, so encoder tests can compare speck's bytes with the reference.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TOOLS = {
  x64: { as: "as", asFlags: ["--64"], objcopy: "objcopy" },
  a64: { as: "aarch64-linux-gnu-as", asFlags: [], objcopy: "aarch64-linux-gnu-objcopy" },
} as const;

/** Assembles `lines` (after an optional `prelude`) in one process call and returns the .text bytes. */
export function assembleWithBinutils(
  target: keyof typeof TOOLS,
  lines: readonly string[],
  prelude = "",
): Buffer {
  const tools = TOOLS[target];
  const dir = mkdtempSync(join(tmpdir(), "speck-as-"));
  try {
    const source = join(dir, "in.s");
    writeFileSync(source, `${prelude}\n.text\n${lines.join("\n")}\n`);
    execFileSync(tools.as, [...tools.asFlags, "-o", join(dir, "in.o"), source], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    execFileSync(tools.objcopy, ["-O", "binary", "-j", ".text", join(dir, "in.o"), join(dir, "out.bin")]);
    return readFileSync(join(dir, "out.bin"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
