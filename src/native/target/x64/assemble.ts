// Lowers IR functions to x86-64 machine code: the shortest sequence per instruction, prologues and
// epilogues, and branch relaxation (every branch starts short and grows to near until a fixpoint).

import type { Base, Func, Insn, Mem, Program, Reg, Src } from "../../ir/types.ts";
import type { AssembledText, Relocation } from "../types.ts";
import * as x from "./encode.ts";

/** Hardware register of every IR register (see docs/native.md). */
export const PHYSICAL: Record<Base, number> = {
  a0: 7,
  a1: 6,
  a2: 2,
  a3: 10,
  a4: 8,
  a5: 9,
  s0: 3,
  s1: 5,
  s2: 12,
  s3: 13,
  s4: 14,
  s5: 15,
  sp: x.RSP,
};

const RAX = x.RAX;
const RCX = x.RCX;
const RDX = x.RDX;

/** One piece of output: fixed bytes, a branch to relax, or a reference resolved after layout. */
type Item =
  | { kind: "bytes"; bytes: number[] }
  | { kind: "label"; name: string }
  | { kind: "branch"; cc: number | null; target: string; long: boolean }
  | { kind: "call"; target: string }
  | { kind: "lea"; dst: number; symbol: string; offset: number };

const phys = (r: Base): number => PHYSICAL[r];

function mem(m: Mem): x.X64Mem {
  const out: x.X64Mem = { base: phys(m.base), disp: m.offset };
  if (m.index) {
    out.index = phys(m.index);
    out.scale = m.scale ?? 1;
  }
  return out;
}

/** The shortest way to put a constant in a register. */
export function movImm(dst: number, value: bigint): number[] {
  const v = BigInt.asIntN(64, value);
  if (v === 0n) return x.zeroReg(dst);
  if (x.isInt8(v)) return [...x.pushImm8(v), ...x.popReg(dst)];
  if (x.isUint32(v)) return x.movReg32Imm(dst, v);
  if (x.isInt32(v)) return x.movRegImm32(dst, v);
  return x.movRegImm64(dst, BigInt.asUintN(64, v));
}

function movReg(dst: number, src: number): number[] {
  return dst === src ? [] : x.movRegReg(dst, src);
}

const ALU_OPS = { add: "add", sub: "sub", and: "and", or: "or", xor: "xor" } as const;
const COMMUTATIVE = new Set(["add", "mul", "and", "or", "xor"]);

/** `dst = a op b` on a two-address machine. */
function lowerBinary(insn: Extract<Insn, { op: "bin" }>): number[] {
  const dst = phys(insn.dst);
  const a = phys(insn.a);
  const b = insn.b;
  const imm = typeof b === "bigint" ? BigInt.asIntN(64, b) : null;
  const breg = typeof b === "bigint" ? -1 : phys(b);
  const kind = insn.kind;

  if (kind === "shl" || kind === "shr" || kind === "sar") {
    if (imm !== null) {
      const count = Number(BigInt.asUintN(6, imm));
      return count === 0 ? movReg(dst, a) : [...movReg(dst, a), ...x.shiftRegImm(kind, dst, count)];
    }
    return [...x.movRegReg(RCX, breg), ...movReg(dst, a), ...x.shiftRegCl(kind, dst)];
  }
  if (kind === "udiv" || kind === "urem") {
    const keepRdx = dst !== RDX;
    const divisor = imm !== null || breg === RDX ? RCX : breg;
    return [
      ...(keepRdx ? x.pushReg(RDX) : []),
      ...(imm !== null ? movImm(RCX, imm) : breg === RDX ? x.movRegReg(RCX, RDX) : []),
      ...x.movRegReg(RAX, a),
      ...x.zeroReg(RDX),
      ...x.unaryReg("div", divisor),
      ...x.movRegReg(dst, kind === "udiv" ? RAX : RDX),
      ...(keepRdx ? x.popReg(RDX) : []),
    ];
  }
  if (kind === "mul") {
    if (imm !== null && x.isInt32(imm)) return x.imulRegRegImm(dst, a, imm);
    const src = imm !== null ? RAX : breg;
    const load = imm !== null ? movImm(RAX, imm) : [];
    if (dst === a) return [...load, ...x.imulRegReg(dst, src)];
    if (dst === src) return [...load, ...x.imulRegReg(dst, a)];
    return [...load, ...x.movRegReg(dst, a), ...x.imulRegReg(dst, src)];
  }
  const op = ALU_OPS[kind];
  if (imm !== null) {
    if (!x.isInt32(imm)) {
      const load = movImm(RAX, imm);
      return [...load, ...movReg(dst, a), ...x.aluRegReg(op, dst, RAX)];
    }
    if (op === "add" || op === "sub") {
      const delta = op === "add" ? imm : -imm;
      if (delta === 0n) return movReg(dst, a);
      // lea folds the move into the add when the destination differs.
      if (dst !== a && x.isInt32(delta)) return x.leaRegMem(dst, { base: a, disp: Number(delta) });
    }
    return [...movReg(dst, a), ...x.aluRegImm(op, dst, imm)];
  }
  if (dst === a) return x.aluRegReg(op, dst, breg);
  if (dst === breg) {
    if (COMMUTATIVE.has(kind)) return x.aluRegReg(op, dst, a);
    return [...x.movRegReg(RAX, a), ...x.aluRegReg(op, RAX, breg), ...x.movRegReg(dst, RAX)];
  }
  if (op === "add") return x.leaRegMem(dst, { base: a, index: breg, scale: 1, disp: 0 });
  return [...x.movRegReg(dst, a), ...x.aluRegReg(op, dst, breg)];
}

