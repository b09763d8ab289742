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
    for (const value of [0xffn, 0x80n, 0x0101010101010101n, 0xfffffffffffffffen, 1n << 63n])
      for (const op of ["and", "orr", "eor", "ands"] as const)
        c.push({
          asm: `${op} ${op === "ands" ? x(d) : xsp(d)}, x3, #0x${value.toString(16)}`,
          word: a.logicalImm(op, d, 3, value),
        });
    for (const lsl of [1, 4, 63])
      for (const op of ["add", "sub"] as const)
        c.push({ asm: `${op} ${x(d)}, x2, x3, lsl #${lsl}`, word: a.aluReg(op, d, 2, 3, lsl) });
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
        for (const off of [-256, -16, 8, 255])
          for (const load of [true, false]) {
            const op = load ? LOAD[size] : STORE[size];
            c.push({
              asm: `${op} ${rt(size, t)}, [${xsp(n)}, #${off}]!`,
              word: a.loadStoreIndexed(load, "pre", size, t, n, off),
            });
            c.push({
              asm: `${op} ${rt(size, t)}, [${xsp(n)}], #${off}`,
              word: a.loadStoreIndexed(load, "post", size, t, n, off),
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
  for (const [t, t2] of [
    [0, 1],
    [19, 31],
    [31, 5],
  ] as const)
    for (const n of [0, 24, 31])
      for (const off of [-256, -4, 0, 4, 252]) {
        const addr = `[${xsp(n)}, #${off}]`;
        c.push({ asm: `stp ${w(t)}, ${w(t2)}, ${addr}`, word: a.pair(false, "offset", t, t2, n, off, 4) });
        c.push({ asm: `ldp ${w(t)}, ${w(t2)}, ${addr}`, word: a.pair(true, "offset", t, t2, n, off, 4) });
        c.push({
          asm: `stp ${x(t)}, ${x(t2)}, [${xsp(n)}, #${off * 2}]`,
          word: a.pair(false, "offset", t, t2, n, off * 2),
        });
      }
  const conds = { eq: 0, ne: 1, hs: 2, lo: 3, hi: 8, ls: 9, ge: 10, lt: 11, gt: 12, le: 13 };
  for (const [name, cond] of Object.entries(conds))
    for (const n of [0, 5, 19, 30])
      for (const nzcv of [0, 4, 9, 15]) {
        for (const op of ["ccmp", "ccmn"] as const) {
          c.push({
            asm: `${op} ${x(n)}, #31, #${nzcv}, ${name}`,
            word: a.condCompare(op, n, 31, true, nzcv, cond),
          });
          c.push({
            asm: `${op} ${x(n)}, #0, #${nzcv}, ${name}`,
            word: a.condCompare(op, n, 0, true, nzcv, cond),
          });
          c.push({
            asm: `${op} ${x(n)}, x7, #${nzcv}, ${name}`,
            word: a.condCompare(op, n, 7, false, nzcv, cond),
          });
        }
        for (const op of ["csel", "csinc", "csinv"] as const)
          c.push({
            asm: `${op} ${x(nzcv + 1)}, ${x(n)}, xzr, ${name}`,
            word: a.condSelect(op, nzcv + 1, n, 31, cond),
          });
      }
  for (const [name, cond] of Object.entries(conds))
    for (const off of [0, 4, -4, (1 << 20) - 4, -(1 << 20)])
      c.push({ asm: `b.${name} .+${off}`, word: a.bCond(cond, off) });
  for (const r of [0, 5, 19, 30])
    for (const off of [8, -8, (1 << 20) - 4]) {
      c.push({ asm: `cbz ${x(r)}, .+${off}`, word: a.cbz(false, r, off) });
      c.push({ asm: `cbnz ${x(r)}, .+${off}`, word: a.cbz(true, r, off) });
    }
  for (const r of [0, 5, 19, 30])
    for (const bit of [0, 1, 31, 32, 63])
      for (const off of [0, 8, -8, (1 << 15) - 4, -(1 << 15)]) {
        c.push({ asm: `tbz ${x(r)}, #${bit}, .+${off}`, word: a.tbz(false, r, bit, off) });
        c.push({ asm: `tbnz ${x(r)}, #${bit}, .+${off}`, word: a.tbz(true, r, bit, off) });
      }
  for (const off of [0, 4, -4, (1 << 27) - 4, -(1 << 27)]) {
    c.push({ asm: `b .+${off}`, word: a.b(off) });
    c.push({ asm: `bl .+${off}`, word: a.bl(off) });
  }
  for (const r of [0, 16, 30])
    for (const off of [0, 1, -1, 3, 1024, (1 << 20) - 1, -(1 << 20)])
      c.push({ asm: `adr ${x(r)}, .+${off}`, word: a.adr(r, off) });
  c.push({ asm: "ret", word: a.RET });
  for (const n of [0, 5, 17, 30]) c.push({ asm: `br x${n}`, word: a.br(n) });
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

/** Every logical immediate there is: each element size, run length and rotation, repeated to 64 bits. */
function everyBitmask(): bigint[] {
  const values: bigint[] = [];
  for (let e = 2; e <= 64; e *= 2)
    for (let ones = 1; ones < e; ones++)
      for (let rot = 0; rot < e; rot++) {
        const width = (1n << BigInt(e)) - 1n;
        const run = (1n << BigInt(ones)) - 1n;
        const element = ((run >> BigInt(rot)) | (run << BigInt(e - rot))) & width;
        let v = 0n;
        for (let at = 0; at < 64; at += e) v |= element << BigInt(at);
        values.push(v);
      }
  return values;
}

test("a64 logical immediates: all 5,334 encode as binutils does, and nothing else is accepted", (t) => {
  if (
    !requireCommands(
      t,
      ["aarch64-linux-gnu-as", "aarch64-linux-gnu-objcopy"],
      "apt-get install binutils-aarch64-linux-gnu",
    )
  )
    return;
  const all = everyBitmask();
  const valid = new Set(all);
  assert.equal(valid.size, 5334);
  const bytes = assembleWithBinutils(
    "a64",
    all.map((v) => `and x1, x2, #0x${v.toString(16)}`),
  );
  all.forEach((v, i) => {
    assert.equal(a.logicalImm("and", 1, 2, v), bytes.readUInt32LE(i * 4), `0x${v.toString(16)}`);
  });
  const others = [0n, -1n, 5n, 0x1234n, 0xff00ff00ff00ff01n, 0x00ff00ff00ff0000n, (1n << 32n) | 1n];
  // Deterministic near-misses: a repeated 32-bit pattern with its low bits disturbed.
  let seed = 12345n;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    others.push(((seed >> 32n) * 0x100000001n) ^ BigInt(i % 3));
  }
  for (const v of others)
    assert.equal(a.bitmaskImmediate(v) !== null, valid.has(BigInt.asUintN(64, v)), `0x${v.toString(16)}`);
  assert.throws(() => a.logicalImm("orr", 0, 0, 5n), /not a logical immediate/);
});

test("a64 encoders refuse values that do not fit their form", () => {
  assert.throws(() => a.addSubImm("add", 0, 1, 4096), /imm12/);
  assert.throws(() => a.loadStoreScaled(true, 8, 0, 1, 4), /multiple/);
  assert.throws(() => a.loadStoreUnscaled(true, 8, 0, 1, 256), /unscaled/);
  assert.throws(() => a.bCond(0, 1 << 20), /branch/);
  assert.throws(() => a.adr(0, 1 << 20), /adr/);
  assert.throws(() => a.moveWide("movz", 0, 0x10000, 0), /imm16/);
  assert.throws(() => a.tbz(false, 0, 0, 1 << 15), /branch/);
  assert.throws(() => a.loadStoreIndexed(false, "pre", 8, 0, 31, -512), /indexed/);
});
