// IR programs run three ways, which must agree byte for byte: the reference interpreter, an x86-64
// ELF on this CPU, and an arm64 ELF under qemu-aarch64-static. Random programs (fast-check) cover
// every op, immediate width, displacement and branch condition, frames, and calls into random
// functions with every set of saved registers; hand-written ones cover recursion, stdin and data.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { writeExecutable } from "../../src/native/elf/file.ts";
import { type FuncBuilder, ProgramBuilder } from "../../src/native/ir/builder.ts";
import { interpret } from "../../src/native/ir/interpret.ts";
import { streamSyscalls } from "../../src/native/ir/streams.ts";
import {
  BIN_OPS,
  CONDS,
  type Program,
  REGS,
  type Reg,
  SAVED_REGS,
  type SavedReg,
  type Size,
} from "../../src/native/ir/types.ts";
import { link } from "../../src/native/link.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import type { Target } from "../../src/native/target/types.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-native-"));
after(() => rmSync(work, { recursive: true, force: true }));

const RUNNERS: Record<Target["name"], { prefix: string[]; needs: string[]; install: string }> = {
  x64: { prefix: [], needs: [], install: "" },
  a64: {
    prefix: ["qemu-aarch64-static"],
    needs: ["qemu-aarch64-static"],
    install: "apt-get install qemu-user-static",
  },
};

function runNative(
  program: Program,
  target: Target,
  stdin: string,
  optimize: boolean,
): { stdout: Buffer; status: number | null } {
  const path = join(work, `p-${target.name}-${Math.random().toString(36).slice(2)}`);
  writeExecutable(path, link(program, target, { optimize }).elf);
  const runner = RUNNERS[target.name];
  const [command, ...args] = [...runner.prefix, path];
  const result = spawnSync(command!, args, { input: stdin, timeout: 20_000 });
  rmSync(path);
  return { stdout: result.stdout, status: result.status };
}

function runInterpreted(program: Program, stdin = ""): { stdout: Buffer; status: number } {
  const streams = streamSyscalls({ 0: stdin });
  const result = interpret(program, { syscall: streams.handler });
  return { stdout: Buffer.from(streams.bytes(1)), status: result.exitCode };
}

/**
 * Runs `program` in the interpreter and natively (linked with `optimize` when asked); `where`
 * names the first differing output byte (a case, register, ...).
 */
function agree(
  t: import("node:test").TestContext,
  program: Program,
  { stdin = "", optimize = false, where = (offset: number) => `output byte ${offset}` } = {},
): void {
  const reference = runInterpreted(program, stdin);
  for (const target of Object.values(TARGETS)) {
    const runner = RUNNERS[target.name];
    if (runner.needs.length > 0 && !requireCommands(t, runner.needs, runner.install)) continue;
    const native = runNative(program, target, stdin, optimize);
    assert.equal(native.status, reference.status, `${target.name}: exit status`);
    if (native.stdout.equals(reference.stdout)) continue;
    let at = 0;
    while (native.stdout[at] === reference.stdout[at]) at++;
    const word = (b: Buffer) => b.subarray(at & ~7, (at & ~7) + 8).toString("hex");
    assert.fail(
      `${target.name}: ${where(at)} differs: ${word(native.stdout)}, interpreter says ${word(reference.stdout)}`,
    );
  }
}

/** Bytes one random case writes: registers, scratch, frame. */
const CASE_BYTES = 8 * REGS.length + 256 + 64;

function caseField(offset: number): string {
  const c = Math.floor(offset / CASE_BYTES);
  const at = offset % CASE_BYTES;
  if (at < 8 * REGS.length) return `case ${c}, register ${REGS[at >> 3]}`;
  if (at < 8 * REGS.length + 256) return `case ${c}, scratch byte ${at - 8 * REGS.length}`;
  return `case ${c}, frame byte ${at - 8 * REGS.length - 256}`;
}

/** Bytes of the entry function's frame that random programs read and write. */
const FRAME = 64;
/** Random functions per program, numbered; each may call only higher-numbered ones. */
const HELPERS = 6;

/** Writes every register and the scratch area to stdout, then the frame when `frame` is set. */
function dump(f: FuncBuilder, frame = false): void {
  REGS.forEach((r, i) => {
    if (r !== "s5") f.addr("s5", "regs").store(8, r, { base: "s5", offset: i * 8 });
  });
  f.mov("a0", 1)
    .addr("a1", "regs")
    .mov("a2", 8 * REGS.length + 256)
    .syscall("write");
  if (!frame) return;
  f.addr("a1", "framecopy");
  for (let at = 0; at < FRAME; at += 8)
    f.load(8, "a0", { base: "sp", offset: at }).store(8, "a0", { base: "a1", offset: at });
  f.mov("a0", 1).mov("a2", FRAME).syscall("write");
}

