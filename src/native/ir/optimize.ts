// Target-independent clean-ups that only ever remove bytes: functions and data nothing reaches,
// instructions control never reaches, branches to the next instruction, and jumps to jumps. The
// result means the same as the input (the interpreter is the judge); `link` applies it on request.

import { formatInsn } from "./format.ts";
import {
  analyzeLiveness,
  type Liveness,
  labelIndexes,
  NO_RETURN_SYSCALLS,
  type RegSet,
  regBit,
} from "./liveness.ts";
import {
  type Base,
  type Cond,
  type Func,
  type Insn,
  type Mem,
  type Program,
  type Reg,
  SAVED_REGS,
  type SavedReg,
  type Src,
} from "./types.ts";

function endsFlow(insn: Insn): boolean {
  return (
    insn.op === "ret" ||
    insn.op === "jmp" ||
    insn.op === "handoff" ||
    (insn.op === "syscall" && NO_RETURN_SYSCALLS.has(insn.name))
  );
}

/** Index of the first instruction at or after `i` that is not a label. */
function settle(body: Insn[], i: number): number {
  while (i < body.length && body[i]!.op === "label") i++;
  return i;
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

/** Whether `br cond a, b` is taken for these constants (64-bit, two's complement). */
export function holds(cond: Cond, a: bigint, b: bigint): boolean {
  const signed = ["lt", "le", "gt", "ge"].includes(cond);
  const x = signed ? BigInt.asIntN(64, a) : BigInt.asUintN(64, a);
  const y = signed ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b);
  switch (cond) {
    case "eq":
      return x === y;
    case "ne":
      return x !== y;
    case "lt":
    case "ltu":
      return x < y;
    case "le":
    case "leu":
      return x <= y;
    case "gt":
    case "gtu":
      return x > y;
    case "ge":
    case "geu":
      return x >= y;
  }
}

/**
 * Jump threading on constants: after `mov r, K`, control that reaches (through labels and jumps
 * only) branches on r against constants goes where they send it, so the move is followed by a
 * jump straight there (an inlined function's status code tested by its caller). The move stays;
 * when nothing reads r there any more, removeDead drops it. A move followed by a jump trades that
 * jump for the new one; a move that falls through gains a jump, so it is threaded only where
 * `deadAt(index, r)` says r is dead where control lands (the move will go).
 */
