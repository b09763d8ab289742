// Every AArch64 form the encoder emits, swept over registers (31 as sp or xzr) and the edges of every
// immediate and offset, against what aarch64-linux-gnu-as assembles from the same text.

import assert from "node:assert/strict";
import { test } from "node:test";
import { assembleWithBinutils } from "../../../../test/support/binutils.ts";
import { requireCommands } from "../../../../test/support/tools.ts";
import * as a from "./encode.ts";

type Case = { asm: string; word: number };

const REGS = [0, 1, 2, 5, 8, 15, 16, 17, 19, 24, 29, 30];
const x = (r: number) => (r === 31 ? "xzr" : `x${r}`);
const w = (r: number) => (r === 31 ? "wzr" : `w${r}`);
const xsp = (r: number) => (r === 31 ? "sp" : `x${r}`);
const SIZES = [1, 2, 4, 8] as const;
const LOAD = { 1: "ldrb", 2: "ldrh", 4: "ldr", 8: "ldr" } as const;
const STORE = { 1: "strb", 2: "strh", 4: "str", 8: "str" } as const;
const UNSCALED_LOAD = { 1: "ldurb", 2: "ldurh", 4: "ldur", 8: "ldur" } as const;
const UNSCALED_STORE = { 1: "sturb", 2: "sturh", 4: "stur", 8: "stur" } as const;
const rt = (size: number, r: number) => (size === 8 ? x(r) : w(r));

function rotr(value: bigint, n: number): bigint {
  const mask = (1n << 64n) - 1n;
  return ((value >> BigInt(n)) | (value << BigInt(64 - n))) & mask;
}

