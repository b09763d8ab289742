// Which argument register each value lives in. a3..a5 are r10 r8 r9 on x86-64, which need a REX
// prefix in every instruction naming them, while a0..a2 (rdi rsi rdx) need none in 32-bit and byte
// forms and as push/pop copies. A value's web is every definition and use it flows through (uses
// joined with all the definitions that reach them); a web that never meets the convention (no
// argument read at entry, no call, syscall or ret reading it, no result of one) can live in any
// register free wherever it is live. This module moves such webs, busiest first, from a3..a5 into
// a0..a2 where no other web there is live at the same time.

import { type Liveness, labelIndexes, regBit, successors } from "../../ir/liveness.ts";
import {
  ARG_REGS,
  type ArgReg,
  type Func,
  type Insn,
  type Mem,
  type Program,
  type Reg,
} from "../../ir/types.ts";

/** An operand that names an argument register: instruction index and where in it. */
type Slot = { insn: number; field: "dst" | "src" | "a" | "b" | "base" | "index" | "target" };

const isArg = (r: unknown): r is ArgReg =>
  typeof r === "string" && (ARG_REGS as readonly string[]).includes(r);

/** The argument-register operands `insn` reads and writes. */
function operands(insn: Insn, i: number): { uses: Slot[]; defs: Slot[] } {
  const uses: Slot[] = [];
  const defs: Slot[] = [];
  const use = (field: Slot["field"], r: unknown) => {
    if (isArg(r)) uses.push({ insn: i, field });
  };
  const mem = (m: Mem) => {
    use("base", m.base);
    use("index", m.index);
  };
  switch (insn.op) {
    case "mov":
      use("src", insn.src);
      break;
    case "bin":
      use("a", insn.a);
      use("b", insn.b);
      break;
    case "un":
      use("a", insn.a);
      break;
    case "load":
      mem(insn.mem);
      break;
    case "store":
      use("src", insn.src);
      mem(insn.mem);
      break;
    case "br":
      use("a", insn.a);
      use("b", insn.b);
      break;
    case "handoff":
      use("target", insn.target);
      break;
    default:
      break;
  }
  if (
    (insn.op === "mov" ||
      insn.op === "bin" ||
      insn.op === "un" ||
      insn.op === "load" ||
      insn.op === "addr") &&
    isArg(insn.dst)
  )
    defs.push({ insn: i, field: "dst" });
  return { uses, defs };
}

function regAt(insn: Insn, field: Slot["field"]): ArgReg {
  const m = (insn as { mem?: Mem }).mem;
  const value =
    field === "base" || field === "index" ? m![field] : (insn as unknown as Record<string, unknown>)[field];
  return value as ArgReg;
}

function withReg(insn: Insn, field: Slot["field"], r: Reg): Insn {
  if (field === "base" || field === "index") {
    const m = (insn as { mem: Mem }).mem;
    return { ...insn, mem: { ...m, [field]: r } } as Insn;
  }
  return { ...insn, [field]: r } as Insn;
}

