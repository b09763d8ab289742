// Neighbouring IR instructions that arm64 does in fewer instructions together than apart: a bit
// test and its branch (tbz), branches in a row (ccmp chains), a multiply and the add or subtract
// of its product (madd/msub), a quotient and remainder of the same division (one udiv), a move
// made conditional by a branch over another (csel), and two loads or stores side by side in
// memory (ldp/stp).

import type { Insn, Reg, Src } from "../../ir/types.ts";
import * as a from "./encode.ts";
import {
  type BranchShape,
  branchCost,
  compare,
  conditionalCompare,
  lowerBranch,
  movImm,
  operand,
  phys,
  type Scratch,
  singleBit,
} from "./lower.ts";

type Br = Extract<Insn, { op: "br" }>;
type LiveAfter = (i: number, r: Reg) => boolean;

/** True when only labels lie between instruction `i` and label `target`: a jump there is a no-op. */
export function fallsThroughTo(body: readonly Insn[], i: number, target: string): boolean {
  for (let j = i + 1; j < body.length; j++) {
    const insn = body[j]!;
    if (insn.op !== "label") return false;
    if (insn.name === target) return true;
  }
  return false;
}

/** The same test with the opposite outcome. */
export function invert(shape: BranchShape): BranchShape {
  switch (shape.kind) {
    case "cmp":
      return { ...shape, cond: shape.cond ^ 1 };
    case "cbz":
    case "tbz":
      return { ...shape, nonZero: !shape.nonZero };
    case "always":
      return { kind: "never" };
    case "never":
      return { kind: "always" };
  }
}

/** The test of `and d, a, bit; br eq|ne d, 0` as one tbz/tbnz when nothing reads d afterwards. */
export function bitTest(body: readonly Insn[], i: number, liveAfter: LiveAfter): BranchShape | null {
  const insn = body[i]!;
  const next = body[i + 1];
  if (insn.op !== "bin" || insn.kind !== "and" || typeof insn.b !== "bigint") return null;
  if (next?.op !== "br" || next.a !== insn.dst || next.b !== 0n || (next.cond !== "eq" && next.cond !== "ne"))
    return null;
  const bit = singleBit(insn.b);
  if (bit === null || liveAfter(i + 1, insn.dst)) return null;
  return { kind: "tbz", nonZero: next.cond === "ne", reg: phys(insn.a), bit };
}

/**
 * Two or more branches in a row as one compare, conditional compares and one b.cond: all to one
 * label (taken when any test holds), or `br c1, X; br c2, T; X:` (taken when c1 fails and c2
 * holds). Null when that is not shorter than a branch each; `last` is the final branch's index.
 */
export function branchChain(
  body: readonly Insn[],
  i: number,
  scratch: Scratch,
): { shape: BranchShape; target: string; last: number } | null {
  const first = body[i] as Br;
  const separately = (n: number) => {
    const trial = scratch.clone();
    let words = 0;
    for (let k = i; k < i + n; k++) {
      const br = body[k] as Br;
      words += branchCost(lowerBranch(br.cond, br.a, br.b, trial));
    }
    return words;
  };
  const firstCompare = compare(first.a, first.b, scratch.clone()).length;
  const links: number[] = [];
  for (let k = i + 1; ; k++) {
    const br = body[k];
    const before = body[k - 1] as Br;
    if (br?.op !== "br" || br.target !== first.target) break;
    const link = conditionalCompare(br.a, br.b, a.COND[before.cond] ^ 1, a.COND[br.cond], true);
    if (link === null) break;
    links.push(link);
  }
  if (links.length > 0 && firstCompare + links.length + 1 < separately(links.length + 1)) {
    const last = body[i + links.length] as Br;
    const words = [...compare(first.a, first.b, scratch), ...links];
    return {
      shape: { kind: "cmp", words, cond: a.COND[last.cond] },
      target: first.target,
      last: i + links.length,
    };
  }
  const second = body[i + 1];
  if (second?.op !== "br" || !fallsThroughTo(body, i + 1, first.target)) return null;
  const link = conditionalCompare(second.a, second.b, a.COND[first.cond] ^ 1, a.COND[second.cond], false);
  if (link === null || firstCompare + 2 >= separately(2)) return null;
  const words = [...compare(first.a, first.b, scratch), link];
  return { shape: { kind: "cmp", words, cond: a.COND[second.cond] }, target: second.target, last: i + 1 };
}

