// Size accounting: what each IR instruction costs per target, and what each function of a linked
// program weighs. Size is a feature of the server, so every byte is attributed somewhere.

import { ProgramBuilder } from "./ir/builder.ts";
import type { Insn, Program } from "./ir/types.ts";
import type { Linked } from "./link.ts";
import type { Target } from "./target/types.ts";

/** Typical instructions, one per row of the cost table. */
export const SAMPLE_INSNS: readonly { label: string; insn: Insn }[] = [
  { label: "mov reg, reg", insn: { op: "mov", dst: "a1", src: "s0" } },
  { label: "mov reg, 0", insn: { op: "mov", dst: "a1", src: 0n } },
  { label: "mov reg, 100", insn: { op: "mov", dst: "a1", src: 100n } },
  { label: "mov reg, 0x12345", insn: { op: "mov", dst: "a1", src: 0x12345n } },
  { label: "mov reg, 2^40+1", insn: { op: "mov", dst: "a1", src: (1n << 40n) + 1n } },
  { label: "add reg, reg, reg", insn: { op: "bin", kind: "add", dst: "a1", a: "a1", b: "s0" } },
  { label: "add reg, reg, 8", insn: { op: "bin", kind: "add", dst: "a1", a: "a1", b: 8n } },
  { label: "add dst, other, 8", insn: { op: "bin", kind: "add", dst: "a1", a: "s0", b: 8n } },
  { label: "sub reg, reg, reg", insn: { op: "bin", kind: "sub", dst: "a1", a: "a1", b: "s0" } },
  { label: "and reg, reg, 0xff", insn: { op: "bin", kind: "and", dst: "a1", a: "a1", b: 0xffn } },
  { label: "mul reg, reg, 10", insn: { op: "bin", kind: "mul", dst: "a1", a: "a1", b: 10n } },
  { label: "udiv reg, reg, 10", insn: { op: "bin", kind: "udiv", dst: "a1", a: "a1", b: 10n } },
  { label: "urem reg, reg, reg", insn: { op: "bin", kind: "urem", dst: "a1", a: "a1", b: "s0" } },
  { label: "shl reg, reg, 4", insn: { op: "bin", kind: "shl", dst: "a1", a: "a1", b: 4n } },
  { label: "shr reg, reg, reg", insn: { op: "bin", kind: "shr", dst: "a1", a: "a1", b: "s0" } },
  { label: "neg reg, reg", insn: { op: "un", kind: "neg", dst: "a1", a: "a1" } },
  { label: "load8 reg, [reg]", insn: { op: "load", size: 1, dst: "a1", mem: { base: "s0", offset: 0 } } },
  {
    label: "load64 reg, [reg + 16]",
    insn: { op: "load", size: 8, dst: "a1", mem: { base: "s0", offset: 16 } },
  },
  {
    label: "load8 reg, [reg + reg]",
    insn: { op: "load", size: 1, dst: "a1", mem: { base: "s0", index: "a2", offset: 0 } },
  },
  {
    label: "store64 [sp + 8], reg",
    insn: { op: "store", size: 8, src: "a1", mem: { base: "s0", offset: 8 } },
  },
  { label: "store8 [reg], 0", insn: { op: "store", size: 1, src: 0n, mem: { base: "s0", offset: 0 } } },
  { label: "addr reg, symbol", insn: { op: "addr", dst: "a1", symbol: "data", offset: 0 } },
  { label: "syscall", insn: { op: "syscall", name: "getpid" } },
  { label: "call", insn: { op: "call", fn: "leaf" } },
];

function sizeWith(target: Target, insns: readonly Insn[]): number {
  const p = new ProgramBuilder();
  p.bss("data", 8);
  p.func("main", {}, (f) => f.call("sample").mov("a0", 0).syscall("exit_group"));
  p.func("sample", {}, (f) => {
    for (const i of insns) f.emit(i);
    f.ret();
  });
  p.func("leaf", {}, (f) => f.ret());
  return target.assemble(p.build("main")).code.length;
}

/** Bytes each sample instruction adds to a function, per target. */
export function opCosts(target: Target): { label: string; bytes: number }[] {
  const base = sizeWith(target, []);
  return SAMPLE_INSNS.map(({ label, insn }) => ({ label, bytes: sizeWith(target, [insn]) - base }));
}

/** The kind an instruction is counted under: its op, or the operation of a bin or un. */
function kindOf(insn: Insn): string {
  return insn.op === "bin" || insn.op === "un" ? insn.kind : insn.op;
}

/**
 * Bytes of code each kind of IR instruction accounts for in `program` on `target`: the code shrinks
 * by that much when every instruction of the kind is left out. What no kind explains (prologues,
 * epilogues, and branches that got shorter) is reported as "other". Largest first.
 */
export function opKindBytes(
  program: Program,
  target: Target,
): { kind: string; count: number; bytes: number }[] {
  const total = target.assemble(program).code.length;
  const counts = new Map<string, number>();
  for (const f of program.funcs)
    for (const insn of f.body) {
      if (insn.op !== "label") counts.set(kindOf(insn), (counts.get(kindOf(insn)) ?? 0) + 1);
    }
  const rows = [...counts].map(([kind, count]) => {
    const without: Program = {
      ...program,
      funcs: program.funcs.map((f) => ({
        ...f,
        body: f.body.filter((i) => i.op === "label" || kindOf(i) !== kind),
      })),
    };
    return { kind, count, bytes: total - target.assemble(without).code.length };
  });
  const explained = rows.reduce((sum, r) => sum + r.bytes, 0);
  rows.sort((a, b) => b.bytes - a.bytes || (a.kind < b.kind ? -1 : 1));
  rows.push({ kind: "other", count: 0, bytes: total - explained });
  return rows;
}

/** A plain-text table of the functions of a linked program, largest first. */
export function functionTable(linked: Linked): string {
  const rows = [...linked.sizes.functions].sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1));
  const width = Math.max(8, ...rows.map((r) => r.name.length));
  const lines = rows.map((r) => `${r.name.padEnd(width)} ${String(r.size).padStart(6)}`);
  const { total, headers, text, rodata, data, bss } = linked.sizes;
  lines.push(
    `${"".padEnd(width, "-")} ------`,
    `${"code".padEnd(width)} ${String(text).padStart(6)}`,
    `${"headers".padEnd(width)} ${String(headers).padStart(6)}`,
    `${"rodata".padEnd(width)} ${String(rodata).padStart(6)}`,
    `${"data".padEnd(width)} ${String(data).padStart(6)}`,
    `${"file".padEnd(width)} ${String(total).padStart(6)}`,
    `${"bss".padEnd(width)} ${String(bss).padStart(6)} (memory only)`,
  );
  return lines.join("\n");
}
