// Lowers IR functions to AArch64 machine code and lays them out. Per function: the frame, tail
// calls, constants kept in scratch registers, and the fusions of fuse.ts; then, over the whole
// program, tail merging (tails.ts) and jump threading (threading.ts); last, PC-relative fields are
// resolved once every item has its place (tbz/tbnz, which reach 32 KiB, grow to a branch pair when far).

import { analyzeLiveness, NO_RETURN_SYSCALLS } from "../../ir/liveness.ts";
import type { Func, Insn, Mem, Program, Reg } from "../../ir/types.ts";
import type { AssembledText, Relocation } from "../types.ts";
import { forwardCopies } from "./copies.ts";
import * as a from "./encode.ts";
import { frameLayout, prologue, restore } from "./frame.ts";
import {
  bitTest,
  branchChain,
  divideWithRemainder,
  fallsThroughTo,
  invert,
  multiplyAdd,
  pairedAccess,
  select,
} from "./fuse.ts";
import type { Item } from "./items.ts";
import { liveness, type Surroundings } from "./liveness.ts";
import {
  type BranchShape,
  lowerBinary,
  lowerBranch,
  lowerStore,
  memoryAccess,
  movImm,
  movReg,
  PHYSICAL,
  phys,
  Scratch,
} from "./lower.ts";
import { bringPairsTogether } from "./schedule.ts";
import { mergeTails } from "./tails.ts";
import { threadJumps } from "./threading.ts";

export { PHYSICAL };

/** True when `next` overwrites a0 without reading it. */
function overwritesA0(next: Insn | undefined): boolean {
  if (!next) return false;
  const readsMem = (m: Mem) => m.base === "a0" || m.index === "a0";
  switch (next.op) {
    case "mov":
      return next.dst === "a0" && next.src !== "a0";
    case "load":
      return next.dst === "a0" && !readsMem(next.mem);
    case "addr":
      return next.dst === "a0";
    default:
      return false;
  }
}

/** Index of the first instruction after `i` that is not a label. */
function nextInsn(body: readonly Insn[], i: number): number {
  let j = i + 1;
  while (body[j]?.op === "label") j++;
  return j;
}

/** Indexes of the calls that only labels separate from a ret. */
function tailSites(body: readonly Insn[]): Set<number> {
  const sites = new Set<number>();
  body.forEach((insn, i) => {
    if (insn.op === "call" && body[nextInsn(body, i)]?.op === "ret") sites.add(i);
  });
  return sites;
}