// ---- random programs ----

const reg = fc.constantFrom(...REGS.filter((r) => r !== "s5"));
const interesting = fc.constantFrom(
  0n,
  1n,
  -1n,
  2n,
  127n,
  128n,
  -128n,
  -129n,
  255n,
  4095n,
  4096n,
  65535n,
  65536n,
  0x7fffffffn,
  0x80000000n,
  -0x80000000n,
  0xffffffffn,
  0x100000000n,
  0x123456789abcdefn,
  -0x8000000000000000n,
);
const imm = fc.oneof(interesting, fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }));

type Op =
  | { kind: "mov"; dst: Reg; src: Reg | bigint }
  | { kind: "bin"; op: (typeof BIN_OPS)[number]; dst: Reg; a: Reg; b: Reg | bigint }
  | { kind: "un"; op: "neg" | "not"; dst: Reg; a: Reg }
  | { kind: "store"; size: Size; src: Reg | bigint; offset: number }
  | { kind: "load"; size: Size; dst: Reg; offset: number }
  | { kind: "indexed"; size: Size; dst: Reg; index: Reg; scaled: boolean }
  | { kind: "br"; cond: (typeof CONDS)[number]; a: Reg; b: Reg | bigint; skip: number }
  | { kind: "frame"; store: boolean; size: Size; reg: Reg; value: bigint | null; offset: number }
  | { kind: "far"; store: boolean; size: Size; reg: Reg; slot: number; displacement: number }
  | { kind: "block"; dst: Reg; values: bigint[] }
  | { kind: "call"; target: number };

