// Prints IR instructions as one-line assembly-like text, for error messages and listings.

import type { Data, Insn, Mem, Program, Src } from "./types.ts";

const src = (s: Src): string => (typeof s === "bigint" ? s.toString() : s);

function mem(m: Mem): string {
  let s = m.base;
  if (m.index) s += ` + ${m.index}${m.scale && m.scale > 1 ? ` * ${m.scale}` : ""}`;
  if (m.offset) s += m.offset > 0 ? ` + ${m.offset}` : ` - ${-m.offset}`;
  return `[${s}]`;
}

/** `br ltu a0, 300, done`, `load8 a1, [sp + 8]`, ... */
export function formatInsn(insn: Insn): string {
  switch (insn.op) {
    case "mov":
      return `mov ${insn.dst}, ${src(insn.src)}`;
    case "bin":
      return `${insn.kind} ${insn.dst}, ${insn.a}, ${src(insn.b)}`;
    case "un":
      return `${insn.kind} ${insn.dst}, ${insn.a}`;
    case "load":
      return `load${insn.size * 8} ${insn.dst}, ${mem(insn.mem)}`;
    case "store":
      return `store${insn.size * 8} ${mem(insn.mem)}, ${src(insn.src)}`;
    case "addr":
      return `addr ${insn.dst}, ${insn.symbol}${insn.offset ? ` + ${insn.offset}` : ""}`;
    case "label":
      return `${insn.name}:`;
    case "jmp":
      return `jmp ${insn.target}`;
    case "br":
      return `br ${insn.cond} ${insn.a}, ${src(insn.b)}, ${insn.target}`;
    case "call":
      return `call ${insn.fn}`;
    case "ret":
      return "ret";
    case "syscall":
      return `syscall ${insn.name}`;
    case "handoff":
      return `handoff ${insn.target}`;
    default:
      return String((insn as { op: unknown }).op);
  }
}

function describeData(d: Data): string {
  const align = d.align > 1 ? `, align ${d.align}` : "";
  return `${d.kind} ${d.name}: ${d.size} bytes${align}`;
}

/** A whole program as a listing: data first, then each function with its frame, saves and body. */
export function formatProgram(program: Program): string {
  const lines = [`entry ${program.entry}`, ...program.data.map(describeData)];
  for (const f of program.funcs) {
    const saves = f.saves.length > 0 ? `, saves ${f.saves.join(" ")}` : "";
    lines.push("", `fn ${f.name} (frame ${f.frame}${saves})`);
    for (const insn of f.body) lines.push(insn.op === "label" ? formatInsn(insn) : `  ${formatInsn(insn)}`);
  }
  return `${lines.join("\n")}\n`;
}