class UnionFind {
  private readonly parent: number[] = [];
  /** The register of each node: every node of a web names the same one. */
  readonly reg: ArgReg[] = [];
  add(reg: ArgReg): number {
    this.parent.push(this.parent.length);
    this.reg.push(reg);
    return this.parent.length - 1;
  }
  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]!]!;
      x = this.parent[x]!;
    }
    return x;
  }
  union(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

/** `func` with the webs that may move placed in a0..a2 where they fit. */
function renameFunction(func: Func, liveness: Liveness): Func {
  const body = func.body;
  const n = body.length;
  const labels = labelIndexes(body);
  const uf = new UnionFind();
  const pinned = new Set<number>();
  const slotNode = new Map<string, number>();
  const slotKey = (s: Slot) => `${s.insn}:${s.field}`;
  const defsAt: Map<ArgReg, number>[] = body.map(() => new Map());
  const entryDefs = new Map<ArgReg, number>();
  for (const r of ARG_REGS) {
    const node = uf.add(r);
    pinned.add(node);
    entryDefs.set(r, node);
  }
  body.forEach((insn, i) => {
    for (const d of operands(insn, i).defs) {
      const node = uf.add(regAt(insn, d.field));
      slotNode.set(slotKey(d), node);
      defsAt[i]!.set(regAt(insn, d.field), node);
    }
    // calls clobber every argument register and syscalls return in a0: definitions of the convention
    const clobbers = insn.op === "call" ? ARG_REGS : insn.op === "syscall" ? (["a0"] as const) : [];
    for (const r of clobbers) {
      const node = uf.add(r);
      pinned.add(node);
      defsAt[i]!.set(r, node);
    }
  });
  // reaching definitions of each register before each instruction (sets of nodes)
  const succ = body.map((_, i) => successors(body, i, labels));
  const into: Map<ArgReg, Set<number>>[] = body.map(() => new Map());
  const out: Map<ArgReg, Set<number>>[] = body.map(() => new Map());
  for (const r of ARG_REGS) if (n > 0) into[0]!.set(r, new Set([entryDefs.get(r)!]));
  const work = Array.from({ length: n }, (_, i) => i);
  const queued = new Array<boolean>(n).fill(true);
  while (work.length > 0) {
    const i = work.shift()!;
    queued[i] = false;
    const next = new Map<ArgReg, Set<number>>();
    for (const r of ARG_REGS) {
      const d = defsAt[i]!.get(r);
      next.set(r, d !== undefined ? new Set([d]) : new Set(into[i]!.get(r) ?? []));
    }
    out[i] = next;
    for (const s of succ[i]!) {
      let grew = false;
      for (const r of ARG_REGS) {
        const target = into[s]!.get(r) ?? new Set<number>();
        for (const d of next.get(r)!) {
          if (!target.has(d)) {
            target.add(d);
            grew = true;
          }
        }
        into[s]!.set(r, target);
      }
      if (grew && !queued[s]) {
        queued[s] = true;
        work.push(s);
      }
    }
  }
  // uses join every definition that reaches them; the convention's reads pin theirs
  const reaching = (i: number, r: ArgReg) => into[i]!.get(r) ?? new Set<number>();
  body.forEach((insn, i) => {
    for (const u of operands(insn, i).uses) {
      const node = uf.add(regAt(insn, u.field));
      slotNode.set(slotKey(u), node);
      for (const d of reaching(i, regAt(insn, u.field))) uf.union(node, d);
    }
    // `op d, d, x` stays two-address: its result goes where its first operand was (x86-64 would
    // need a copy otherwise)
    if ((insn.op === "bin" || insn.op === "un") && insn.a === insn.dst && isArg(insn.dst))
      uf.union(
        slotNode.get(slotKey({ insn: i, field: "a" }))!,
        slotNode.get(slotKey({ insn: i, field: "dst" }))!,
      );
    if (insn.op === "call" || insn.op === "syscall" || insn.op === "ret") {
      const read = liveness.before(func.name, i);
      for (const r of ARG_REGS) if (read & regBit(r)) for (const d of reaching(i, r)) pinned.add(uf.find(d));
    }
  });
  const pinnedRoots = new Set([...pinned].map((x) => uf.find(x)));
  // each web: its register, its operands, and whether it may move
  interface Web {
    reg: ArgReg;
    slots: Slot[];
    free: boolean;
  }
  const webs = new Map<number, Web>();
  const webOf = (node: number) => uf.find(node);
  for (const [k, node] of slotNode) {
    const [insn, field] = k.split(":") as [string, Slot["field"]];
    const root = webOf(node);
    const slot = { insn: Number(insn), field };
    const web = webs.get(root) ?? { reg: uf.reg[root]!, slots: [], free: !pinnedRoots.has(root) };
    web.slots.push(slot);
    webs.set(root, web);
  }
  // interference: a web defined by an instruction meets every web live after it (entry counts as
  // the definition of what is live there); a value read by an instruction may share a register
  // with one it defines
  const liveWebs = (sets: Map<ArgReg, Set<number>>, live: number): number[] => {
    const held: number[] = [];
    for (const r of ARG_REGS)
      if (live & regBit(r)) {
        const d = [...(sets.get(r) ?? [])][0];
        if (d !== undefined) held.push(webOf(d));
      }
    return held;
  };
  const interference = new Map<number, Set<number>>();
  const meet = (a: number, b: number) => {
    if (a === b) return;
    if (!interference.has(a)) interference.set(a, new Set());
    if (!interference.has(b)) interference.set(b, new Set());
    interference.get(a)!.add(b);
    interference.get(b)!.add(a);
  };
  body.forEach((_, i) => {
    const after = liveWebs(out[i]!, liveness.after(func.name, i));
    for (const d of defsAt[i]!.values()) for (const w of after) meet(webOf(d), w);
  });
  if (n > 0) {
    const atEntry = liveWebs(into[0]!, liveness.before(func.name, 0));
    for (const d of entryDefs.values()) for (const w of atEntry) meet(webOf(d), w);
  }
  // where each web is; moves go busiest first into a0..a2
  const regOf = (root: number) => uf.reg[root]!;
  const movable = [...webs].filter(([, w]) => w.free && (w.reg === "a3" || w.reg === "a4" || w.reg === "a5"));
  movable.sort(([, a], [, b]) => b.slots.length - a.slots.length);
  let renamed = body;
  for (const [root, web] of movable) {
    const others = interference.get(root) ?? new Set<number>();
    const target = (["a0", "a1", "a2"] as const).find((r) => ![...others].some((o) => regOf(o) === r));
    if (target === undefined) continue;
    uf.reg[root] = target;
    if (renamed === body) renamed = [...body];
    for (const slot of web.slots) renamed[slot.insn] = withReg(renamed[slot.insn]!, slot.field, target);
  }
  return renamed === body ? func : { ...func, body: renamed };
}

/** The program with each function's movable argument-register webs in a0..a2 where they fit. */
export function chooseArgs(program: Program, liveness: Liveness): Program {
  return { ...program, funcs: program.funcs.map((f) => renameFunction(f, liveness)) };
}
