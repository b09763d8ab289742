// Lowers IR functions to AArch64 machine code: the fewest instructions per IR instruction,
// prologues and epilogues that keep sp 16-byte aligned, and PC-relative branches and addresses.

import type { Base, Func, Insn, Mem, Program, Reg, Src } from "../../ir/types.ts";
import type { AssembledText, Relocation } from "../types.ts";
import * as a from "./encode.ts";

/** Hardware register of every IR register (see docs/native.md). */
export const PHYSICAL: Record<Base, number> = {
  a0: 0,
  a1: 1,
  a2: 2,
  a3: 3,
  a4: 4,
  a5: 5,
  s0: 19,
  s1: 20,
  s2: 21,
  s3: 22,
  s4: 23,
  s5: 24,
  sp: a.SP,
};

const T0 = a.X16;
const T1 = a.X17;
const phys = (r: Base): number => PHYSICAL[r];

/** One piece of output: a fixed instruction, or one whose PC-relative field is resolved after layout. */
type Item =
  | { kind: "word"; word: number }
  | { kind: "label"; name: string }
  | { kind: "branch"; cond: number | null; target: string }
  | { kind: "cbz"; nonZero: boolean; reg: number; target: string }
  | { kind: "call"; target: string }
  | { kind: "adr"; dst: number; symbol: string; offset: number };

/** The fewest movz/movn/movk (or one orr of a mask) that put `value` in `rd`. */
export function movImm(rd: number, value: bigint): number[] {
  const v = BigInt.asUintN(64, value);
  const halves = [0, 1, 2, 3].map((i) => Number((v >> BigInt(16 * i)) & 0xffffn));
  const zeros = halves.filter((h) => h === 0).length;
  const ones = halves.filter((h) => h === 0xffff).length;
  const useNot = ones > zeros;
  const skip = useNot ? 0xffff : 0;
  const out: number[] = [];
  halves.forEach((h, hw) => {
    if (h === skip) return;
    if (out.length === 0)
      out.push(useNot ? a.moveWide("movn", rd, ~h & 0xffff, hw) : a.moveWide("movz", rd, h, hw));
    else out.push(a.moveWide("movk", rd, h, hw));
  });
  if (out.length === 0) out.push(useNot ? a.moveWide("movn", rd, 0, 0) : a.moveWide("movz", rd, 0, 0));
  if (out.length > 1) {
    const mask = lowMask(v);
    if (mask !== null) return [a.logicalImm("orr", rd, a.XZR, mask, 0)];
  }
  return out;
}

/** Number of ones when `v` is 2^k - 1 with 0 < k < 64, else null. */
function lowMask(v: bigint): number | null {
  if (v === 0n || (v & (v + 1n)) !== 0n) return null;
  const k = v.toString(2).length;
  return k < 64 ? k : null;
}

function movReg(dst: number, src: number): number[] {
  if (dst === src) return [];
  if (src === a.SP || dst === a.SP) return [a.addSubImm("add", dst, src, 0)];
  return [a.movReg(dst, src)];
}

/** Register holding `src`: the register itself, or `scratch` loaded with the constant. */
function operand(src: Src, scratch: number, out: number[]): number {
  if (typeof src !== "bigint") return phys(src);
  if (BigInt.asUintN(64, src) === 0n) return a.XZR;
  out.push(...movImm(scratch, src));
  return scratch;
}

/** add/sub of a constant, as one or two immediate instructions when it fits. */
function addImm(dst: number, src: number, value: bigint): number[] | null {
  const v = BigInt.asIntN(64, value);
  const op = v < 0n ? "sub" : "add";
  const mag = v < 0n ? -v : v;
  if (mag === 0n) return movReg(dst, src);
  if (mag < 4096n) return [a.addSubImm(op, dst, src, Number(mag))];
  if (mag < 1n << 24n && (mag & 0xfffn) === 0n) return [a.addSubImm(op, dst, src, Number(mag >> 12n), true)];
  if (mag < 1n << 24n)
    return [
      a.addSubImm(op, dst, src, Number(mag >> 12n), true),
      a.addSubImm(op, dst, dst, Number(mag & 0xfffn)),
    ];
  return null;
}

