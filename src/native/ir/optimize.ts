// Target-independent clean-ups that only ever remove bytes: functions and data nothing reaches,
// instructions control never reaches, branches to the next instruction, and jumps to jumps. The
// result means the same as the input (the interpreter is the judge); `link` applies it on request.

import type { Func, Insn, Program } from "./types.ts";

const NO_RETURN_SYSCALLS = new Set(["exit", "exit_group", "rt_sigreturn"]);

function endsFlow(insn: Insn): boolean {
  return (
    insn.op === "ret" || insn.op === "jmp" || (insn.op === "syscall" && NO_RETURN_SYSCALLS.has(insn.name))
  );
}

/** Index of the first instruction at or after `i` that is not a label. */
function settle(body: Insn[], i: number): number {
  while (i < body.length && body[i]!.op === "label") i++;
  return i;
}

function labelIndexes(body: Insn[]): Map<string, number> {
  const at = new Map<string, number>();
  body.forEach((insn, i) => {
    if (insn.op === "label") at.set(insn.name, i);
  });
  return at;
}

/** Retargets jumps and branches whose label leads straight to a `jmp`, following chains. */
function threadJumps(body: Insn[]): Insn[] {
  const labels = labelIndexes(body);
  const finalTarget = (name: string): string => {
    const seen = new Set<string>();
    let target = name;
    for (;;) {
      seen.add(target);
      const next = body[settle(body, labels.get(target)! + 1)];
      if (next?.op !== "jmp" || seen.has(next.target)) return target;
      target = next.target;
    }
  };
  return body.map((insn) => {
    if (insn.op === "jmp" || insn.op === "br") {
      const target = finalTarget(insn.target);
      return target === insn.target ? insn : { ...insn, target };
    }
    return insn;
  });
}

/** Keeps the instructions control can reach from the top, the labels still used, and drops branches to the next instruction. */
function pruneBody(body: Insn[]): Insn[] {
  const labels = labelIndexes(body);
  const reached = new Array<boolean>(body.length).fill(false);
  const work = [0];
  while (work.length > 0) {
    const i = work.pop()!;
    if (i >= body.length || reached[i]) continue;
    reached[i] = true;
    const insn = body[i]!;
    if (insn.op === "jmp" || insn.op === "br") work.push(labels.get(insn.target)!);
    if (!endsFlow(insn)) work.push(i + 1);
  }
  const kept = body.filter((_, i) => reached[i]);
  // A branch whose target is the next instruction does nothing, taken or not.
  const keptLabels = labelIndexes(kept);
  const useful = kept.filter((insn, i) => {
    if (insn.op !== "jmp" && insn.op !== "br") return true;
    return settle(kept, keptLabels.get(insn.target)!) !== settle(kept, i + 1);
  });
  const used = new Set(
    useful.flatMap((insn) => (insn.op === "jmp" || insn.op === "br" ? [insn.target] : [])),
  );
  return useful.filter((insn) => insn.op !== "label" || used.has(insn.name));
}

function optimizeFunc(func: Func): Func {
  let body = func.body;
  for (;;) {
    const next = pruneBody(threadJumps(body));
    if (next.length === body.length && next.every((insn, i) => insn === body[i])) break;
    body = next;
  }
  return body === func.body ? func : { ...func, body };
}

/** Names a function refers to: the functions it calls and the symbols it takes the address of. */
function references(func: Func): string[] {
  return func.body.flatMap((insn) =>
    insn.op === "call" ? [insn.fn] : insn.op === "addr" ? [insn.symbol] : [],
  );
}

/**
 * Returns an equivalent program without what cannot run or be reached: functions neither called
 * nor addressed from the entry onwards, data never addressed, unreachable instructions, unused
 * labels, branches to the next instruction, and jumps to jumps. Expects a verified program.
 */
export function optimize(program: Program): Program {
  const funcs = new Map(program.funcs.map((f) => [f.name, optimizeFunc(f)]));
  const live = new Set<string>([program.entry]);
  const work = [program.entry];
  while (work.length > 0) {
    const func = funcs.get(work.pop()!);
    if (!func) continue;
    for (const name of references(func)) {
      if (live.has(name)) continue;
      live.add(name);
      work.push(name);
    }
  }
  return {
    entry: program.entry,
    funcs: program.funcs.filter((f) => live.has(f.name)).map((f) => funcs.get(f.name)!),
    data: program.data.filter((d) => live.has(d.name)),
  };
}