function cases(): Case[] {
  const c: Case[] = [];
  for (const d of [...REGS, 31]) {
    for (const kind of ["movz", "movk", "movn"] as const)
      for (const imm of [0, 1, 0xffff, 0x1234])
        for (const hw of [0, 1, 2, 3])
          c.push({ asm: `${kind} ${x(d)}, #${imm}, lsl #${hw * 16}`, word: a.moveWide(kind, d, imm, hw) });
  }
  for (const d of REGS) {
    for (const m of REGS) {
      c.push({ asm: `mov ${x(d)}, ${x(m)}`, word: a.movReg(d, m) });
      for (const op of ["add", "sub", "subs", "and", "orr", "eor", "orn"] as const)
        c.push({ asm: `${op} ${x(d)}, ${x(5)}, ${x(m)}`, word: a.aluReg(op, d, 5, m) });
      for (const op of ["udiv", "lslv", "lsrv", "asrv"] as const)
        c.push({ asm: `${op} ${x(d)}, ${x(m)}, x3`, word: a.dataProc2(op, d, m, 3) });
      c.push({ asm: `madd ${x(d)}, ${x(m)}, x2, xzr`, word: a.mulAdd("madd", d, m, 2, 31) });
      c.push({ asm: `msub ${x(d)}, x1, ${x(m)}, x4`, word: a.mulAdd("msub", d, 1, m, 4) });
    }
    c.push({ asm: `sub ${x(d)}, xzr, x7`, word: a.aluReg("sub", d, 31, 7) });
    c.push({ asm: `orn ${x(d)}, xzr, x7`, word: a.aluReg("orn", d, 31, 7) });
    c.push({ asm: `subs xzr, ${x(d)}, x7`, word: a.aluReg("subs", 31, d, 7) });
    for (const n of [0, 1, 31, 63]) {
      c.push({ asm: `lsl ${x(d)}, x3, #${n}`, word: a.shiftImm("lsl", d, 3, n) });
      c.push({ asm: `lsr ${x(d)}, x3, #${n}`, word: a.shiftImm("lsr", d, 3, n) });
      c.push({ asm: `asr ${x(d)}, x3, #${n}`, word: a.shiftImm("asr", d, 3, n) });
    }
    for (const ones of [1, 8, 16, 32, 63])
      for (const rot of [0, 8, 63])
        for (const op of ["and", "orr", "eor"] as const)
          c.push({
            asm: `${op} ${x(d)}, x3, #0x${rotr((1n << BigInt(ones)) - 1n, rot).toString(16)}`,
            word: a.logicalImm(op, d, 3, ones, rot),
          });
  }
  for (const d of [...REGS, 31])
    for (const n of [...REGS, 31])
      for (const op of ["add", "sub"] as const)
        for (const imm of [0, 1, 4095]) {
          c.push({ asm: `${op} ${xsp(d)}, ${xsp(n)}, #${imm}`, word: a.addSubImm(op, d, n, imm) });
          c.push({
            asm: `${op} ${xsp(d)}, ${xsp(n)}, #${imm}, lsl #12`,
            word: a.addSubImm(op, d, n, imm, true),
          });
        }
  for (const n of [...REGS, 31])
    for (const imm of [0, 4095])
      c.push({ asm: `subs xzr, ${xsp(n)}, #${imm}`, word: a.addSubImm("subs", 31, n, imm) });
  for (const n of [...REGS, 31])
    c.push({ asm: `adds xzr, ${xsp(n)}, #7`, word: a.addSubImm("adds", 31, n, 7) });
  for (const size of SIZES) {
    for (const t of [...REGS, 31]) {
      for (const n of [...REGS, 31]) {
        for (const off of [0, size, 4095 * size]) {
          c.push({
            asm: `${LOAD[size]} ${rt(size, t)}, [${xsp(n)}, #${off}]`,
            word: a.loadStoreScaled(true, size, t, n, off),
          });
          c.push({
            asm: `${STORE[size]} ${rt(size, t)}, [${xsp(n)}, #${off}]`,
            word: a.loadStoreScaled(false, size, t, n, off),
          });
        }
        for (const off of [-256, -1, 1, 255]) {
          c.push({
            asm: `${UNSCALED_LOAD[size]} ${rt(size, t)}, [${xsp(n)}, #${off}]`,
            word: a.loadStoreUnscaled(true, size, t, n, off),
          });
          c.push({
            asm: `${UNSCALED_STORE[size]} ${rt(size, t)}, [${xsp(n)}, #${off}]`,
            word: a.loadStoreUnscaled(false, size, t, n, off),
          });
        }
        const shift = Math.log2(size);
        c.push({
          asm: `${LOAD[size]} ${rt(size, t)}, [${xsp(n)}, x9]`,
          word: a.loadStoreRegOffset(true, size, t, n, 9, false),
        });
        c.push({
          asm: `${STORE[size]} ${rt(size, t)}, [${xsp(n)}, x9]`,
          word: a.loadStoreRegOffset(false, size, t, n, 9, false),
        });
        c.push({
          asm: `${LOAD[size]} ${rt(size, t)}, [${xsp(n)}, x9, lsl #${shift}]`,
          word: a.loadStoreRegOffset(true, size, t, n, 9, true),
        });
        c.push({
          asm: `${STORE[size]} ${rt(size, t)}, [${xsp(n)}, x9, lsl #${shift}]`,
          word: a.loadStoreRegOffset(false, size, t, n, 9, true),
        });
      }
    }
  }
  for (const [t, t2] of [
    [19, 20],
    [21, 22],
    [23, 30],
    [0, 1],
  ] as const) {
    for (const off of [-512, -16, 0, 16, 504]) {
      for (const mode of ["offset", "pre", "post"] as const) {
        const addr =
          mode === "offset" ? `[sp, #${off}]` : mode === "pre" ? `[sp, #${off}]!` : `[sp], #${off}`;
        c.push({ asm: `stp x${t}, x${t2}, ${addr}`, word: a.pair(false, mode, t, t2, 31, off) });
        c.push({ asm: `ldp x${t}, x${t2}, ${addr}`, word: a.pair(true, mode, t, t2, 31, off) });
      }
    }
  }
  const conds = { eq: 0, ne: 1, hs: 2, lo: 3, hi: 8, ls: 9, ge: 10, lt: 11, gt: 12, le: 13 };
  for (const [name, cond] of Object.entries(conds))
    for (const off of [0, 4, -4, (1 << 20) - 4, -(1 << 20)])
      c.push({ asm: `b.${name} .+${off}`, word: a.bCond(cond, off) });
  for (const r of [0, 5, 19, 30])
    for (const off of [8, -8, (1 << 20) - 4]) {
      c.push({ asm: `cbz ${x(r)}, .+${off}`, word: a.cbz(false, r, off) });
      c.push({ asm: `cbnz ${x(r)}, .+${off}`, word: a.cbz(true, r, off) });
    }
  for (const off of [0, 4, -4, (1 << 27) - 4, -(1 << 27)]) {
    c.push({ asm: `b .+${off}`, word: a.b(off) });
    c.push({ asm: `bl .+${off}`, word: a.bl(off) });
  }
  for (const r of [0, 16, 30])
    for (const off of [0, 1, -1, 3, 1024, (1 << 20) - 1, -(1 << 20)])
      c.push({ asm: `adr ${x(r)}, .+${off}`, word: a.adr(r, off) });
  c.push({ asm: "ret", word: a.RET });
  c.push({ asm: "svc #0", word: a.SVC0 });
  return c;
}

test("a64 encoders match aarch64-linux-gnu-as for every form, register and edge value", (t) => {
  if (
    !requireCommands(
      t,
      ["aarch64-linux-gnu-as", "aarch64-linux-gnu-objcopy"],
      "apt-get install binutils-aarch64-linux-gnu",
    )
  )
    return;
  const all = cases();
  const bytes = assembleWithBinutils(
    "a64",
    all.map((c) => c.asm.replace(/\.\+-/g, ".-")),
  );
  assert.equal(bytes.length, all.length * 4, "as emitted a different number of instructions");
  all.forEach((c, i) => {
    const want = bytes.readUInt32LE(i * 4);
    assert.equal(c.word.toString(16).padStart(8, "0"), want.toString(16).padStart(8, "0"), `"${c.asm}"`);
  });
  t.diagnostic(`${all.length} instructions checked`);
});

test("a64 encoders refuse values that do not fit their form", () => {
  assert.throws(() => a.addSubImm("add", 0, 1, 4096), /imm12/);
  assert.throws(() => a.loadStoreScaled(true, 8, 0, 1, 4), /multiple/);
  assert.throws(() => a.loadStoreUnscaled(true, 8, 0, 1, 256), /unscaled/);
  assert.throws(() => a.bCond(0, 1 << 20), /branch/);
  assert.throws(() => a.adr(0, 1 << 20), /adr/);
  assert.throws(() => a.moveWide("movz", 0, 0x10000, 0), /imm16/);
});