const size = fc.constantFrom<Size>(1, 2, 4, 8);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("mov" as const), dst: reg, src: fc.oneof(reg, imm) }),
  fc.record({
    kind: fc.constant("bin" as const),
    op: fc.constantFrom(...BIN_OPS),
    dst: reg,
    a: reg,
    b: fc.oneof(reg, imm),
  }),
  fc.record({
    kind: fc.constant("un" as const),
    op: fc.constantFrom("neg" as const, "not" as const),
    dst: reg,
    a: reg,
  }),
  fc.record({
    kind: fc.constant("store" as const),
    size,
    src: fc.oneof(reg, imm),
    offset: fc.integer({ min: 0, max: 31 }),
  }),
  fc.record({ kind: fc.constant("load" as const), size, dst: reg, offset: fc.integer({ min: 0, max: 31 }) }),
  fc.record({ kind: fc.constant("indexed" as const), size, dst: reg, index: reg, scaled: fc.boolean() }),
  fc.record({
    kind: fc.constant("br" as const),
    cond: fc.constantFrom(...CONDS),
    a: reg,
    b: fc.oneof(reg, imm),
    skip: fc.integer({ min: 1, max: 4 }),
  }),
  // sp-based accesses anywhere in the frame, in every size and alignment
  fc.record({
    kind: fc.constant("frame" as const),
    store: fc.boolean(),
    size,
    reg,
    value: fc.option(imm),
    offset: fc.integer({ min: 0, max: FRAME - 8 }),
  }),
  // displacements of every width, positive and negative, possibly misaligned for the access size
  fc.record({
    kind: fc.constant("far" as const),
    store: fc.boolean(),
    size,
    reg,
    slot: fc.integer({ min: 0, max: 248 }),
    displacement: fc.oneof(
      fc.integer({ min: -300, max: 300 }),
      fc.integer({ min: -70_000, max: 70_000 }),
      fc.constantFrom(-256, 255, 256, 4095, 4096, 8190, 32760, 32768, -129, 127, 128),
    ),
  }),
  // a run of 64-bit constants: makes branches over it too far for short forms
  fc.record({
    kind: fc.constant("block" as const),
    dst: reg,
    values: fc.array(imm, { minLength: 10, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant("call" as const), target: fc.integer({ min: 0, max: HELPERS - 1 }) }),
);
const testCase = fc.record({
  init: fc.array(imm, { minLength: 11, maxLength: 11 }),
  ops: fc.array(op, { minLength: 1, maxLength: 24 }),
});

/** Random functions the cases call: every frame shape and set of saved registers. */
const helper = fc.record({
  frame: fc.constantFrom(0, 8, 12, 16, 24, 40, 64, 72),
  saves: fc.subarray([...SAVED_REGS]),
  ops: fc.array(op, { minLength: 1, maxLength: 12 }),
});
type Helper = { frame: number; saves: SavedReg[]; ops: Op[] };

/** How a list of random ops is emitted: in the entry function or in helper number `self`. */
interface Context {
  /** Register that addresses scratch memory (rewritten before every use). */
  base: Reg;
  frame: number;
  /** Registers a function may not write are renamed to argument registers. */
  map: (r: Reg) => Reg;
  /** Only helpers with a higher number can be called, so every program terminates. */
  self: number;
}

const ENTRY: Context = { base: "s5", frame: FRAME, map: (r) => r, self: -1 };

function helperContext(h: Helper, self: number): Context {
  // a5 is the scratch base, whose value (an address) differs between runs: never a data register.
  const map = (r: Reg): Reg => {
    const named = r.startsWith("s") && !h.saves.includes(r as SavedReg) ? (`a${r.slice(1)}` as Reg) : r;
    return named === "a5" ? "a4" : named;
  };
  return { base: "a5", frame: h.frame, map, self };
}

function emitCase(f: FuncBuilder, c: { init: bigint[]; ops: Op[] }): void {
  REGS.filter((r) => r !== "s5").forEach((r, i) => {
    f.mov(r, c.init[i]!);
  });
  // The frame starts with known contents: the stack below the entry's sp is not defined.
  (["a0", "a1", "a2", "a3", "a4", "a5", "s0", "s1"] as const).forEach((r, k) => {
    f.store(8, r, { base: "sp", offset: k * 8 });
  });
  emitOps(f, c.ops, ENTRY);
  dump(f, true);
}

function emitHelper(f: FuncBuilder, h: Helper, self: number): void {
  for (let at = 0; at < h.frame; at += 8)
    f.store(h.frame - at >= 8 ? 8 : 4, "a0", { base: "sp", offset: at });
  emitOps(f, h.ops, helperContext(h, self));
  f.ret();
}

function emitOps(f: FuncBuilder, ops: Op[], context: Context): void {
  const m = context.map;
  const base = context.base;
  const pending: { label: string; at: number }[] = [];
  ops.forEach((o, i) => {
    for (const p of pending.filter((p) => p.at === i)) f.label(p.label);
    const src = (s: Reg | bigint): Reg | bigint => (typeof s === "bigint" ? s : m(s));
    switch (o.kind) {
      case "mov":
        f.mov(m(o.dst), src(o.src));
        break;
      case "bin": {
        const shift = o.op === "shl" || o.op === "shr" || o.op === "sar";
        const divide = o.op === "udiv" || o.op === "urem";
        if (divide && typeof o.b !== "bigint") f.or(m(o.b), m(o.b), 1);
        const b =
          typeof o.b === "bigint" ? (shift ? BigInt.asUintN(6, o.b) : divide ? o.b | 1n : o.b) : m(o.b);
        f.bin(o.op, m(o.dst), m(o.a), b);
        break;
      }
      case "un":
        f.un(o.op, m(o.dst), m(o.a));
        break;
      case "store": {
        const value = typeof o.src === "bigint" ? BigInt.asUintN(o.size * 8, o.src) : m(o.src);
        f.addr(base, "scratch").store(o.size, value, { base, offset: o.offset * 8 });
        break;
      }
      case "load":
        f.addr(base, "scratch").load(o.size, m(o.dst), { base, offset: o.offset * 8 });
        break;
      case "indexed": {
        const index = m(o.index);
        f.and(index, index, 31).addr(base, "scratch");
        f.load(o.size, m(o.dst), { base, index, scale: o.scaled ? o.size : 1 });
        break;
      }
      case "br": {
        const label = f.newLabel("skip");
        pending.push({ label, at: i + 1 + o.skip });
        f.br(o.cond, o.a, o.b, label);
        break;
      }
      case "frame": {
        if (context.frame < o.size) break;
        const mem = { base: "sp" as const, offset: Math.min(o.offset, context.frame - o.size) };
        if (!o.store) f.load(o.size, m(o.reg), mem);
        else f.store(o.size, o.value === null ? m(o.reg) : BigInt.asUintN(o.size * 8, o.value), mem);
        break;
      }
      case "far": {
        // base points `displacement` bytes before the slot, so [base + displacement] is in scratch.
        f.addr(base, "scratch", o.slot - o.displacement);
        const mem = { base, offset: o.displacement };
        if (o.store) f.store(o.size, m(o.reg), mem);
        else f.load(o.size, m(o.reg), mem);
        break;
      }
      case "block":
        for (const v of o.values) f.mov(m(o.dst), v);
        break;
      case "call":
        if (o.target <= context.self) break;
        f.call(`helper${o.target}`);
        // Calls may clobber a1..a5: give them known values again.
        for (const r of ["a1", "a2", "a3", "a4", "a5"] as const) f.mov(r, 0x1111n * BigInt(r.charCodeAt(1)));
        break;
    }
  });
  for (const p of pending.filter((p) => p.at >= ops.length)) f.label(p.label);
}

function programOf({
  cases,
  helpers,
}: {
  cases: { init: bigint[]; ops: Op[] }[];
  helpers: Helper[];
}): Program {
  const p = new ProgramBuilder();
  // The dump writes "regs" and the 256 bytes after it, which are "scratch": memory shows too.
  p.bss("regs", 8 * REGS.length)
    .bss("scratch", 256 + 8)
    .bss("framecopy", FRAME);
  p.func("main", { frame: FRAME }, (f) => {
    for (const c of cases) emitCase(f, c);
    f.mov("a0", 0).syscall("exit_group");
  });
  helpers.forEach((h, i) => {
    p.func(`helper${i}`, { frame: h.frame, saves: h.saves }, (f) => emitHelper(f, h, i));
  });
  return p.build("main");
}

test("random IR programs give the same registers and memory in the interpreter, on x86-64 and on arm64", (t) => {
  const batch = fc.record({
    cases: fc.array(testCase, { minLength: 40, maxLength: 40 }),
    helpers: fc.array(helper, { minLength: HELPERS, maxLength: HELPERS }),
  });
  const batches = fc.sample(batch, {
    numRuns: 50,
    seed: 20261122,
  });
  batches.forEach((b, i) => {
    // Odd batches go through the optimizer first: the interpreter runs the original.
    agree(t, programOf(b), { optimize: i % 2 === 1, where: (offset) => `batch ${i}, ${caseField(offset)}` });
  });
  t.diagnostic(`${batches.length * 40} random cases per target`);
});

// ---- hand-written programs ----

test("calls preserve saved registers and frames, and results come back in a0", (t) => {
  const p = new ProgramBuilder();
  p.bss("regs", 8 * REGS.length + 256);
  p.rodata("table", new Uint8Array([3, 1, 4, 1, 5, 9, 2, 6]));
  p.data("counter", new Uint8Array(8));
  p.func("main", { frame: 32 }, (f) => {
    f.mov("s0", 11).mov("s1", 22).store(8, 77, { base: "sp", offset: 24 });
    f.mov("a0", 10).call("fib");
    f.mov("s2", "a0").addr("a1", "table").mov("a0", 8).call("sum");
    f.mov("s3", "a0").load(8, "s4", { base: "sp", offset: 24 });
    f.addr("a0", "counter")
      .load(8, "a1", "a0")
      .add("a1", "a1", 5)
      .store(8, "a1", "a0")
      .load(8, "s5", "a0")
      .load(8, "a0", "a0");
    dump(f);
    f.mov("a0", 0).syscall("exit_group");
  });
  // fib(n) recursively: exercises nested frames, saved registers and the link register.
  p.func("fib", { frame: 16, saves: ["s0", "s1"] }, (f) => {
    f.br("ltu", "a0", 2, "base");
    f.mov("s0", "a0").sub("a0", "s0", 1).call("fib").mov("s1", "a0");
    f.sub("a0", "s0", 2).call("fib").add("a0", "a0", "s1").ret();
    f.label("base").ret();
  });
  p.func("sum", {}, (f) => {
    f.mov("a2", 0).mov("a3", 0);
    f.label("loop").br("geu", "a3", "a0", "done");
    f.load(1, "a4", { base: "a1", index: "a3" }).add("a2", "a2", "a4").add("a3", "a3", 1).jmp("loop");
    f.label("done").mov("a0", "a2").ret();
  });
  agree(t, p.build("main"));
});

test("programs read stdin and exit with a status", (t) => {
  const p = new ProgramBuilder();
  p.bss("buf", 64);
  p.func("main", {}, (f) => {
    f.mov("a0", 0).addr("a1", "buf").mov("a2", 64).syscall("read");
    f.mov("a2", "a0").mov("a0", 1).addr("a1", "buf").syscall("write");
    f.addr("a1", "buf").load(1, "a0", "a1").syscall("exit_group");
  });
  agree(t, p.build("main"), { stdin: "*echo this back" });
});