function threadConstants(
  body: Insn[],
  uniqueLabel: (hint: string) => string,
  deadAt?: (index: number, reg: Reg) => boolean,
): Insn[] {
  const labels = labelIndexes(body);
  /** Label to put before instruction i (existing or new), by index. */
  const landing = new Map<number, string>();
  const jumps = new Map<number, string>();
  body.forEach((insn, i) => {
    if (insn.op !== "mov" || typeof insn.src !== "bigint") return;
    const jumpsAlready = body[i + 1]?.op === "jmp";
    if (!jumpsAlready && !deadAt) return;
    let at = settle(body, i + 1);
    let decided = false;
    for (let steps = 0; steps < 16; steps++) {
      const next = body[at]!;
      if (next.op === "jmp") at = settle(body, labels.get(next.target)! + 1);
      else if (next.op === "br" && next.a === insn.dst && typeof next.b === "bigint") {
        at = holds(next.cond, insn.src, next.b)
          ? settle(body, labels.get(next.target)! + 1)
          : settle(body, at + 1);
        decided = true;
      } else break;
    }
    const landed = body[at]!;
    if (!decided || (landed.op === "br" && landed.a === insn.dst) || landed.op === "jmp") return;
    if (!jumpsAlready && !deadAt!(at, insn.dst)) return;
    if (!landing.has(at)) {
      const before = body[at - 1];
      landing.set(at, before?.op === "label" ? before.name : uniqueLabel("known"));
    }
    jumps.set(i, landing.get(at)!);
  });
  if (jumps.size === 0) return body;
  const out: Insn[] = [];
  body.forEach((insn, i) => {
    const name = landing.get(i);
    if (name !== undefined && body[i - 1]?.op !== "label") out.push({ op: "label", name });
    out.push(insn);
    const to = jumps.get(i);
    if (to !== undefined) out.push({ op: "jmp", target: to });
  });
  return out;
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

/**
 * Cross-jumping: where two paths end in the same instructions and the same way out (a `ret`, a
 * jump to one label or an exit), the later copy becomes a jump into the earlier one. Merges the
 * pair with the longest common tail (at least one instruction besides the way out) and returns
 * the new body, or the same body when no pair has one. Labels end a tail: other paths enter there.
 */
function mergeTails(body: Insn[], uniqueLabel: (hint: string) => string): Insn[] {
  const texts = body.map(formatInsn);
  const groups = new Map<string, number[]>();
  body.forEach((insn, i) => {
    if (endsFlow(insn)) groups.set(texts[i]!, [...(groups.get(texts[i]!) ?? []), i]);
  });
  let best: { keep: number; drop: number; length: number } | null = null;
  for (const ends of groups.values())
    for (let x = 0; x < ends.length; x++)
      for (let y = x + 1; y < ends.length; y++) {
        const keep = ends[x]!;
        const drop = ends[y]!;
        let length = 0;
        for (;;) {
          const a = keep - 1 - length;
          const b = drop - 1 - length;
          if (a < 0 || b <= keep || body[a]!.op === "label" || body[b]!.op === "label") break;
          if (texts[a] !== texts[b]) break;
          length++;
        }
        if (length >= 1 && (best === null || length > best.length)) best = { keep, drop, length };
      }
  if (best === null) return body;
  const label = uniqueLabel("tail");
  const start = best.keep - best.length;
  return [
    ...body.slice(0, start),
    { op: "label", name: label },
    ...body.slice(start, best.drop - best.length),
    { op: "jmp", target: label },
    ...body.slice(best.drop + 1),
  ];
}

/** A source of label names no instruction of `body` defines (nor any name it gave before). */
function labelMaker(body: readonly Insn[]): (hint: string) => string {
  const taken = new Set(body.flatMap((insn) => (insn.op === "label" ? [insn.name] : [])));
  return (hint: string) => {
    let name = `${hint}.${taken.size}`;
    while (taken.has(name)) name += "'";
    taken.add(name);
    return name;
  };
}

function optimizeFunc(func: Func): Func {
  let body = func.body;
  const uniqueLabel = labelMaker(body);
  for (;;) {
    const next = mergeTails(pruneBody(threadConstants(threadJumps(body), uniqueLabel)), uniqueLabel);
    if (next.length === body.length && next.every((insn, i) => insn === body[i])) break;
    body = next;
  }
  return body === func.body ? func : { ...func, body };
}

/** `insn` with its frame access moved `by` bytes (the inlined callee's locals sit above the caller's). */
function shiftFrame(insn: Insn, by: number): Insn {
  if ((insn.op === "load" || insn.op === "store") && insn.mem.base === "sp")
    return { ...insn, mem: { ...insn.mem, offset: insn.mem.offset + by } };
  return insn;
}

/**
 * `caller` with its call at `at` replaced by `callee`'s body: labels renamed apart, frame slots
 * moved above the caller's, each `ret` a jump to after the call, and the callee's saved registers
 * saved by the caller instead (the entry saves nothing).
 */
function inlineCall(caller: Func, at: number, callee: Func, isEntry: boolean): Func {
  const taken = new Set(caller.body.flatMap((insn) => (insn.op === "label" ? [insn.name] : [])));
  const renamed = new Map<string, string>();
  for (const insn of callee.body) {
    if (insn.op !== "label") continue;
    let name = `${callee.name}.${insn.name}`;
    while (taken.has(name)) name += "'";
    taken.add(name);
    renamed.set(insn.name, name);
  }
  let after = `${callee.name}.return`;
  while (taken.has(after)) after += "'";
  const base = Math.ceil(caller.frame / 16) * 16;
  const body = callee.body.map((insn): Insn => {
    const moved = shiftFrame(insn, base);
    switch (moved.op) {
      case "label":
        return { ...moved, name: renamed.get(moved.name)! };
      case "jmp":
      case "br":
        return { ...moved, target: renamed.get(moved.target)! };
      case "ret":
        return { op: "jmp", target: after };
      default:
        return moved;
    }
  });
  const saves = isEntry
    ? caller.saves
    : SAVED_REGS.filter((r) => caller.saves.includes(r) || callee.saves.includes(r));
  return {
    ...caller,
    frame: callee.frame > 0 ? base + callee.frame : caller.frame,
    saves,
    body: [...caller.body.slice(0, at), ...body, { op: "label", name: after }, ...caller.body.slice(at + 1)],
  };
}

/** Registers `insn` reads as operands or address parts (what a call or syscall reads is not counted). */
function readsOf(insn: Insn): RegSet {
  const bit = (x: Src | Base | undefined) => (typeof x === "string" && x !== "sp" ? regBit(x as Reg) : 0);
  const mem = (m: Mem) => bit(m.base) | bit(m.index);
  switch (insn.op) {
    case "mov":
      return bit(insn.src);
    case "bin":
      return bit(insn.a) | bit(insn.b);
    case "un":
      return bit(insn.a);
    case "load":
      return mem(insn.mem);
    case "store":
      return bit(insn.src) | mem(insn.mem);
    case "br":
      return bit(insn.a) | bit(insn.b);
    default:
      return 0;
  }
}

/** `insn` reading `to` wherever it reads `from` (what it writes stays). */
function renameReads(insn: Insn, from: Reg, to: Reg): Insn {
  const r = <T extends Src | Base | undefined>(x: T): T => (x === from ? (to as T) : x);
  const m = (mem: Mem): Mem => ({ ...mem, base: r(mem.base), ...(mem.index ? { index: r(mem.index) } : {}) });
  switch (insn.op) {
    case "mov":
      return { ...insn, src: r(insn.src) };
    case "bin":
      return { ...insn, a: r(insn.a), b: r(insn.b) };
    case "un":
      return { ...insn, a: r(insn.a) };
    case "load":
      return { ...insn, mem: m(insn.mem) };
    case "store":
      return { ...insn, src: r(insn.src), mem: m(insn.mem) };
    case "br":
      return { ...insn, a: r(insn.a), b: r(insn.b) };
    default:
      return insn;
  }
}

/** `insn` with every register renamed through `to` (registers it does not map stay). */
export function renameRegs(insn: Insn, to: ReadonlyMap<Reg, Reg>): Insn {
  const r = <T extends Src | Base | undefined>(x: T): T =>
    (typeof x === "string" ? (to.get(x as Reg) ?? x) : x) as T;
  const m = (mem: Mem): Mem => ({ ...mem, base: r(mem.base), ...(mem.index ? { index: r(mem.index) } : {}) });
  switch (insn.op) {
    case "mov":
      return { ...insn, dst: r(insn.dst), src: r(insn.src) };
    case "bin":
      return { ...insn, dst: r(insn.dst), a: r(insn.a), b: r(insn.b) };
    case "un":
      return { ...insn, dst: r(insn.dst), a: r(insn.a) };
    case "load":
      return { ...insn, dst: r(insn.dst), mem: m(insn.mem) };
    case "store":
      return { ...insn, src: r(insn.src), mem: m(insn.mem) };
    case "addr":
      return { ...insn, dst: r(insn.dst) };
    case "br":
      return { ...insn, a: r(insn.a), b: r(insn.b) };
    default:
      return insn;
  }
}

/** Saved registers an instruction names, as operand, destination or address part. */
export function savedNamed(insn: Insn): RegSet {
  let set = 0;
  const note = (x: Src | Base | undefined) => {
    if (typeof x === "string" && x.startsWith("s") && x !== "sp") set |= regBit(x as Reg);
  };
  for (const field of ["dst", "a", "b", "src"] as const)
    note((insn as unknown as Partial<Record<string, Src>>)[field]);
  if (insn.op === "load" || insn.op === "store") {
    note(insn.mem.base);
    note(insn.mem.index);
  }
  return set;
}

/**
 * `callee` with the saved registers it writes moved off those in `busy` (live after its call
 * site), onto saved registers it never names; null when that is not possible. A register can move
 * only when it is the callee's own: not read before written and not read by the functions it calls.
 */
function moveSaved(callee: Func, busy: RegSet, liveness: Liveness): Func | null {
  const clash = callee.saves.filter((reg) => busy & regBit(reg));
  if (clash.length === 0) return callee;
  let named = 0;
  let calleesRead = 0;
  for (const insn of callee.body) {
    named |= savedNamed(insn);
    if (insn.op === "call") calleesRead |= liveness.entry(insn.fn);
  }
  const own = (reg: SavedReg) => !((liveness.entry(callee.name) | calleesRead) & regBit(reg));
  const free = SAVED_REGS.filter((reg) => !((busy | named) & regBit(reg)));
  if (free.length < clash.length || !clash.every(own)) return null;
  const to = new Map<Reg, Reg>(clash.map((reg, i) => [reg, free[i]!]));
  return {
    ...callee,
    saves: callee.saves.map((reg) => (to.get(reg) as SavedReg | undefined) ?? reg),
    body: callee.body.map((insn) => renameRegs(insn, to)),
  };
}

/**
 * Inlines every function called from exactly one place (not the entry, not recursive, its address
 * never taken) where the saved registers it writes hold nothing the caller reads after the call,
 * or can be moved to ones that hold nothing (see moveSaved).
 * Each round inlines into and from distinct functions, then liveness is computed again.
 */
function inlineSingleCalls(program: Program): Program {
  let funcs = program.funcs;
  for (;;) {
    const sites = new Map<string, { caller: string; at: number }[]>();
    const addressed = new Set<string>();
    for (const func of funcs)
      func.body.forEach((insn, at) => {
        if (insn.op === "call")
          sites.set(insn.fn, [...(sites.get(insn.fn) ?? []), { caller: func.name, at }]);
        if (insn.op === "addr") addressed.add(insn.symbol);
      });
    const liveness = analyzeLiveness({ ...program, funcs });
    const byName = new Map(funcs.map((f) => [f.name, f]));
    const touched = new Set<string>();
    const replaced = new Map<string, Func>();
    for (const callee of funcs) {
      const only = sites.get(callee.name);
      if (only?.length !== 1 || callee.name === program.entry || addressed.has(callee.name)) continue;
      const { caller, at } = only[0]!;
      if (caller === callee.name || touched.has(caller) || touched.has(callee.name)) continue;
      const moved = moveSaved(callee, liveness.after(caller, at), liveness);
      if (!moved) continue;
      touched.add(caller).add(callee.name);
      replaced.set(caller, inlineCall(byName.get(caller)!, at, moved, caller === program.entry));
    }
    if (replaced.size === 0) return { ...program, funcs };
    // An inlined function has no other caller and no address taken: nothing reaches it any more.
    funcs = funcs
      .filter((f) => !touched.has(f.name) || replaced.has(f.name))
      .map((f) => replaced.get(f.name) ?? f);
  }
}

/**
 * Drops moves, arithmetic and addresses whose result nothing reads (loads stay: they may fault on
 * purpose), and computes a value that is only copied elsewhere straight into the copy's register
 * (`add a0, s1, 8; mov s4, a0` with a0 dead after is `add s4, s1, 8`). Returns the same program
 * when there is nothing to do.
 */
function removeDead(program: Program): Program {
  const liveness = analyzeLiveness(program);
  let changed = false;
  const funcs = program.funcs.map((func) => {
    const body: Insn[] = [];
    const old = func.body;
    for (let i = 0; i < old.length; i++) {
      const insn = old[i]!;
      const computes =
        insn.op === "mov" ||
        insn.op === "bin" ||
        insn.op === "un" ||
        insn.op === "load" ||
        insn.op === "addr";
      if (computes && insn.op !== "load" && !(liveness.after(func.name, i) & regBit(insn.dst))) {
        changed = true;
        continue;
      }
      const copy = old[i + 1];
      // `mov d, s` read only by the next instruction: that one reads s instead
      if (
        insn.op === "mov" &&
        typeof insn.src === "string" &&
        copy !== undefined &&
        readsOf(copy) & regBit(insn.dst) &&
        !(liveness.after(func.name, i + 1) & regBit(insn.dst))
      ) {
        body.push(renameReads(copy, insn.dst, insn.src));
        changed = true;
        i++;
        continue;
      }
      if (
        computes &&
        copy?.op === "mov" &&
        copy.src === insn.dst &&
        copy.dst !== insn.dst &&
        !(liveness.after(func.name, i + 1) & regBit(insn.dst))
      ) {
        body.push({ ...insn, dst: copy.dst });
        changed = true;
        i++;
        continue;
      }
      body.push(insn);
    }
    return body.length === old.length ? func : { ...func, body };
  });
  return changed ? { ...program, funcs } : program;
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
export function optimize(input: Program): Program {
  let program = inlineSingleCalls(input);
  for (let round = 0; round < 8; round++) {
    const cleaned = { ...program, funcs: program.funcs.map(optimizeFunc) };
    const liveness = analyzeLiveness(cleaned);
    let threaded = false;
    const funcs = cleaned.funcs.map((f) => {
      const body = threadConstants(
        f.body,
        labelMaker(f.body),
        (at, reg) => !(liveness.before(f.name, at) & regBit(reg)),
      );
      if (body === f.body) return f;
      threaded = true;
      return { ...f, body };
    });
    const next = removeDead(threaded ? { ...cleaned, funcs } : cleaned);
    program = next;
    if (next === cleaned) break;
  }
  const funcs = new Map(program.funcs.map((f) => [f.name, f]));
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
