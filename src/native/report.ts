// Size accounting: what each IR instruction costs per target, and what each function of a linked
// program weighs. Size is a feature of the server, so every byte is attributed somewhere.

import { type FuncBuilder, ProgramBuilder } from "./ir/builder.ts";
import { optimize } from "./ir/optimize.ts";
import type { Insn, Program } from "./ir/types.ts";
import { type Linked, type LinkOptions, link } from "./link.ts";
import type { Target } from "./target/types.ts";

/** Typical instructions, one row of the cost table each, written into a function with a 16-byte frame. */
export const SAMPLE_INSNS: readonly { label: string; emit: (f: FuncBuilder) => void }[] = [
  { label: "mov reg, reg", emit: (f) => f.mov("a1", "s0") },
  { label: "mov reg, 0", emit: (f) => f.mov("a1", 0) },
  { label: "mov reg, 100", emit: (f) => f.mov("a1", 100) },
  { label: "mov reg, -1", emit: (f) => f.mov("a1", -1n) },
  { label: "mov reg, 0x12345", emit: (f) => f.mov("a1", 0x12345) },
  { label: "mov reg, 2^40+1", emit: (f) => f.mov("a1", (1n << 40n) + 1n) },
  { label: "add reg, reg, reg", emit: (f) => f.add("a1", "a1", "s0") },
  { label: "add reg, reg, 8", emit: (f) => f.add("a1", "a1", 8) },
  { label: "add dst, other, 8", emit: (f) => f.add("a1", "s0", 8) },
  { label: "sub reg, reg, reg", emit: (f) => f.sub("a1", "a1", "s0") },
  { label: "and reg, reg, 0xff", emit: (f) => f.and("a1", "a1", 0xff) },
  { label: "or reg, reg, reg", emit: (f) => f.or("a1", "a1", "a2") },
  { label: "mul reg, reg, 10", emit: (f) => f.mul("a1", "a1", 10) },
  { label: "udiv reg, reg, 10", emit: (f) => f.udiv("a1", "a1", 10) },
  { label: "urem reg, reg, reg", emit: (f) => f.urem("a1", "a1", "s0") },
  { label: "shl reg, reg, 4", emit: (f) => f.shl("a1", "a1", 4) },
  { label: "shr reg, reg, reg", emit: (f) => f.shr("a1", "a1", "s0") },
  { label: "neg reg, reg", emit: (f) => f.neg("a1", "a1") },
  { label: "load8 reg, [reg]", emit: (f) => f.load(1, "a1", "s0") },
  { label: "load64 reg, [reg + 16]", emit: (f) => f.load(8, "a1", { base: "s0", offset: 16 }) },
  { label: "load8 reg, [reg + reg]", emit: (f) => f.load(1, "a1", { base: "s0", index: "a2" }) },
  { label: "load64 reg, [sp + 8]", emit: (f) => f.load(8, "a1", { base: "sp", offset: 8 }) },
  { label: "store64 [reg + 8], reg", emit: (f) => f.store(8, "a1", { base: "s0", offset: 8 }) },
  { label: "store8 [reg], 0", emit: (f) => f.store(1, 0, "s0") },
  { label: "store64 [sp + 8], 7", emit: (f) => f.store(8, 7, { base: "sp", offset: 8 }) },
  { label: "addr reg, symbol", emit: (f) => f.addr("a1", "data") },
  // Branches go back to the top of the function: a branch to the next instruction may cost nothing.
  { label: "br ne reg, 0, label (short)", emit: (f) => f.label("top").br("ne", "a1", 0, "top") },
  { label: "br ltu reg, reg, label (short)", emit: (f) => f.label("top").br("ltu", "a1", "a2", "top") },
  { label: "jmp label (short)", emit: (f) => f.label("top").jmp("top") },
  { label: "syscall", emit: (f) => f.syscall("getpid") },
  { label: "call (first one in a function)", emit: (f) => f.call("leaf") },
];

function sizeWith(target: Target, emit?: (f: FuncBuilder) => void): number {
  const p = new ProgramBuilder();
  p.bss("data", 8);
  p.func("main", {}, (f) => f.call("sample").mov("a0", 0).syscall("exit_group"));
  // the sample returns a value, so a call in it is never the tail call that replaces `call; ret`;
  // a branch over it to "end" keeps the return reachable after a sample that never falls through
  // (jmp), and the move it also skips keeps that branch from targeting the next instruction
  p.func("sample", { frame: 16 }, (f) => {
    f.br("eq", "a5", 0, "end").mov("a4", 1);
    emit?.(f);
    f.label("end").mov("a0", 0).ret();
  });
  p.func("leaf", {}, (f) => f.ret());
  return target.assemble(p.build("main")).code.length;
}

/** Bytes each sample instruction adds to a function, per target. */
export function opCosts(target: Target): { label: string; bytes: number }[] {
  const base = sizeWith(target);
  return SAMPLE_INSNS.map(({ label, emit }) => ({ label, bytes: sizeWith(target, emit) - base }));
}

/** The cost table of docs/native.md as Markdown: one row per sample, one column per target. */
export function costTable(targets: readonly Target[]): string {
  const costs = targets.map(opCosts);
  const head = `| IR instruction | ${targets.map((t) => `${t.name} bytes`).join(" | ")} |`;
  const rule = `|---|${targets.map(() => "---:").join("|")}|`;
  const rows = SAMPLE_INSNS.map(
    ({ label }, i) => `| \`${label}\` | ${costs.map((c) => c[i]!.bytes).join(" | ")} |`,
  );
  return [head, rule, ...rows].join("\n");
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

/**
 * The whole size report of a program: per target, the file size, each function and each
 * instruction kind, for the program as `link` would build it with `options`.
 */
export function sizeReport(program: Program, targets: readonly Target[], options: LinkOptions = {}): string {
  const built = options.optimize ? optimize(program) : program;
  return targets
    .map((target) => {
      const linked = link(program, target, options);
      const kinds = opKindBytes(built, target);
      const width = Math.max(8, ...kinds.map((k) => k.kind.length));
      const kindLines = kinds.map(
        (k) =>
          `${k.kind.padEnd(width)} ${String(k.bytes).padStart(6)}${k.count ? ` (${k.count} instruction${k.count === 1 ? "" : "s"})` : ""}`,
      );
      return [`${target.name}: ${linked.elf.length} bytes`, "", functionTable(linked), "", ...kindLines].join(
        "\n",
      );
    })
    .join("\n\n");
}