/** Lowers one function to items; labels are qualified as "func.label". */
export function lowerFunction(
  func: Func,
  isEntry: boolean,
  syscalls: Record<string, number>,
  around?: Surroundings,
): Item[] {
  const items: Item[] = [{ kind: "label", name: func.name }];
  const words = (ws: number[]) => {
    for (const w of ws) items.push({ kind: "word", word: w });
  };
  const local = (name: string) => `${func.name}.${name}`;
  const branch = (shape: BranchShape, target: string) => {
    switch (shape.kind) {
      case "cmp":
        words(shape.words);
        items.push({ kind: "branch", cond: shape.cond, target });
        return;
      case "cbz":
        items.push({ kind: "cbz", nonZero: shape.nonZero, reg: shape.reg, target });
        return;
      case "tbz":
        items.push({ ...shape, target, far: false });
        return;
      case "always":
        items.push({ kind: "branch", cond: null, target });
        return;
      case "never":
        return;
    }
  };

  // A call right before a ret becomes a jump once the frame is gone; x30 is saved only for the others.
  const calls = func.body.filter((insn) => insn.op === "call").length;
  const tails = tailSites(func.body).size;
  const saved = isEntry ? [] : [...func.saves.map(phys), ...(calls > tails ? [a.LR] : [])];
  const frame = frameLayout(func.frame, saved);
  const body = bringPairsTogether(forwardCopies(func, around), frame.localsAt);
  const tailCallAt = tailSites(body);
  const restoring = restore(frame);
  const exitWords = [...restoring, a.RET];
  const tailCalls = calls === tails || restoring.length <= 1;
  let live: ReturnType<typeof liveness> | null = null;
  const liveAfter = (i: number, r: Reg) => {
    live ??= liveness({ ...func, body }, around);
    return live(i, r);
  };

  const scratch = new Scratch();
  if (isEntry && !overwritesA0(body[0])) words(movReg(PHYSICAL.a0, a.SP));
  words(prologue(frame));

  for (let i = 0; i < body.length; i++) {
    const insn = body[i]!;
    switch (insn.op) {
      case "mov": {
        const selected = select(body, i, scratch);
        if (selected) {
          words(selected.words);
          i = selected.last;
          break;
        }
        words(
          typeof insn.src === "bigint"
            ? movImm(phys(insn.dst), insn.src)
            : movReg(phys(insn.dst), phys(insn.src)),
        );
        break;
      }
      case "bin": {
        const test = bitTest(body, i, liveAfter);
        const target = body[i + 1];
        if (test && target?.op === "br") {
          branch(test, local(target.target));
          i++;
          break;
        }
        const fused = multiplyAdd(body, i, liveAfter, scratch) ?? divideWithRemainder(body, i, scratch);
        if (fused) {
          words(fused);
          i++;
        } else words(lowerBinary(insn, scratch));
        break;
      }
      case "un":
        words([a.aluReg(insn.kind === "neg" ? "sub" : "orn", phys(insn.dst), a.XZR, phys(insn.a))]);
        break;
      case "load":
      case "store": {
        const paired = pairedAccess(body, i, frame.localsAt);
        if (paired) {
          words(paired);
          i++;
        } else if (insn.op === "load")
          words(memoryAccess(true, insn.size, phys(insn.dst), insn.mem, frame.localsAt, scratch));
        else words(lowerStore(insn, frame.localsAt, scratch));
        break;
      }
      case "addr":
        items.push({ kind: "adr", dst: phys(insn.dst), symbol: insn.symbol, offset: insn.offset });
        break;
      case "label":
        scratch.forget();
        items.push({ kind: "label", name: local(insn.name) });
        break;
      case "jmp":
        if (!fallsThroughTo(body, i, insn.target))
          items.push({ kind: "branch", cond: null, target: local(insn.target) });
        break;
      case "br": {
        if (fallsThroughTo(body, i, insn.target)) break;
        const chain = branchChain(body, i, scratch);
        const shape = chain?.shape ?? lowerBranch(insn.cond, insn.a, insn.b, scratch);
        const target = chain?.target ?? insn.target;
        i = chain?.last ?? i;
        const next = body[i + 1];
        // br c, L1; jmp L2; L1: is one branch on the opposite condition to L2.
        if (next?.op === "jmp" && fallsThroughTo(body, i + 1, target)) {
          branch(invert(shape), local(next.target));
          i++;
        } else branch(shape, local(target));
        break;
      }
      case "call":
        scratch.forget();
        if (tailCallAt.has(i) && tailCalls) {
          words(restoring);
          items.push({ kind: "branch", cond: null, target: insn.fn });
          if (body[i + 1]?.op === "ret") i++;
        } else items.push({ kind: "call", target: insn.fn });
        break;
      case "ret":
        words(exitWords);
        break;
      case "handoff":
        // verify checked the IR's frame; inlining must not have grown it since.
        if (frame.size !== 0)
          throw new Error(`a64: fn ${func.name}: handoff from a frame of ${frame.size} bytes`);
        items.push({ kind: "word", word: a.br(phys(insn.target)), final: true });
        break;
      case "syscall": {
        const number = syscalls[insn.name];
        if (number === undefined)
          throw new Error(`a64: fn ${func.name}: no syscall named "${insn.name}" on arm64`);
        words(scratch.load(a.X8, BigInt(number)));
        items.push({ kind: "word", word: a.SVC0, final: NO_RETURN_SYSCALLS.has(insn.name) });
        break;
      }
    }
  }
  return items;
}