function lowerBinary(insn: Extract<Insn, { op: "bin" }>): number[] {
  const dst = phys(insn.dst);
  const src = phys(insn.a);
  const { kind, b } = insn;
  const out: number[] = [];
  if (typeof b === "bigint") {
    const count = Number(BigInt.asUintN(6, b));
    if (kind === "shl") return [a.shiftImm("lsl", dst, src, count)];
    if (kind === "shr") return [a.shiftImm("lsr", dst, src, count)];
    if (kind === "sar") return [a.shiftImm("asr", dst, src, count)];
    if (kind === "add" || kind === "sub") {
      const folded = addImm(dst, src, kind === "add" ? b : -b);
      if (folded) return folded;
    }
    if (kind === "and" || kind === "or" || kind === "xor") {
      const mask = lowMask(BigInt.asUintN(64, b));
      if (mask !== null)
        return [a.logicalImm(kind === "and" ? "and" : kind === "or" ? "orr" : "eor", dst, src, mask, 0)];
    }
  }
  const rb = operand(b, T0, out);
  switch (kind) {
    case "add":
    case "sub":
      out.push(a.aluReg(kind, dst, src, rb));
      break;
    case "and":
      out.push(a.aluReg("and", dst, src, rb));
      break;
    case "or":
      out.push(a.aluReg("orr", dst, src, rb));
      break;
    case "xor":
      out.push(a.aluReg("eor", dst, src, rb));
      break;
    case "mul":
      out.push(a.mulAdd("madd", dst, src, rb, a.XZR));
      break;
    case "udiv":
      out.push(a.dataProc2("udiv", dst, src, rb));
      break;
    case "urem":
      out.push(a.dataProc2("udiv", T1, src, rb), a.mulAdd("msub", dst, T1, rb, src));
      break;
    case "shl":
      out.push(a.dataProc2("lslv", dst, src, rb));
      break;
    case "shr":
      out.push(a.dataProc2("lsrv", dst, src, rb));
      break;
    case "sar":
      out.push(a.dataProc2("asrv", dst, src, rb));
      break;
  }
  return out;
}

/** A load or store of register `rt` at `m`, in the smallest form the offset allows. */
function memoryAccess(load: boolean, size: a.Size, rt: number, m: Mem): number[] {
  let base = phys(m.base);
  const out: number[] = [];
  if (m.index) {
    if (m.offset !== 0) {
      const folded = addImm(T1, base, BigInt(m.offset));
      out.push(...(folded ?? [...movImm(T1, BigInt(m.offset)), a.aluReg("add", T1, T1, base)]));
      base = T1;
    }
    const scaled = (m.scale ?? 1) === size && size > 1;
    if ((m.scale ?? 1) !== 1 && !scaled)
      throw new Error(`a64: scale ${m.scale} must be 1 or the access size ${size}`);
    out.push(a.loadStoreRegOffset(load, size, rt, base, phys(m.index), scaled));
    return out;
  }
  const off = m.offset;
  if (off >= 0 && off % size === 0 && off / size < 4096)
    return [a.loadStoreScaled(load, size, rt, base, off)];
  if (off >= -256 && off < 256) return [a.loadStoreUnscaled(load, size, rt, base, off)];
  out.push(...movImm(T1, BigInt(off)), a.loadStoreRegOffset(load, size, rt, base, T1, false));
  return out;
}

function lowerCompare(ra: Reg, b: Src): number[] {
  const r = phys(ra);
  if (typeof b !== "bigint") return [a.aluReg("subs", a.XZR, r, phys(b))];
  const v = BigInt.asIntN(64, b);
  if (v >= 0n && v < 4096n) return [a.addSubImm("subs", a.XZR, r, Number(v))];
  if (v < 0n && v > -4096n) return [a.addSubImm("adds", a.XZR, r, Number(-v))];
  return [...movImm(T0, v), a.aluReg("subs", a.XZR, r, T0)];
}

function callsAnything(func: Func): boolean {
  return func.body.some((i) => i.op === "call");
}

interface Frame {
  size: number;
  saved: number[];
  savedAt: number;
}

function frameOf(func: Func, isEntry: boolean): Frame {
  const saved = isEntry ? [] : [...func.saves.map(phys), ...(callsAnything(func) ? [a.LR] : [])];
  const locals = Math.ceil(func.frame / 8) * 8;
  return { size: Math.ceil((locals + saved.length * 8) / 16) * 16, saved, savedAt: locals };
}