function lowerStore(insn: Extract<Insn, { op: "store" }>): number[] {
  const m = mem(insn.mem);
  if (typeof insn.src !== "bigint") return x.storeReg(insn.size, phys(insn.src), m);
  const bits = BigInt(insn.size * 8);
  const value = BigInt.asIntN(Number(bits), insn.src);
  if (insn.size < 8) return x.storeImm(insn.size, BigInt.asUintN(Number(bits), value), m);
  if (x.isInt32(value)) return x.storeImm(8, value, m);
  return [...movImm(RAX, value), ...x.storeReg(8, RAX, m)];
}

function lowerCompare(a: Reg, b: Src): number[] {
  const ra = phys(a);
  if (typeof b !== "bigint") return x.aluRegReg("cmp", ra, phys(b));
  const v = BigInt.asIntN(64, b);
  if (v === 0n) return x.testRegReg(ra, ra);
  if (x.isInt32(v)) return x.aluRegImm("cmp", ra, v);
  return [...movImm(RAX, v), ...x.aluRegReg("cmp", ra, RAX)];
}

/** True when `next` overwrites a0 without reading it, so a syscall result need not reach a0. */
function overwritesA0(next: Insn | undefined): boolean {
  if (!next) return false;
  const reads = (s: Src | undefined) => s === "a0";
  const readsMem = (m: Mem) => m.base === "a0" || m.index === "a0";
  switch (next.op) {
    case "mov":
      return next.dst === "a0" && !reads(next.src);
    case "bin":
      return next.dst === "a0" && next.a !== "a0" && !reads(next.b);
    case "un":
      return next.dst === "a0" && next.a !== "a0";
    case "load":
      return next.dst === "a0" && !readsMem(next.mem);
    case "addr":
      return next.dst === "a0";
    default:
      return false;
  }
}

interface Frame {
  pushes: number[];
  size: number;
}

function frameOf(func: Func, isEntry: boolean): Frame {
  return {
    pushes: isEntry ? [] : func.saves.map(phys),
    size: Math.ceil(func.frame / 8) * 8,
  };
}

function prologue(frame: Frame, passStackPointer: boolean): number[] {
  const out: number[] = passStackPointer ? x.movRegReg(PHYSICAL.a0, x.RSP) : [];
  for (const r of frame.pushes) out.push(...x.pushReg(r));
  if (frame.size > 0) out.push(...x.aluRegImm("sub", x.RSP, BigInt(frame.size)));
  return out;
}

function epilogue(frame: Frame): number[] {
  const out: number[] = [];
  if (frame.size > 0) out.push(...x.aluRegImm("add", x.RSP, BigInt(frame.size)));
  for (const r of [...frame.pushes].reverse()) out.push(...x.popReg(r));
  out.push(...x.RET);
  return out;
}