/** Assembles a whole program: lowers every function and resolves branches, calls and addresses. */
export function assembleA64(program: Program, syscalls: Record<string, number>): AssembledText {
  const ordered = [...program.funcs].sort((p, q) =>
    p.name === program.entry ? -1 : q.name === program.entry ? 1 : 0,
  );
  const facts = analyzeLiveness(program);
  const lowered = ordered.flatMap((f) =>
    lowerFunction(f, f.name === program.entry, syscalls, {
      callee: facts.entry,
      returned: facts.returned(f.name),
      alwaysLive: facts.alwaysLive,
    }),
  );
  const items = threadJumps(mergeTails(lowered), new Set(program.funcs.map((f) => f.name)));
  const dataNames = new Set(program.data.map((d) => d.name));
  const symbols = new Map<string, number>();
  const resolve = (name: string, from: number): number => {
    const target = symbols.get(name);
    if (target === undefined) throw new Error(`a64: reference to undefined symbol "${name}"`);
    return target - from;
  };
  // Lay out until no tbz is out of reach; a far one becomes the opposite test over a b, so sizes only grow.
  let offsets: number[] = [];
  for (let settled = false; !settled; ) {
    let at = 0;
    offsets = items.map((item) => {
      const here = at;
      if (item.kind === "label") symbols.set(item.name, at);
      else at += item.kind === "tbz" && item.far ? 8 : 4;
      return here;
    });
    settled = true;
    items.forEach((item, i) => {
      if (item.kind !== "tbz" || item.far) return;
      const distance = resolve(item.target, offsets[i]!);
      if (distance < -(1 << 15) || distance >= 1 << 15) {
        item.far = true;
        settled = false;
      }
    });
  }
  const code: number[] = [];
  const relocations: Relocation[] = [];
  items.forEach((item, i) => {
    const here = offsets[i]!;
    switch (item.kind) {
      case "label":
        return;
      case "word":
        code.push(item.word);
        return;
      case "branch":
        code.push(
          item.cond === null
            ? a.b(resolve(item.target, here))
            : a.bCond(item.cond, resolve(item.target, here)),
        );
        return;
      case "cbz":
        code.push(a.cbz(item.nonZero, item.reg, resolve(item.target, here)));
        return;
      case "tbz":
        if (item.far)
          code.push(a.tbz(!item.nonZero, item.reg, item.bit, 8), a.b(resolve(item.target, here + 4)));
        else code.push(a.tbz(item.nonZero, item.reg, item.bit, resolve(item.target, here)));
        return;
      case "call":
        code.push(a.bl(resolve(item.target, here)));
        return;
      case "adr":
        if (dataNames.has(item.symbol)) {
          relocations.push({ offset: here, kind: "adr", symbol: item.symbol, addend: item.offset });
          code.push(a.adr(item.dst, 0));
        } else code.push(a.adr(item.dst, resolve(item.symbol, here) + item.offset));
        return;
    }
  });
  const bytes = new Uint8Array(code.length * 4);
  const view = new DataView(bytes.buffer);
  code.forEach((w, i) => {
    view.setUint32(i * 4, w, true);
  });
  const functions = new Map<string, number>();
  for (const [name, offset] of symbols) if (!name.includes("%")) functions.set(name, offset);
  return { code: bytes, symbols: functions, relocations };
}

/** Patches an adr relocation with the distance from the instruction to the symbol. */
export function relocateA64(code: Uint8Array, relocation: Relocation, place: bigint, value: bigint): void {
  if (relocation.kind !== "adr") throw new Error(`a64: unknown relocation kind ${relocation.kind}`);
  const view = new DataView(code.buffer, code.byteOffset);
  const rd = view.getUint32(relocation.offset, true) & 31;
  view.setUint32(relocation.offset, a.adr(rd, Number(value - place)), true);
}