function saveOrRestore(frame: Frame, load: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < frame.saved.length; i += 2) {
    const at = frame.savedAt + i * 8;
    const second = frame.saved[i + 1];
    if (second !== undefined && at <= 504)
      out.push(a.pair(load, "offset", frame.saved[i]!, second, a.SP, at));
    else {
      out.push(a.loadStoreScaled(load, 8, frame.saved[i]!, a.SP, at));
      if (second !== undefined) out.push(a.loadStoreScaled(load, 8, second, a.SP, at + 8));
    }
  }
  return out;
}

function adjustSp(grow: boolean, size: number): number[] {
  if (size === 0) return [];
  const folded = addImm(a.SP, a.SP, BigInt(grow ? -size : size));
  if (!folded) throw new Error(`a64: frame of ${size} bytes is too large`);
  return folded;
}

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

/** Lowers one function to items; labels are qualified as "func.label". */
export function lowerFunction(func: Func, isEntry: boolean, syscalls: Record<string, number>): Item[] {
  const items: Item[] = [{ kind: "label", name: func.name }];
  const words = (ws: number[]) => {
    for (const w of ws) items.push({ kind: "word", word: w });
  };
  const local = (name: string) => `${func.name}.${name}`;
  const frame = frameOf(func, isEntry);
  const exitWords = [...saveOrRestore(frame, true), ...adjustSp(false, frame.size), a.RET];
  const sharedExit = local("%ret");
  let exitPlaced = false;
  if (isEntry && !overwritesA0(func.body[0])) words(movReg(PHYSICAL.a0, a.SP));
  words([...adjustSp(true, frame.size), ...saveOrRestore(frame, false)]);

  for (const insn of func.body) {
    switch (insn.op) {
      case "mov":
        words(
          typeof insn.src === "bigint"
            ? movImm(phys(insn.dst), insn.src)
            : movReg(phys(insn.dst), phys(insn.src)),
        );
        break;
      case "bin":
        words(lowerBinary(insn));
        break;
      case "un":
        words([a.aluReg(insn.kind === "neg" ? "sub" : "orn", phys(insn.dst), a.XZR, phys(insn.a))]);
        break;
      case "load":
        words(memoryAccess(true, insn.size, phys(insn.dst), insn.mem));
        break;
      case "store": {
        const out: number[] = [];
        const src = operand(insn.src, T0, out);
        words([...out, ...memoryAccess(false, insn.size, src, insn.mem)]);
        break;
      }
      case "addr":
        items.push({ kind: "adr", dst: phys(insn.dst), symbol: insn.symbol, offset: insn.offset });
        break;
      case "label":
        items.push({ kind: "label", name: local(insn.name) });
        break;
      case "jmp":
        items.push({ kind: "branch", cond: null, target: local(insn.target) });
        break;
      case "br":
        if (
          typeof insn.b === "bigint" &&
          BigInt.asUintN(64, insn.b) === 0n &&
          (insn.cond === "eq" || insn.cond === "ne")
        )
          items.push({
            kind: "cbz",
            nonZero: insn.cond === "ne",
            reg: phys(insn.a),
            target: local(insn.target),
          });
        else {
          words(lowerCompare(insn.a, insn.b));
          items.push({ kind: "branch", cond: a.COND[insn.cond], target: local(insn.target) });
        }
        break;
      case "call":
        items.push({ kind: "call", target: insn.fn });
        break;
      case "ret":
        if (exitWords.length <= 1) words(exitWords);
        else if (exitPlaced) items.push({ kind: "branch", cond: null, target: sharedExit });
        else {
          items.push({ kind: "label", name: sharedExit });
          words(exitWords);
          exitPlaced = true;
        }
        break;
      case "syscall": {
        const number = syscalls[insn.name];
        if (number === undefined)
          throw new Error(`a64: fn ${func.name}: no syscall named "${insn.name}" on arm64`);
        words([...movImm(a.X8, BigInt(number)), a.SVC0]);
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
  const items = ordered.flatMap((f) => lowerFunction(f, f.name === program.entry, syscalls));
  const dataNames = new Set(program.data.map((d) => d.name));
  const symbols = new Map<string, number>();
  let at = 0;
  const offsets = items.map((item) => {
    const here = at;
    if (item.kind === "label") symbols.set(item.name, at);
    else at += 4;
    return here;
  });
  const resolve = (name: string, from: number): number => {
    const target = symbols.get(name);
    if (target === undefined) throw new Error(`a64: reference to undefined symbol "${name}"`);
    return target - from;
  };
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