/** Lowers one function to items; labels are qualified as "func.label". */
export function lowerFunction(func: Func, isEntry: boolean, syscalls: Record<string, number>): Item[] {
  const items: Item[] = [{ kind: "label", name: func.name }];
  const bytes = (b: number[]) => {
    if (b.length > 0) items.push({ kind: "bytes", bytes: b });
  };
  const local = (name: string) => `${func.name}.${name}`;
  const frame = frameOf(func, isEntry);
  const exitSequence = epilogue(frame);
  const sharedExit = local("%ret");
  let exitPlaced = false;
  bytes(prologue(frame, isEntry && !overwritesA0(func.body[0])));

  func.body.forEach((insn, i) => {
    switch (insn.op) {
      case "mov":
        bytes(
          typeof insn.src === "bigint"
            ? movImm(phys(insn.dst), insn.src)
            : movReg(phys(insn.dst), phys(insn.src)),
        );
        return;
      case "bin":
        bytes(lowerBinary(insn));
        return;
      case "un":
        bytes([...movReg(phys(insn.dst), phys(insn.a)), ...x.unaryReg(insn.kind, phys(insn.dst))]);
        return;
      case "load":
        bytes(x.load(insn.size, phys(insn.dst), mem(insn.mem)));
        return;
      case "store":
        bytes(lowerStore(insn));
        return;
      case "addr":
        items.push({ kind: "lea", dst: phys(insn.dst), symbol: insn.symbol, offset: insn.offset });
        return;
      case "label":
        items.push({ kind: "label", name: local(insn.name) });
        return;
      case "jmp":
        items.push({ kind: "branch", cc: null, target: local(insn.target), long: false });
        return;
      case "br":
        bytes(lowerCompare(insn.a, insn.b));
        items.push({ kind: "branch", cc: x.CC[insn.cond], target: local(insn.target), long: false });
        return;
      case "call":
        items.push({ kind: "call", target: insn.fn });
        return;
      case "ret":
        if (exitSequence.length <= 2) bytes(exitSequence);
        else if (exitPlaced) items.push({ kind: "branch", cc: null, target: sharedExit, long: false });
        else {
          items.push({ kind: "label", name: sharedExit });
          bytes(exitSequence);
          exitPlaced = true;
        }
        return;
      case "syscall": {
        const number = syscalls[insn.name];
        if (number === undefined)
          throw new Error(`x64: fn ${func.name}: no syscall named "${insn.name}" on x86-64`);
        bytes([...movImm(RAX, BigInt(number)), ...x.SYSCALL]);
        const noReturn = insn.name === "exit" || insn.name === "exit_group" || insn.name === "rt_sigreturn";
        if (!noReturn && !overwritesA0(func.body[i + 1])) bytes(x.movRegReg(PHYSICAL.a0, RAX));
        return;
      }
    }
  });
  return items;
}

function itemSize(item: Item): number {
  switch (item.kind) {
    case "bytes":
      return item.bytes.length;
    case "label":
      return 0;
    case "branch":
      return item.long ? (item.cc === null ? 5 : 6) : 2;
    case "call":
      return 5;
    case "lea":
      return 7;
  }
}

/** Assembles a whole program: lowers every function, relaxes branches, resolves internal references. */
export function assembleX64(program: Program, syscalls: Record<string, number>): AssembledText {
  const ordered = [...program.funcs].sort((a, b) =>
    a.name === program.entry ? -1 : b.name === program.entry ? 1 : 0,
  );
  const items = ordered.flatMap((f) => lowerFunction(f, f.name === program.entry, syscalls));
  const dataNames = new Set(program.data.map((d) => d.name));

  let offsets: number[] = [];
  const symbols = new Map<string, number>();
  for (let changed = true; changed; ) {
    changed = false;
    offsets = [];
    symbols.clear();
    let at = 0;
    for (const item of items) {
      offsets.push(at);
      if (item.kind === "label") symbols.set(item.name, at);
      at += itemSize(item);
    }
    items.forEach((item, i) => {
      if (item.kind !== "branch" || item.long) return;
      const target = symbols.get(item.target);
      if (target === undefined) throw new Error(`x64: branch to undefined label "${item.target}"`);
      if (!x.isInt8(target - (offsets[i]! + 2))) {
        item.long = true;
        changed = true;
      }
    });
  }

  const code: number[] = [];
  const relocations: Relocation[] = [];
  items.forEach((item, i) => {
    const end = offsets[i]! + itemSize(item);
    const resolve = (name: string): number => {
      const at = symbols.get(name);
      if (at === undefined) throw new Error(`x64: reference to undefined symbol "${name}"`);
      return at;
    };
    switch (item.kind) {
      case "bytes":
        code.push(...item.bytes);
        return;
      case "label":
        return;
      case "branch": {
        const rel = resolve(item.target) - end;
        if (item.cc === null) code.push(...(item.long ? x.jmpNear(rel) : x.jmpShort(rel)));
        else code.push(...(item.long ? x.jccNear(item.cc, rel) : x.jccShort(item.cc, rel)));
        return;
      }
      case "call":
        code.push(...x.callNear(resolve(item.target) - end));
        return;
      case "lea":
        if (dataNames.has(item.symbol)) {
          relocations.push({ offset: end - 4, kind: "rel32", symbol: item.symbol, addend: item.offset });
          code.push(...x.leaRipRel(item.dst, 0));
        } else code.push(...x.leaRipRel(item.dst, resolve(item.symbol) + item.offset - end));
        return;
    }
  });
  const functions = new Map<string, number>();
  for (const [name, at] of symbols) if (!name.includes("%")) functions.set(name, at);
  return { code: Uint8Array.from(code), symbols: functions, relocations };
}

/** Patches a rel32 relocation: the displacement is relative to the end of its 4-byte field. */
export function relocateX64(code: Uint8Array, relocation: Relocation, place: bigint, value: bigint): void {
  if (relocation.kind !== "rel32") throw new Error(`x64: unknown relocation kind ${relocation.kind}`);
  const rel = value - (place + 4n);
  if (!x.isInt32(rel)) throw new Error(`x64: ${relocation.symbol} is out of rel32 range`);
  new DataView(code.buffer, code.byteOffset).setInt32(relocation.offset, Number(rel), true);
}