/** log2 of `v` when it is 2, 4, 8, ..., else null. */
function shiftOf(v: Src): number | null {
  if (typeof v !== "bigint") return null;
  const k = singleBit(v);
  return k !== null && k > 0 ? k : null;
}

/**
 * `mul d, x, y` then `add e, d, r`, `add e, r, d` or `sub e, r, d` (r another register) as one
 * madd/msub, or one add/sub with x shifted when y is a power of two; d must be e or dead after.
 */
export function multiplyAdd(
  body: readonly Insn[],
  i: number,
  liveAfter: LiveAfter,
  scratch: Scratch,
): number[] | null {
  const mul = body[i]!;
  const next = body[i + 1];
  if (mul.op !== "bin" || mul.kind !== "mul" || next?.op !== "bin") return null;
  const d = mul.dst;
  let addend: Src;
  if (next.kind === "add" && next.a === d) addend = next.b;
  else if (next.kind === "add" && next.b === d) addend = next.a;
  else if (next.kind === "sub" && next.b === d) addend = next.a;
  else return null;
  if (typeof addend === "bigint" || addend === d) return null;
  if (next.dst !== d && liveAfter(i + 1, d)) return null;
  const op = next.kind;
  const [e, x, r] = [phys(next.dst), phys(mul.a), phys(addend)];
  const shift = shiftOf(mul.b);
  if (shift !== null) return [a.aluReg(op, e, r, x, shift)];
  if (typeof mul.b === "bigint" && (BigInt.asUintN(64, mul.b) <= 1n || shiftOf(mul.b - 1n) !== null))
    return null;
  const out: number[] = [];
  const y = operand(mul.b, scratch, out);
  out.push(a.mulAdd(op === "add" ? "madd" : "msub", e, x, y, r));
  return out;
}

/** A register or xzr holding `v` without any instruction, else null. */
function free(v: Src): number | null {
  if (typeof v !== "bigint") return phys(v);
  return BigInt.asUintN(64, v) === 0n ? a.XZR : null;
}

/**
 * `mov d, X; br c, p, q, L; mov d, Y; L:` as a compare and one csel, csinc or csinv
 * (d = c ? X : Y), when shorter. The compare may read d only when X is a register.
 */
export function select(
  body: readonly Insn[],
  i: number,
  scratch: Scratch,
): { words: number[]; last: number } | null {
  const [first, br, second, label] = body.slice(i, i + 4);
  if (first?.op !== "mov" || br?.op !== "br" || second?.op !== "mov" || second.dst !== first.dst) return null;
  if (label?.op !== "label" || label.name !== br.target || second.src === first.dst) return null;
  const d = first.dst;
  const reads = br.a === d || br.b === d;
  if (reads && typeof first.src === "bigint") return null;
  const p = br.a === d ? (first.src as Reg) : br.a;
  const q = br.b === d ? (first.src as Reg) : br.b;
  const picked = selection(phys(d), first.src, second.src, a.COND[br.cond], !reads);
  if (picked === null) return null;
  const before =
    movCost(d, first.src) +
    branchCost(lowerBranch(br.cond, br.a, br.b, scratch.clone())) +
    movCost(d, second.src);
  const after = picked.before.length + compare(p, q, scratch.clone()).length + 1;
  if (after >= before) return null;
  return { words: [...picked.before, ...compare(p, q, scratch), picked.select], last: i + 2 };
}

/**
 * The csel-family instruction giving rd = cond ? x : y, after `before` (which may set rd, so
 * only when `mayWriteFirst`: the compare does not read it). Null for pairs it cannot do in one.
 */
