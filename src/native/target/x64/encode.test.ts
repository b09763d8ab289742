// Every x86-64 form the encoder emits, swept over all registers and the edges of every immediate and
// displacement, against what GNU as assembles from the same text.

import assert from "node:assert/strict";
import { test } from "node:test";
import { assembleWithBinutils } from "../../../../test/support/binutils.ts";
import { requireCommands } from "../../../../test/support/tools.ts";
import * as encoders from "./encode.ts";

/** The encoders, noting which ones the sweep calls, so a new form cannot escape the comparison. */
const called = new Set<string>();
const x = new Proxy(encoders, {
  get(target, name: string) {
    const value = target[name as keyof typeof target];
    if (typeof value === "function") called.add(name);
    return value;
  },
});

type Case = { asm: string; bytes: number[] };

const R = x.REG_NAMES;
const ALL = [...Array(16).keys()];
const GPR = ALL.filter((r) => r !== x.RSP);
const R32 = [
  "eax",
  "ecx",
  "edx",
  "ebx",
  "esp",
  "ebp",
  "esi",
  "edi",
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}d`),
];
const R16 = [
  "ax",
  "cx",
  "dx",
  "bx",
  "sp",
  "bp",
  "si",
  "di",
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}w`),
];
const R8 = [
  "al",
  "cl",
  "dl",
  "bl",
  "spl",
  "bpl",
  "sil",
  "dil",
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}b`),
];
const IMM8 = [0n, 1n, -1n, 127n, -128n];
const IMM32 = [128n, -129n, 0x7fffffffn, -0x80000000n, 1000n];
/** Masks for the 32-bit forms: imm8 edges, then values only an unsigned imm32 holds. */
const UIMM32 = [0n, 1n, 127n, 128n, 0xffn, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffff80n, 0xffffffffn];
const DISPS = [0, 1, -1, 127, -128, 128, -129, 0x7fffffff, -0x80000000];
const SIZE_PTR = { 1: "byte", 2: "word", 4: "dword", 8: "qword" } as const;

function memText(m: encoders.X64Mem): string {
  let s = R[m.base];
  if (m.index !== undefined) s += `+${R[m.index]}*${m.scale ?? 1}`;
  if (m.disp !== 0) s += m.disp > 0 ? `+${m.disp}` : `${m.disp}`;
  return `[${s}]`;
}

function memories(): encoders.X64Mem[] {
  const out: encoders.X64Mem[] = [];
  for (const base of ALL) for (const disp of DISPS) out.push({ base, disp });
  for (const base of ALL)
    for (const index of GPR)
      for (const scale of [1, 2, 4, 8] as const)
        out.push({ base, index, scale, disp: base === index ? 8 : 0 });
  return out;
}

function cases(): Case[] {
  const c: Case[] = [];
  for (const d of ALL) {
    for (const s of ALL) {
      c.push({ asm: `mov ${R[d]}, ${R[s]}`, bytes: x.movRegReg(d, s) });
      c.push({ asm: `test ${R[d]}, ${R[s]}`, bytes: x.testRegReg(d, s) });
      c.push({ asm: `imul ${R[d]}, ${R[s]}`, bytes: x.imulRegReg(d, s) });
      c.push({ asm: `imul ${R32[d]}, ${R32[s]}`, bytes: x.imulReg32Reg(d, s) });
      c.push({ asm: `mov ${R32[d]}, ${R32[s]}`, bytes: x.movReg32Reg32(d, s) });
      c.push({ asm: `test ${R32[d]}, ${R32[s]}`, bytes: x.testReg32(d, s) });
      for (const op of Object.keys(x.ALU) as encoders.AluOp[])
        c.push({ asm: `${op} ${R32[d]}, ${R32[s]}`, bytes: x.aluReg32Reg(op, d, s) });
      c.push({ asm: `movzx ${R32[d]}, ${R8[s]}`, bytes: x.movzxReg8(d, s) });
      c.push({ asm: `movzx ${R32[d]}, ${R16[s]}`, bytes: x.movzxReg16(d, s) });
      for (const op of Object.keys(x.ALU) as encoders.AluOp[])
        c.push({ asm: `${op} ${R[d]}, ${R[s]}`, bytes: x.aluRegReg(op, d, s) });
      for (const v of [...IMM8, ...IMM32]) {
        c.push({ asm: `imul ${R[d]}, ${R[s]}, ${v}`, bytes: x.imulRegRegImm(d, s, v) });
        c.push({ asm: `imul ${R32[d]}, ${R32[s]}, ${v}`, bytes: x.imulReg32RegImm(d, s, v) });
      }
    }
    for (const v of [0n, 1n, 0xffffffffn, 0x80000000n])
      c.push({ asm: `mov ${R32[d]}, ${v}`, bytes: x.movReg32Imm(d, v) });
    for (const v of [-1n, -0x80000000n, 5n]) c.push({ asm: `mov ${R[d]}, ${v}`, bytes: x.movRegImm32(d, v) });
    for (const v of [0x100000000n, -0x80000001n, 0x123456789abcdef0n])
      c.push({ asm: `movabs ${R[d]}, ${v}`, bytes: x.movRegImm64(d, v) });
    c.push({ asm: `xor ${R32[d]}, ${R32[d]}`, bytes: x.zeroReg(d) });
    if (d !== x.RAX) c.push({ asm: `xchg rax, ${R[d]}`, bytes: x.xchgRax(d) });
    if (d !== x.RAX) c.push({ asm: `xchg eax, ${R32[d]}`, bytes: x.xchgEax(d) });
    for (const op of ["inc", "dec"] as const) {
      c.push({ asm: `${op} ${R[d]}`, bytes: x.incDecReg(op, d) });
      c.push({ asm: `${op} ${R32[d]}`, bytes: x.incDecReg32(op, d) });
    }
    for (const op of Object.keys(x.ALU) as encoders.AluOp[])
      for (const v of [...UIMM32, -1n, -128n, -129n])
        c.push({ asm: `${op} ${R32[d]}, ${v}`, bytes: x.aluReg32Imm(op, d, v) });
    for (const v of [0n, 1n, 0x80n, 0xffn])
      c.push({ asm: `test ${R8[d]}, ${v}`, bytes: x.testReg8Imm(d, v) });
    c.push({ asm: `push ${R[d]}`, bytes: x.pushReg(d) });
    c.push({ asm: `pop ${R[d]}`, bytes: x.popReg(d) });
    c.push({ asm: `jmp ${R[d]}`, bytes: x.jmpReg(d) });
    for (const op of Object.keys(x.ALU) as encoders.AluOp[])
      for (const v of [...IMM8, ...IMM32])
        c.push({ asm: `${op} ${R[d]}, ${v}`, bytes: x.aluRegImm(op, d, v) });
    for (const op of Object.keys(x.SHIFT) as encoders.ShiftOp[]) {
      for (const n of [0, 1, 2, 31, 63])
        c.push({ asm: `${op} ${R[d]}, ${n}`, bytes: x.shiftRegImm(op, d, n) });
      for (const n of [0, 1, 2, 31])
        c.push({ asm: `${op} ${R32[d]}, ${n}`, bytes: x.shiftReg32Imm(op, d, n) });
      c.push({ asm: `${op} ${R[d]}, cl`, bytes: x.shiftRegCl(op, d) });
    }
    for (const op of ["not", "neg", "div"] as const) {
      c.push({ asm: `${op} ${R[d]}`, bytes: x.unaryReg(op, d) });
      c.push({ asm: `${op} ${R32[d]}`, bytes: x.unaryReg32(op, d) });
    }
    for (const disp of [0, 16, -16, 0x12345678])
      c.push({ asm: `lea ${R[d]}, [rip+${disp}]`, bytes: x.leaRipRel(d, disp) });
  }
  for (const v of IMM8) c.push({ asm: `push ${v}`, bytes: x.pushImm8(v) });
  for (const r of [0, 1, 2, 3])
    for (const v of [0n, 128n, 255n]) c.push({ asm: `mov ${R8[r]}, ${v}`, bytes: x.movLowByteImm(r, v) });
  for (const v of IMM32) c.push({ asm: `push ${v}`, bytes: x.pushImm32(v) });
  for (const m of memories()) {
    const mt = memText(m);
    for (const r of [0, 3, 6, 7, 8, 12, 13, 15]) {
      c.push({ asm: `movzx ${R32[r]}, byte ptr ${mt}`, bytes: x.load(1, r, m) });
      c.push({ asm: `movzx ${R32[r]}, word ptr ${mt}`, bytes: x.load(2, r, m) });
      c.push({ asm: `mov ${R32[r]}, dword ptr ${mt}`, bytes: x.load(4, r, m) });
      c.push({ asm: `mov ${R[r]}, qword ptr ${mt}`, bytes: x.load(8, r, m) });
      c.push({ asm: `mov byte ptr ${mt}, ${R8[r]}`, bytes: x.storeReg(1, r, m) });
      c.push({ asm: `mov word ptr ${mt}, ${R16[r]}`, bytes: x.storeReg(2, r, m) });
      c.push({ asm: `mov dword ptr ${mt}, ${R32[r]}`, bytes: x.storeReg(4, r, m) });
      c.push({ asm: `mov qword ptr ${mt}, ${R[r]}`, bytes: x.storeReg(8, r, m) });
      c.push({ asm: `lea ${R[r]}, ${mt}`, bytes: x.leaRegMem(r, m) });
      c.push({ asm: `lea ${R32[r]}, ${mt}`, bytes: x.leaReg32Mem(r, m) });
    }
    for (const size of [1, 2, 4, 8] as const)
      for (const v of size === 1 ? [0n, 255n] : size === 2 ? [0n, 0xffffn] : [0n, -1n, 0x7fffffffn])
        c.push({ asm: `mov ${SIZE_PTR[size]} ptr ${mt}, ${v}`, bytes: x.storeImm(size, v, m) });
    for (const v of [1n, 0xffn]) c.push({ asm: `test byte ptr ${mt}, ${v}`, bytes: x.testMem8Imm(m, v) });
    for (const op of Object.keys(x.ALU) as encoders.AluOp[]) {
      for (const r of [0, 7, 8, 15]) {
        c.push({ asm: `${op} ${R[r]}, qword ptr ${mt}`, bytes: x.aluRegMem(op, r, m) });
        c.push({ asm: `${op} qword ptr ${mt}, ${R[r]}`, bytes: x.aluMemReg(op, 8, m, r) });
        c.push({ asm: `${op} dword ptr ${mt}, ${R32[r]}`, bytes: x.aluMemReg(op, 4, m, r) });
        c.push({ asm: `${op} byte ptr ${mt}, ${R8[r]}`, bytes: x.aluMemReg(op, 1, m, r) });
      }
      for (const v of [1n, -1n, 127n, -128n, 128n, 0x7fffffffn])
        c.push({ asm: `${op} qword ptr ${mt}, ${v}`, bytes: x.aluMemImm(op, 8, m, v) });
      for (const v of [1n, 127n, 128n, 0xffffffffn, -129n])
        c.push({ asm: `${op} dword ptr ${mt}, ${v}`, bytes: x.aluMemImm(op, 4, m, v) });
      for (const v of [1n, 0xffn])
        c.push({ asm: `${op} byte ptr ${mt}, ${v}`, bytes: x.aluMemImm(op, 1, m, v) });
    }
    for (const op of ["inc", "dec"] as const)
      for (const size of [1, 4, 8] as const)
        c.push({ asm: `${op} ${SIZE_PTR[size]} ptr ${mt}`, bytes: x.incDecMem(op, size, m) });
    for (const r of [0, 6, 7, 8, 15]) {
      c.push({ asm: `cmp byte ptr ${mt}, ${R8[r]}`, bytes: x.cmpMemReg(1, m, r) });
      c.push({ asm: `cmp word ptr ${mt}, ${R16[r]}`, bytes: x.cmpMemReg(2, m, r) });
      c.push({ asm: `cmp dword ptr ${mt}, ${R32[r]}`, bytes: x.cmpMemReg(4, m, r) });
      c.push({ asm: `cmp qword ptr ${mt}, ${R[r]}`, bytes: x.cmpMemReg(8, m, r) });
    }
    for (const [size, values] of [
      [1, [0n, 1n, 127n, 128n, 255n]],
      [2, [0n, 127n, 128n, 0xff80n, 0xffffn, -1n]],
      [4, [0n, 127n, 128n, 0xffffff80n, 0xffffffffn, -129n]],
      [8, [0n, -1n, 127n, -128n, 128n, 0x7fffffffn, -0x80000000n]],
    ] as const)
      for (const v of values)
        c.push({ asm: `cmp ${SIZE_PTR[size]} ptr ${mt}, ${v}`, bytes: x.cmpMemImm(size, m, v) });
  }
  for (const [name, cc] of Object.entries({
    je: 4,
    jne: 5,
    jl: 12,
    jle: 14,
    jg: 15,
    jge: 13,
    jb: 2,
    jbe: 6,
    ja: 7,
    jae: 3,
  })) {
    for (const rel of [0, 1, -2, 127, -128])
      c.push({ asm: `${name} .+${rel + 2}`, bytes: x.jccShort(cc, rel) });
    for (const rel of [128, -140, 100000, -100000])
      c.push({ asm: `${name} .+${rel + 6}`, bytes: x.jccNear(cc, rel) });
  }
  for (const rel of [0, 127, -128]) c.push({ asm: `jmp .+${rel + 2}`, bytes: x.jmpShort(rel) });
  for (const rel of [128, -140, 1 << 20]) c.push({ asm: `jmp .+${rel + 5}`, bytes: x.jmpNear(rel) });
  for (const rel of [0, -5, 1 << 20]) c.push({ asm: `call .+${rel + 5}`, bytes: x.callNear(rel) });
  c.push({ asm: "ret", bytes: x.RET });
  c.push({ asm: "syscall", bytes: x.SYSCALL });
  return c;
}

test("x64 encoders match GNU as for every form, register and edge value", (t) => {
  if (!requireCommands(t, ["as", "objcopy"], "apt-get install binutils")) return;
  const all = cases();
  const expected = assembleWithBinutils(
    "x64",
    all.map((c) => c.asm),
    ".intel_syntax noprefix",
  );
  let at = 0;
  for (const c of all) {
    const got = Buffer.from(c.bytes).toString("hex");
    const want = expected.subarray(at, at + c.bytes.length).toString("hex");
    assert.equal(got, want, `"${c.asm}": speck ${got}, as ${want}`);
    at += c.bytes.length;
  }
  assert.equal(at, expected.length, "as emitted more bytes than speck in total");
  t.diagnostic(`${all.length} instructions checked`);
  const unchecked = Object.entries(encoders)
    .filter(([name, value]) => typeof value === "function" && !/^is/.test(name) && !called.has(name))
    .map(([name]) => name);
  assert.deepEqual(unchecked, [], "encoders the sweep never compares with as");
});

test("x64 encoders refuse values that do not fit their form", () => {
  assert.throws(() => x.movReg32Imm(0, -1n), /does not fit/);
  assert.throws(() => x.aluRegImm("add", 0, 1n << 31n), /does not fit/);
  assert.throws(() => x.aluReg32Imm("and", 0, 1n << 32n), /does not fit/);
  assert.throws(() => x.pushImm32(1n << 31n), /does not fit/);
  assert.throws(() => x.xchgRax(x.RAX), /nop/);
  assert.throws(() => x.xchgEax(x.RAX), /nop/);
  assert.throws(() => x.movLowByteImm(6, 1n), /only encoded/);
  assert.throws(() => x.aluMemImm("add", 8, { base: 0, disp: 0 }, 1n << 31n), /does not fit/);
  assert.throws(() => x.aluMemImm("or", 1, { base: 0, disp: 0 }, 256n), /does not fit/);
  assert.throws(() => x.testReg8Imm(0, 256n), /does not fit/);
  assert.throws(() => x.testMem8Imm({ base: 0, disp: 0 }, -1n), /does not fit/);
  assert.throws(() => x.movLowByteImm(0, 256n), /does not fit/);
  assert.throws(() => x.shiftReg32Imm("shl", 0, 32), /outside/);
  assert.throws(() => x.cmpMemImm(1, { base: 0, disp: 0 }, 256n), /does not fit/);
  assert.throws(() => x.cmpMemImm(8, { base: 0, disp: 0 }, 1n << 31n), /does not fit/);
  assert.throws(() => x.shiftRegImm("shl", 0, 64), /outside/);
  assert.throws(() => x.jccShort(4, 128), /rel8/);
  assert.throws(() => x.load(8, 0, { base: 0, index: x.RSP, disp: 0 }), /index/);
  assert.throws(() => x.load(8, 0, { base: 0, disp: 2 ** 31 }), /32 bits/);
});
