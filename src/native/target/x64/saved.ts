// Which hardware register each function's own saved registers get. Only rbx and rbp need no REX
// prefix, r12 as a base needs a SIB byte and r13 (like rbp) a displacement, so it matters which IR
// register a function uses most in which role. A saved register a function writes before reading,
// that nothing it calls reads and no signal handler reads, is private to that function: renaming it
// to another such register (or one the function never names) means the same. This module finds,
// per function, the renaming that lowers to the fewest bytes by swapping pairs while that helps.

import type { Liveness, RegSet } from "../../ir/liveness.ts";
import { regBit } from "../../ir/liveness.ts";
import { renameRegs, savedNamed } from "../../ir/optimize.ts";
import { type Func, type Program, type Reg, SAVED_REGS, type SavedReg } from "../../ir/types.ts";
import { PHYSICAL } from "./abi.ts";
import type { WidthsView } from "./widths.ts";

/** A function's private saved registers, and those it could use instead (the private ones included). */
function candidates(func: Func, liveness: Liveness): { own: SavedReg[]; pool: SavedReg[] } {
  let named: RegSet = 0;
  let outside = liveness.entry(func.name);
  func.body.forEach((insn, i) => {
    named |= savedNamed(insn);
    if (insn.op === "call") outside |= liveness.entry(insn.fn);
    // A saved register live where the function never names it is someone else's (a handler's).
    outside |= liveness.after(func.name, i) & ~named;
  });
  const own = func.saves.filter((r) => !(outside & regBit(r)));
  const pool = SAVED_REGS.filter((r) => own.includes(r) || !((named | outside) & regBit(r)));
  return { own, pool };
}

/** The permutation of saved registers as a bit-mask map. */
function permuteSet(set: RegSet, to: ReadonlyMap<Reg, Reg>): RegSet {
  let out = set;
  for (const [from] of to) out &= ~regBit(from);
  for (const [from, dest] of to) if (set & regBit(from)) out |= regBit(dest);
  return out;
}

/** `func` under the renaming `to` (a permutation of saved registers), with its analyses to match. */
function renamed(
  func: Func,
  to: ReadonlyMap<Reg, Reg>,
  liveness: Liveness,
  widths: readonly WidthsView[],
): { func: Func; liveness: Liveness; widths: WidthsView[] } {
  const from = new Map<Reg, Reg>([...to].map(([a, b]) => [b, a]));
  return {
    func: {
      ...func,
      saves: SAVED_REGS.filter((r) => func.saves.some((s) => (to.get(s) ?? s) === r)),
      body: func.body.map((insn) => renameRegs(insn, to)),
    },
    liveness: {
      after: (name, i) => permuteSet(liveness.after(name, i), to),
      before: (name, i) => permuteSet(liveness.before(name, i), to),
      entry: (name) => (name === func.name ? permuteSet(liveness.entry(name), to) : liveness.entry(name)),
      returned: (name) => liveness.returned(name),
      alwaysLive: liveness.alwaysLive,
    },
    widths: widths.map((w) => ({ get: (r: Reg) => w.get(from.get(r) ?? r) })),
  };
}

/**
 * Renames every function's private saved registers to the assignment `size` finds smallest
 * (hill-climbing over swaps from the identity); returns the program with the functions replaced
 * and, per renamed function, its analyses permuted to match. The entry function is left alone.
 */
export function chooseSaved(
  program: Program,
  liveness: Liveness,
  widths: ReadonlyMap<string, WidthsView[]>,
  size: (func: Func, liveness: Liveness, widths: readonly WidthsView[]) => number,
): { program: Program; liveness: Map<string, Liveness>; widths: Map<string, WidthsView[]> } {
  const chosenLiveness = new Map<string, Liveness>();
  const chosenWidths = new Map<string, WidthsView[]>();
  const funcs = program.funcs.map((func) => {
    const known = widths.get(func.name)!;
    chosenLiveness.set(func.name, liveness);
    chosenWidths.set(func.name, known);
    if (func.name === program.entry) return func;
    const { own, pool } = candidates(func, liveness);
    if (own.length === 0 || pool.length < 2) return func;
    // assignment[i] is the register pool[i] becomes.
    let assignment = [...pool];
    const mapOf = (a: readonly SavedReg[]) => new Map<Reg, Reg>(pool.map((r, i) => [r, a[i]!]));
    let best = size(func, liveness, known);
    const trial0 = (k: number) => assignment[k]!;
    for (let improved = true; improved; ) {
      improved = false;
      for (let i = 0; i < pool.length; i++)
        for (let j = i + 1; j < pool.length; j++) {
          if (!own.includes(pool[i]!) && !own.includes(pool[j]!)) continue;
          // r14 and r15 encode alike in every role: swapping them cannot help.
          if (PHYSICAL[trial0(i)] >= 14 && PHYSICAL[trial0(j)] >= 14) continue;
          const trial = [...assignment];
          [trial[i], trial[j]] = [trial[j]!, trial[i]!];
          const r = renamed(func, mapOf(trial), liveness, known);
          const bytes = size(r.func, r.liveness, r.widths);
          if (bytes < best) {
            best = bytes;
            assignment = trial;
            improved = true;
          }
        }
    }
    const to = mapOf(assignment);
    if (pool.every((r, i) => assignment[i] === r)) return func;
    const r = renamed(func, to, liveness, known);
    chosenLiveness.set(func.name, r.liveness);
    chosenWidths.set(func.name, r.widths);
    return r.func;
  });
  return { program: { ...program, funcs }, liveness: chosenLiveness, widths: chosenWidths };
}