function selection(
  rd: number,
  x: Src,
  y: Src,
  cond: number,
  mayWriteFirst: boolean,
): { before: number[]; select: number } | null {
  const [fx, fy] = [free(x), free(y)];
  if (fx !== null && fy !== null) return { before: [], select: a.condSelect("csel", rd, fx, fy, cond) };
  if (typeof x !== "bigint" || typeof y !== "bigint") return null;
  const [vx, vy] = [BigInt.asUintN(64, x), BigInt.asUintN(64, y)];
  const ones = (1n << 64n) - 1n;
  const z = a.XZR;
  if (vx === 1n && vy === 0n) return { before: [], select: a.condSelect("csinc", rd, z, z, cond ^ 1) };
  if (vx === 0n && vy === 1n) return { before: [], select: a.condSelect("csinc", rd, z, z, cond) };
  if (vx === ones && vy === 0n) return { before: [], select: a.condSelect("csinv", rd, z, z, cond ^ 1) };
  if (vx === 0n && vy === ones) return { before: [], select: a.condSelect("csinv", rd, z, z, cond) };
  if (!mayWriteFirst) return null;
  if (BigInt.asUintN(64, vx + 1n) === vy)
    return { before: movImm(rd, vx), select: a.condSelect("csinc", rd, rd, rd, cond) };
  if (BigInt.asUintN(64, vy + 1n) === vx)
    return { before: movImm(rd, vy), select: a.condSelect("csinc", rd, rd, rd, cond ^ 1) };
  return null;
}

function movCost(d: Reg, v: Src): number {
  if (typeof v !== "bigint") return v === d ? 0 : 1;
  return movImm(0, v).length;
}

/**
 * Two loads or two stores of 4 or 8 bytes at neighbouring offsets from one base as one ldp/stp.
 * Loads must not overwrite the base or each other; stored constants other than 0 do not pair.
 */
export function pairedAccess(body: readonly Insn[], i: number, localsAt: number): number[] | null {
  const [first, second] = body.slice(i, i + 2);
  if (!first || !second || (first.op !== "load" && first.op !== "store") || second.op !== first.op)
    return null;
  const size = first.size;
  if ((size !== 4 && size !== 8) || second.size !== size) return null;
  const [m1, m2] = [first.mem, second.mem];
  if (m1.index || m2.index || m1.base !== m2.base || Math.abs(m1.offset - m2.offset) !== size) return null;
  const low = m1.offset < m2.offset ? first : second;
  const high = low === first ? second : first;
  const offset = Math.min(m1.offset, m2.offset) + (m1.base === "sp" ? localsAt : 0);
  if (offset % size !== 0 || offset / size < -64 || offset / size > 63) return null;
  const base = phys(m1.base);
  if (low.op === "load" && high.op === "load") {
    if (first.op === "load" && (first.dst === m1.base || first.dst === (second as typeof first).dst))
      return null;
    return [a.pair(true, "offset", phys(low.dst), phys(high.dst), base, offset, size)];
  }
  if (low.op !== "store" || high.op !== "store") return null;
  const [r1, r2] = [free(low.src), free(high.src)];
  if (r1 === null || r2 === null) return null;
  return [a.pair(false, "offset", r1, r2, base, offset, size)];
}

/**
 * `udiv q, a, b` and `urem r, a, b` side by side (either order) as one udiv and one msub
 * (r = a - q * b); q must not be a or b, nor, when the remainder comes first, r either.
 */
export function divideWithRemainder(body: readonly Insn[], i: number, scratch: Scratch): number[] | null {
  const [first, second] = body.slice(i, i + 2);
  if (first?.op !== "bin" || second?.op !== "bin" || first.a !== second.a || first.b !== second.b)
    return null;
  const kinds = `${first.kind} ${second.kind}`;
  if (kinds !== "udiv urem" && kinds !== "urem udiv") return null;
  const [div, rem] = first.kind === "udiv" ? [first, second] : [second, first];
  const inputs = [first.a, first.b];
  if (inputs.includes(div.dst) || div.dst === rem.dst) return null;
  if (first === rem && inputs.includes(rem.dst)) return null;
  if (typeof first.b === "bigint" && singleBit(first.b) !== null) return null;
  const out: number[] = [];
  const b = operand(first.b, scratch, out);
  const [q, r, x] = [phys(div.dst), phys(rem.dst), phys(first.a)];
  out.push(a.dataProc2("udiv", q, x, b), a.mulAdd("msub", r, q, b, x));
  return out;
}
