// arm64 lowering: the shape of what small IR programs become (disassembled with
// aarch64-linux-gnu-objdump), and sweeps of the size-saving rules run under qemu-aarch64-static,
// which must agree with the IR interpreter register for register.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { requireCommands } from "../../../../test/support/tools.ts";
import { writeExecutable } from "../../elf/file.ts";
import { type FuncBuilder, type FuncOptions, ProgramBuilder } from "../../ir/builder.ts";
import { interpret } from "../../ir/interpret.ts";
import { streamSyscalls } from "../../ir/streams.ts";
import { CONDS, type Program, REGS, type Reg, type SavedReg } from "../../ir/types.ts";
import { link } from "../../link.ts";
import { a64 } from "./index.ts";

const work = mkdtempSync(join(tmpdir(), "speck-a64-"));
after(() => rmSync(work, { recursive: true, force: true }));

const OBJDUMP = ["aarch64-linux-gnu-objdump"];
const QEMU = ["qemu-aarch64-static"];

/** objdump's listing of raw arm64 code, one line per instruction; branch targets are offsets ("@8"). */
function disassemble(code: Uint8Array): string[] {
  const path = join(work, `code-${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(path, code);
  const out = execFileSync(OBJDUMP[0]!, ["-D", "-b", "binary", "-m", "aarch64", path], { encoding: "utf8" });
  const lines: string[] = [];
  for (const m of out.matchAll(/^\s*[0-9a-f]+:\t[0-9a-f]{8} \t(.*)$/gm))
    lines.push(
      m[1]!
        .replace(/\s*\/\/.*$/, "")
        .replace(/\s+/g, " ")
        .replace(/ 0x([0-9a-f]+)$/, (_, to: string) => ` @${BigInt.asIntN(64, BigInt(`0x${to}`))}`)
        .trim(),
    );
  return lines;
}

/** The instructions of function `name` in `program`. */
function listing(program: Program, name: string): string[] {
  const text = a64.assemble(program);
  const start = text.symbols.get(name)!;
  const starts = program.funcs.map((f) => text.symbols.get(f.name)!).filter((at) => at > start);
  const end = starts.length > 0 ? Math.min(...starts) : text.code.length;
  return disassemble(text.code.subarray(start, end));
}

/** A program whose entry calls `f` (with the given body) and exits; `g` and `h` are there to be called. */
/**
 * A program whose entry calls `f` and exits; `result` is the register the entry reads after the
 * call (its exit status), so f hands it back; g reads s0 (a callee reading its caller's state).
 */
function oneFunction(body: (f: FuncBuilder) => void, options: FuncOptions = {}, result?: Reg): Program {
  const p = new ProgramBuilder();
  p.bss("data", 64);
  p.func("main", {}, (f) =>
    f
      .call("f")
      .mov("a0", result ?? 0)
      .syscall("exit_group"),
  );
  p.func("f", options, (f) => body(f));
  p.func("g", {}, (f) => f.addr("a1", "data").store(8, "s0", "a1").ret());
  p.func("h", {}, (f) => f.ret());
  return p.build("main");
}

test("a64 lowering picks the shortest forms", (t) => {
  if (!requireCommands(t, OBJDUMP, "apt-get install binutils-aarch64-linux-gnu")) return;
  const shapes: { name: string; body: (f: FuncBuilder) => FuncBuilder; want: string[]; result?: Reg }[] = [
    {
      name: "bit pattern constant",
      body: (f) => f.mov("a1", 0x0101010101010101n),
      want: ["mov x1, #0x101010101010101"],
    },
    { name: "and with a bit", body: (f) => f.and("a1", "a2", 0x20), want: ["and x1, x2, #0x20"] },
    { name: "or with a run", body: (f) => f.or("a1", "a1", 0xff00), want: ["orr x1, x1, #0xff00"] },
    { name: "xor -1", body: (f) => f.xor("a1", "a2", -1), want: ["mvn x1, x2"] },
    { name: "and -1", body: (f) => f.and("a1", "a2", -1), want: ["mov x1, x2"] },
    {
      name: "and 0x1234 needs a register",
      body: (f) => f.and("a1", "a1", 0x1234),
      want: ["mov x16, #0x1234", "and x1, x1, x16"],
    },
    { name: "mul by 8", body: (f) => f.mul("a0", "a1", 8), want: ["lsl x0, x1, #3"] },
    { name: "mul by 9", body: (f) => f.mul("a0", "a1", 9), want: ["add x0, x1, x1, lsl #3"] },
    { name: "mul by 0", body: (f) => f.mul("a0", "a1", 0), want: ["mov x0, xzr"] },
    { name: "mul by 10", body: (f) => f.mul("a0", "a1", 10), want: ["mov x16, #0xa", "mul x0, x1, x16"] },
    { name: "udiv by 16", body: (f) => f.udiv("a0", "a1", 16), want: ["lsr x0, x1, #4"] },
    { name: "urem by 4096", body: (f) => f.urem("a0", "a1", 4096), want: ["and x0, x1, #0xfff"] },
    { name: "urem by 1", body: (f) => f.urem("a0", "a1", 1), want: ["mov x0, xzr"] },
    {
      name: "urem by 10",
      body: (f) => f.urem("a0", "a1", 10),
      want: ["mov x16, #0xa", "udiv x17, x1, x16", "msub x0, x17, x16, x1"],
    },
    {
      name: "store32 of all ones",
      body: (f) => f.store(4, 0xffffffff, "a1"),
      want: ["mov x16, #0xffffffff", "str w16, [x1]"],
    },
    { name: "store zero", body: (f) => f.store(8, 0, "a1"), want: ["str xzr, [x1]"] },
    {
      name: "compare with 8192",
      body: (f) => f.br("eq", "a1", 8192, "x").mov("a1", 1).label("x"),
      want: ["cmp x1, #0x2, lsl #12", "b.eq @12", "mov x1, #0x1"],
    },
    {
      name: "compare with -5",
      body: (f) => f.br("lt", "a1", -5, "x").mov("a1", 1).label("x"),
      want: ["cmn x1, #0x5", "b.lt @12", "mov x1, #0x1"],
    },
    {
      name: "zero test",
      body: (f) => f.br("leu", "a1", 0, "x").mov("a1", 1).label("x"),
      want: ["cbz x1, @8", "mov x1, #0x1"],
    },
    {
      name: "nonzero test",
      body: (f) => f.br("geu", "a1", 1, "x").mov("a1", 1).label("x"),
      want: ["cbnz x1, @8", "mov x1, #0x1"],
    },
    {
      name: "sign test",
      body: (f) => f.br("lt", "a1", 0, "x").mov("a1", 1).label("x"),
      want: ["tbnz x1, #63, @8", "mov x1, #0x1"],
    },
    {
      name: "not negative",
      body: (f) => f.br("gt", "a1", -1, "x").mov("a1", 1).label("x"),
      want: ["tbz x1, #63, @8", "mov x1, #0x1"],
    },
    {
      name: "never below 0",
      body: (f) => f.br("ltu", "a1", 0, "x").mov("a1", 1).label("x"),
      want: ["mov x1, #0x1"],
    },
    {
      name: "always at least 0: what it skips is dropped",
      body: (f) => f.br("geu", "a1", 0, "x").mov("a1", 1).label("x"),
      want: ["b @4"],
    },
    {
      name: "bit test with the result dead",
      body: (f) => f.and("a3", "a2", 8).br("ne", "a3", 0, "x").mov("a1", 1).label("x").mov("a3", 0),
      want: ["tbnz w2, #3, @8", "mov x1, #0x1", "mov x3, #0x0"],
    },
    {
      name: "bit test with the result left for the caller (IR hands back a1..a5 too)",
      body: (f) => f.and("a1", "a2", 8).br("ne", "a1", 0, "x").mov("a3", 1).label("x"),
      want: ["and x1, x2, #0x8", "cbnz x1, @12", "mov x3, #0x1"],
      result: "a1",
    },
    {
      name: "bit test with the result read later",
      body: (f) => f.and("a1", "a2", 8).br("ne", "a1", 0, "x").mov("a2", 1).label("x").mov("a0", "a1"),
      want: ["and x1, x2, #0x8", "cbnz x1, @12", "mov x2, #0x1", "mov x0, x1"],
    },
    {
      name: "a value only copied is computed into the copy",
      body: (f) => f.add("a1", "a2", 8).mov("a3", "a1").mov("a1", 0),
      want: ["add x3, x2, #0x8", "mov x1, #0x0"],
    },
    {
      name: "a copy straight back is dropped",
      body: (f) => f.mov("a0", "a3").mov("a3", "a0").add("a0", "a0", "a3"),
      want: ["mov x0, x3", "add x0, x0, x3"],
    },
    {
      name: "a copy stays when the value is read again",
      body: (f) => f.add("a1", "a2", 8).mov("a3", "a1").add("a0", "a1", "a3"),
      want: ["add x1, x2, #0x8", "mov x3, x1", "add x0, x1, x3"],
    },
    {
      name: "branch over a jump",
      body: (f) => f.br("eq", "a1", 3, "x").jmp("y").label("x").mov("a1", 1).label("y"),
      want: ["cmp x1, #0x3", "b.ne @12", "mov x1, #0x1"],
    },
    {
      name: "a constant built once per straight line, syscall numbers too",
      body: (f) =>
        f
          .mul("a0", "a1", 10)
          .store(8, 10, "a2")
          .syscall("getpid")
          .store(8, 10, "a2")
          .syscall("getpid")
          .label("x")
          .mul("a0", "a0", 10),
      want: [
        "mov x16, #0xa",
        "mul x0, x1, x16",
        "str x16, [x2]",
        "mov x8, #0xac",
        "svc #0x0",
        "str x16, [x2]",
        "svc #0x0",
        "mov x16, #0xa",
        "mul x0, x0, x16",
      ],
    },
    {
      name: "branches to one label: one compare, conditional compares, one b.cond",
      body: (f) =>
        f.br("eq", "a0", 32, "x").br("eq", "a0", 9, "x").br("ltu", "a0", "a1", "x").mov("a0", 1).label("x"),
      want: ["cmp x0, #0x20", "ccmp x0, #0x9, #0x4, ne", "ccmp x0, x1, #0x0, ne", "b.cc @20", "mov x0, #0x1"],
    },
    {
      name: "taken when the first test fails and the second holds",
      body: (f) => f.br("ltu", "a0", 3, "x").br("leu", "a0", 9, "y").label("x").mov("a0", 1).label("y"),
      want: ["cmp x0, #0x3", "ccmp x0, #0x9, #0x2, cs", "b.ls @16", "mov x0, #0x1"],
    },
    {
      name: "zero tests stay single instructions",
      body: (f) => f.br("eq", "a0", 0, "x").br("eq", "a1", 0, "x").mov("a0", 1).label("x"),
      want: ["cbz x0, @12", "cbz x1, @12", "mov x0, #0x1"],
    },
    {
      name: "multiply and add the product",
      body: (f) => f.mul("a2", "a2", 10).add("a2", "a2", "a4"),
      want: ["mov x16, #0xa", "madd x2, x2, x16, x4"],
    },
    {
      name: "multiply and subtract the product, result dead",
      body: (f) => f.mul("a3", "a2", "a1").sub("a0", "a0", "a3").mov("a3", 0),
      want: ["msub x0, x2, x1, x0", "mov x3, #0x0"],
    },
    {
      name: "multiply by 16 and add",
      body: (f) => f.mul("a1", "s1", 16).add("a0", "a0", "a1").mov("a1", 0),
      want: ["add x0, x0, x20, lsl #4", "mov x1, #0x0"],
    },
    {
      name: "multiply and add, product read later",
      body: (f) => f.mul("a1", "s1", 10).add("a0", "a0", "a1").add("a0", "a0", "a1"),
      want: ["mov x16, #0xa", "mul x1, x20, x16", "add x0, x0, x1", "add x0, x0, x1"],
    },
    {
      name: "quotient and remainder from one udiv",
      body: (f) => f.udiv("a2", "a0", 86400).urem("a3", "a0", 86400),
      want: ["mov x16, #0x5180", "movk x16, #0x1, lsl #16", "udiv x2, x0, x16", "msub x3, x2, x16, x0"],
    },
    {
      name: "minimum as a select",
      body: (f) => f.mov("a2", "a0").br("leu", "a2", "a1", "x").mov("a2", "a1").label("x"),
      want: ["cmp x0, x1", "csel x2, x0, x1, ls"],
    },
    {
      name: "flag as cset",
      body: (f) => f.mov("a1", 0).br("ne", "s0", 1, "x").mov("a1", 1).label("x"),
      want: ["cmp x19, #0x1", "cset x1, eq"],
    },
    {
      name: "one of two neighbours as csinc",
      body: (f) => f.mov("a5", 7).br("gtu", "a2", 3, "x").mov("a5", 8).label("x"),
      want: ["mov x5, #0x7", "cmp x2, #0x3", "cinc x5, x5, ls"],
    },
    {
      name: "neighbouring loads",
      body: (f) => f.load(8, "a0", { base: "s4", offset: 88 }).load(8, "a1", { base: "s4", offset: 80 }),
      want: ["ldp x1, x0, [x23, #80]"],
    },
    {
      name: "neighbouring 32-bit stores, one of zero",
      body: (f) => f.store(4, 0, { base: "a2", offset: -8 }).store(4, "a1", { base: "a2", offset: -4 }),
      want: ["stp wzr, w1, [x2, #-8]"],
    },
    {
      name: "a store sinks past register moves to its neighbour",
      body: (f) =>
        f
          .store(8, "s3", { base: "s4", offset: 80 })
          .sub("a0", "s1", "s3")
          .store(8, "a0", { base: "s4", offset: 88 }),
      want: ["sub x0, x20, x22", "stp x22, x0, [x23, #80]"],
    },
    {
      name: "a load rises past an add to its neighbour",
      body: (f) => f.load(8, "a0", "a2").add("a0", "a0", "a3").load(8, "a1", { base: "a2", offset: 8 }),
      want: ["ldp x0, x1, [x2]", "add x0, x0, x3"],
    },
    {
      name: "a load does not rise past a reader of what it loads",
      body: (f) =>
        f
          .load(8, "a0", "a2")
          .add("a0", "a0", "a1")
          .load(8, "a1", { base: "a2", offset: 8 })
          .add("a0", "a0", "a1"),
      want: ["ldr x0, [x2]", "add x0, x0, x1", "ldr x1, [x2, #8]", "add x0, x0, x1"],
    },
    {
      name: "a load that overwrites the base does not pair",
      body: (f) => f.load(8, "a1", { base: "a1", offset: 0 }).load(8, "a2", { base: "a1", offset: 8 }),
      want: ["ldr x1, [x1]", "ldr x2, [x1, #8]"],
    },
    {
      name: "jump to the next label",
      body: (f) => f.jmp("x").label("x").br("eq", "a0", "a1", "y").label("y"),
      want: [],
    },
  ];
  for (const s of shapes) {
    const lines = listing(
      oneFunction((f) => s.body(f).ret(), {}, s.result),
      "f",
    );
    assert.deepEqual(lines, [...s.want, "ret"], s.name);
  }
});

test("a64 frames: saved registers pushed with the frame, tail calls, sp handed to the entry", (t) => {
  if (!requireCommands(t, OBJDUMP, "apt-get install binutils-aarch64-linux-gnu")) return;
  const framed = oneFunction(
    (f) => f.mov("s0", 1).store(8, "a0", { base: "sp", offset: 8 }).call("g").mov("a0", "s0").ret(),
    { frame: 16, saves: ["s0"] },
  );
  assert.deepEqual(listing(framed, "f"), [
    "stp x19, x30, [sp, #-32]!",
    "mov x19, #0x1",
    "str x0, [sp, #24]",
    "bl @28",
    "mov x0, x19",
    "ldp x19, x30, [sp], #32",
    "ret",
  ]);
  const tailFramed = oneFunction(
    (f) => f.mov("s0", 1).store(8, "a0", { base: "sp", offset: 8 }).call("g").ret(),
    { frame: 16, saves: ["s0"] },
  );
  assert.deepEqual(listing(tailFramed, "f"), [
    "str x19, [sp, #-32]!",
    "mov x19, #0x1",
    "str x0, [sp, #16]",
    "ldr x19, [sp], #32",
    "b @20",
  ]);
  // A callee may read s0, so the and that sets it stays even though f never reads it again.
  const sharedState = oneFunction(
    (f) => f.and("s0", "a2", 8).br("ne", "s0", 0, "x").call("g").label("x").mov("a0", 0).ret(),
    { saves: ["s0"] },
  );
  const stateText = a64.assemble(sharedState);
  const gAt = stateText.symbols.get("g")! - stateText.symbols.get("f")!;
  assert.deepEqual(listing(sharedState, "f"), [
    "stp x19, x30, [sp, #-16]!",
    "and x19, x2, #0x8",
    "cbnz x19, @16",
    `bl @${gAt}`,
    "mov x0, #0x0",
    "ldp x19, x30, [sp], #16",
    "ret",
  ]);
  const odd = oneFunction((f) => f.mov("s0", 1).mov("s1", 2).mov("s2", 3).ret(), {
    saves: ["s0", "s1", "s2"],
  });
  assert.deepEqual(listing(odd, "f"), [
    "stp x19, x20, [sp, #-32]!",
    "str x21, [sp, #16]",
    "mov x19, #0x1",
    "mov x20, #0x2",
    "mov x21, #0x3",
    "ldr x21, [sp, #16]",
    "ldp x19, x20, [sp], #32",
    "ret",
  ]);
  const one = oneFunction((f) => f.mov("s3", 1).ret(), { saves: ["s3"] });
  assert.deepEqual(listing(one, "f"), ["str x22, [sp, #-16]!", "mov x22, #0x1", "ldr x22, [sp], #16", "ret"]);
  const big = oneFunction((f) => f.store(8, "a0", { base: "sp", offset: 600 }).ret(), {
    frame: 608,
    saves: ["s0"],
  });
  assert.deepEqual(listing(big, "f"), [
    "sub sp, sp, #0x270",
    "str x19, [sp]",
    "str x0, [sp, #608]",
    "ldr x19, [sp]",
    "add sp, sp, #0x270",
    "ret",
  ]);
  // Only tail calls: x30 is never saved and the call is a jump.
  const tail = oneFunction((f) =>
    f.br("eq", "a0", 0, "other").call("g").ret().label("other").call("h").ret(),
  );
  const text = a64.assemble(tail);
  const at = (name: string) => text.symbols.get(name)! - text.symbols.get("f")!;
  // The cbz goes straight to h, so the b to h after the label is dropped.
  assert.deepEqual(listing(tail, "f"), [`cbz x0, @${at("h")}`, `b @${at("g")}`]);
  // A call that is not last keeps x30 saved; the tail call costs no more than bl and a branch to the exit.
  const mixed = oneFunction((f) => f.call("g").call("h").ret());
  const mixedText = a64.assemble(mixed);
  const from = (name: string) => mixedText.symbols.get(name)! - mixedText.symbols.get("f")!;
  assert.deepEqual(listing(mixed, "f"), [
    "str x30, [sp, #-16]!",
    `bl @${from("g")}`,
    "ldr x30, [sp], #16",
    `b @${from("h")}`,
  ]);
  const p = new ProgramBuilder();
  p.func("main", { frame: 8 }, (f) =>
    f.load(8, "a1", "a0").store(8, "a1", "sp").mov("a0", 0).syscall("exit_group"),
  );
  assert.deepEqual(listing(p.build("main"), "main"), [
    "mov x0, sp",
    "sub sp, sp, #0x10",
    "ldr x1, [x0]",
    "str x1, [sp]",
    "mov x0, #0x0",
    "mov x8, #0x5e",
    "svc #0x0",
  ]);
});

test("a64 repeated run ends become a branch into their first copy, across functions too", (t) => {
  if (!requireCommands(t, OBJDUMP, "apt-get install binutils-aarch64-linux-gnu")) return;
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.call("f").call("k").mov("a0", 0).syscall("exit_group"));
  p.func("f", { saves: ["s0"] }, (f) =>
    f.mov("s0", 1).br("eq", "a0", 0, "x").mov("a0", 0).ret().label("x").mov("a1", 2).mov("a0", 0).ret(),
  );
  p.func("k", { saves: ["s0"] }, (f) => f.mov("s0", 2).ret());
  const program = p.build("main");
  const text = a64.assemble(program);
  const f = text.symbols.get("f")!;
  const k = text.symbols.get("k")!;
  assert.deepEqual(listing(program, "f"), [
    "str x19, [sp, #-16]!",
    "mov x19, #0x1",
    "cbz x0, @24",
    "mov x0, #0x0",
    "ldr x19, [sp], #16",
    "ret",
    "mov x1, #0x2",
    "b @12",
  ]);
  // k's epilogue is the end of f's: it branches to f's ldr (listing offsets count from k).
  assert.deepEqual(listing(program, "k"), ["str x19, [sp, #-16]!", "mov x19, #0x2", `b @${f + 16 - k}`]);
  // Code that falls into a label ends like a run that branches there.
  const fallthrough = oneFunction((f) =>
    f
      .br("eq", "a0", 0, "x")
      .mov("a1", 5)
      .mov("a2", 6)
      .jmp("y")
      .label("x")
      .mov("a3", 1)
      .mov("a1", 5)
      .mov("a2", 6)
      .label("y")
      .ret(),
  );
  assert.deepEqual(listing(fallthrough, "f"), [
    "cbz x0, @16",
    "mov x1, #0x5",
    "mov x2, #0x6",
    "b @24",
    "mov x3, #0x1",
    "b @4",
    "ret",
  ]);
  // A branch to a label that only jumps on goes straight on; the jump nothing reaches is dropped.
  const threaded = oneFunction((f) =>
    f.br("eq", "a0", 0, "x").mov("a0", 1).ret().label("x").jmp("y").label("y").mov("a0", 2).ret(),
  );
  assert.deepEqual(listing(threaded, "f"), ["cbz x0, @12", "mov x0, #0x1", "ret", "mov x0, #0x2", "ret"]);
  // An exit syscall ends a run too: the second exit with status 2 branches to the first.
  const exits = new ProgramBuilder();
  exits.func("main", {}, (m) =>
    m
      .br("eq", "a0", 0, "x")
      .mov("a0", 2)
      .syscall("exit_group")
      .label("x")
      .mov("a1", 1)
      .mov("a0", 2)
      .syscall("exit_group"),
  );
  assert.deepEqual(listing(exits.build("main"), "main"), [
    "mov x0, sp",
    "cbz x0, @20",
    "mov x0, #0x2",
    "mov x8, #0x5e",
    "svc #0x0",
    "mov x1, #0x1",
    "b @8",
  ]);
});

test("a64 tbz/tbnz out of their 32 KiB reach become the opposite test over a branch", (t) => {
  if (!requireCommands(t, OBJDUMP, "apt-get install binutils-aarch64-linux-gnu")) return;
  for (const [gap, want] of [
    [8190, ["tbnz x1, #63, @32764"]],
    [8191, ["tbz x1, #63, @8", "b @32772"]],
  ] as const) {
    const far = oneFunction((f) => {
      f.br("lt", "a1", 0, "x");
      for (let i = 0; i < gap; i++) f.mov("a2", i & 0xffff);
      return f.label("x").ret();
    });
    const lines = listing(far, "f");
    assert.deepEqual(lines.slice(0, want.length), want, `over ${gap} instructions`);
  }
});

// ---- sweeps run under qemu against the interpreter ----

/** Registers a case dumps; s5 holds the dump's address. */
const DUMPED = REGS.filter((r) => r !== "s5");

interface Case {
  name: string;
  emit: (f: FuncBuilder, label: (hint: string) => string) => void;
}

/** One entry function running `cases` in turn, each dumping every register; `extra` adds functions. */
function sweep(
  cases: Case[],
  extra: (p: ProgramBuilder) => void = () => {},
): { names: string[]; program: Program } {
  const p = new ProgramBuilder();
  const bytes = cases.length * DUMPED.length * 8;
  p.bss("out", bytes).bss("scratch", 256);
  p.func("main", { frame: 64 }, (f) => {
    cases.forEach((c, i) => {
      DUMPED.forEach((r, k) => {
        f.mov(r, 0x1111111111111111n * BigInt(k + 1));
      });
      c.emit(f, (hint) => `${hint}${i}`);
      f.addr("s5", "out", i * DUMPED.length * 8);
      DUMPED.forEach((r, k) => {
        f.store(8, r, { base: "s5", offset: k * 8 });
      });
    });
    f.mov("a0", 1).addr("a1", "out").mov("a2", bytes).syscall("write");
    f.mov("a0", 0).syscall("exit_group");
  });
  extra(p);
  return { names: cases.map((c) => c.name), program: p.build("main") };
}

/** Runs a sweep under qemu and in the interpreter; names the first case and register that differ. */
function agree(t: import("node:test").TestContext, { names, program }: ReturnType<typeof sweep>): void {
  const streams = streamSyscalls({});
  interpret(program, { syscall: streams.handler, maxSteps: 50_000_000 });
  const reference = Buffer.from(streams.bytes(1));
  const path = join(work, `sweep-${Math.random().toString(36).slice(2)}`);
  writeExecutable(path, link(program, a64).elf);
  const run = spawnSync(QEMU[0]!, [path], { timeout: 60_000, maxBuffer: 1 << 26 });
  assert.equal(run.status, 0, `exit status (signal ${run.signal})`);
  assert.equal(run.stdout.length, reference.length, "bytes written");
  const at = run.stdout.findIndex((b, i) => b !== reference[i]);
  if (at >= 0) {
    const word = at >> 3;
    const c = Math.floor(word / DUMPED.length);
    const hex = (b: Buffer) => b.readBigUInt64LE(word * 8).toString(16);
    assert.fail(
      `${names[c]}: ${DUMPED[word % DUMPED.length]} is 0x${hex(run.stdout)}, interpreter says 0x${hex(reference)}`,
    );
  }
  t.diagnostic(`${names.length} cases agree`);
}

/** Deterministic pseudo-random 64-bit values (a fixed LCG), so every run checks the same cases. */
function values(seed: bigint, count: number): bigint[] {
  const out: bigint[] = [];
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = BigInt.asUintN(64, s * 6364136223846793005n + 1442695040888963407n);
    out.push(s);
  }
  return out;
}

const EDGES = [0n, 1n, 2n, -1n, 31n, 32n, -31n, 4095n, 4096n, 8192n, -4096n, 1n << 63n, (1n << 63n) - 1n];

test("a64 constant forms agree with the interpreter: logical immediates, powers of two, zero and sign tests", (t) => {
  if (!requireCommands(t, QEMU, "apt-get install qemu-user-static")) return;
  const cases: Case[] = [];
  const constants = [
    ...EDGES,
    0xffn,
    0x0101010101010101n,
    0xff00ff00ff00ff00n,
    0x7ffffffffffffffen,
    3n,
    5n,
    9n,
    17n,
    65n,
    (1n << 32n) + 1n,
    1n << 40n,
    ...values(7n, 20),
  ];
  const operands = [0n, 1n, -1n, 0x123456789abcdef0n, 0x8000000000000001n, 4096n];
  for (const op of ["and", "or", "xor", "mul", "udiv", "urem", "add", "sub"] as const)
    for (const b of constants)
      for (const av of operands) {
        if ((op === "udiv" || op === "urem") && b === 0n) continue;
        cases.push({ name: `${op} a1, ${av}, ${b}`, emit: (f) => f.mov("a2", av).bin(op, "a1", "a2", b) });
        cases.push({ name: `${op} s2, s2=${av}, ${b}`, emit: (f) => f.mov("s2", av).bin(op, "s2", "s2", b) });
      }
  for (const v of constants) {
    cases.push({ name: `mov ${v}`, emit: (f) => f.mov("s1", v) });
    for (const size of [1, 2, 4, 8] as const) {
      const fits = BigInt.asIntN(size * 8, v) === v || BigInt.asUintN(size * 8, v) === v;
      if (!fits) continue;
      cases.push({
        name: `store${size * 8} ${v}`,
        emit: (f) =>
          f
            .addr("a3", "scratch")
            .mov("a4", 0x5555555555555555n)
            .store(8, "a4", "a3")
            .store(size, v, "a3")
            .load(8, "a4", "a3")
            .mov("a3", 0),
      });
    }
  }
  const compared = [0n, 1n, -1n, 2n, -2n, 8192n, 1n << 63n, (1n << 63n) - 1n, 4096n * 4095n];
  for (const cond of CONDS)
    for (const b of [0n, 1n, -1n, 8192n, -4096n, -5n])
      for (const av of compared)
        cases.push({
          name: `br ${cond} ${av}, ${b}`,
          emit: (f, label) => {
            const taken = label("taken");
            f.mov("a1", av).mov("a0", 1).br(cond, "a1", b, taken).mov("a0", 0).label(taken);
          },
        });
  for (const v of [0x12345n, -77777n, 1n << 40n])
    cases.push({
      name: `constant ${v} used again after a syscall, not after a call or label`,
      emit: (f, label) => {
        f.addr("a1", "scratch").store(8, v, "a1").mov("a0", 1).mov("a2", 0).syscall("write");
        f.store(8, v, { base: "a1", offset: 8 }).mul("a3", "a3", v).call("clobber");
        // After the call x8 holds read's number: writing 8 bytes shows whether write's is reloaded.
        f.addr("a1", "scratch").mov("a0", 1).mov("a2", 8).syscall("write");
        f.store(8, v, { base: "a1", offset: 16 }).label(label("l")).mul("a4", "a4", v);
        f.load(8, "s0", "a1")
          .load(8, "s1", { base: "a1", offset: 8 })
          .load(8, "s2", { base: "a1", offset: 16 });
        f.mov("a1", 0);
      },
    });
  for (const bit of [0, 1, 7, 31, 32, 63])
    for (const av of [...operands, 1n << BigInt(bit)])
      for (const cond of ["eq", "ne"] as const) {
        const mask = 1n << BigInt(bit);
        cases.push({
          name: `and a2, ${av}, bit ${bit}; br ${cond} (dead)`,
          emit: (f, label) => {
            const taken = label("taken");
            f.mov("a2", av).mov("a0", 1).and("a2", "a2", mask).br(cond, "a2", 0, taken);
            f.mov("a0", 0).label(taken).mov("a2", 7);
          },
        });
        cases.push({
          name: `and a3, ${av}, bit ${bit}; br ${cond} (read after)`,
          emit: (f, label) => {
            const taken = label("taken");
            f.mov("a2", av).mov("a0", 1).and("a3", "a2", mask).br(cond, "a3", 0, taken);
            f.mov("a0", 0).label(taken).add("a0", "a0", "a3");
          },
        });
      }
  agree(
    t,
    sweep(cases, (p) => {
      // Writes the registers the encoder keeps constants in, as any callee may.
      p.func("clobber", {}, (f) =>
        f.mul("a0", "a0", 0x5151n).store(8, 0x6262n, "a1").mov("a0", 0).mov("a2", 0).syscall("read").ret(),
      );
    }),
  );
});

test("a64 chained branches agree with the interpreter for every pair of conditions", (t) => {
  if (!requireCommands(t, QEMU, "apt-get install qemu-user-static")) return;
  const cases: Case[] = [];
  const seconds = [5n, -5n, 0n, 31n, -31n, 32n, "s2" as const];
  const values = [0n, 5n, -5n, 6n, -1n, 31n, 1n << 63n];
  for (const c1 of CONDS)
    for (const c2 of CONDS)
      for (const [k, av] of values.entries()) {
        const b2 = seconds[(k + c2.length) % seconds.length]!;
        const bv = values[(k * 3 + c1.length) % values.length]!;
        const setup = (f: FuncBuilder) =>
          f
            .mov("a1", av)
            .mov("s2", bv)
            .mov("s3", values[(k + 2) % values.length]!);
        cases.push({
          name: `br ${c1} a1=${av}, s2=${bv}, x; br ${c2} s3, ${b2}, x`,
          emit: (f, label) => {
            const taken = label("taken");
            setup(f).mov("a0", 1).br(c1, "a1", "s2", taken).br(c2, "s3", b2, taken).mov("a0", 0).label(taken);
          },
        });
        cases.push({
          name: `br ${c1} a1=${av}, 5, x; br ${c2} a1, ${b2}, y; x:`,
          emit: (f, label) => {
            const skip = label("skip");
            const taken = label("taken");
            setup(f)
              .mov("a0", 1)
              .br(c1, "a1", 5, skip)
              .br(c2, "a1", b2, taken)
              .label(skip)
              .mov("a0", 0)
              .label(taken);
          },
        });
        cases.push({
          name: `br ${c1} a1=${av}, -3, x; br ${c2} a1, s3, x; br ${c1} s2, 7, x`,
          emit: (f, label) => {
            const taken = label("taken");
            setup(f).mov("a0", 1).br(c1, "a1", -3, taken).br(c2, "a1", "s3", taken).br(c1, "s2", 7, taken);
            f.mov("a0", 0).label(taken);
          },
        });
      }
  for (const av of [0n, 1n, 2n])
    cases.push({
      name: `jumps through labels that only jump on, a1 = ${av}`,
      emit: (f, label) => {
        const [x, y, z, out] = [label("x"), label("y"), label("z"), label("out")];
        f.mov("a1", av).mov("a0", 0).br("eq", "a1", 0, x).br("eq", "a1", 1, z).add("a0", "a0", 1).jmp(out);
        f.label(x).jmp(y).label(z).add("a0", "a0", 5).label(y).add("a0", "a0", 10).label(out);
      },
    });
  agree(t, sweep(cases));
});

test("a64 fused neighbours agree with the interpreter: madd/msub, shifted adds and selects", (t) => {
  if (!requireCommands(t, QEMU, "apt-get install qemu-user-static")) return;
  const cases: Case[] = [];
  const factors = [10n, 16n, 2n, 0n, 1n, 3n, -7n, "a2" as const];
  const regs = ["a1", "a2", "a3", "s1"] as const;
  const inputs = [3n, -2n, 1n << 40n];
  for (const y of factors)
    for (const [k, v] of inputs.entries())
      for (const d of regs)
        for (const x of regs)
          for (const r of regs)
            for (const form of ["add d,d,r", "add d,r,d", "sub d,r,d", "add e,e,d", "sub e,e,d"] as const) {
              const e = form.includes("e") ? "a4" : d;
              if (r === d) continue;
              const emit = (f: FuncBuilder) => {
                f.mov("a1", v)
                  .mov("a2", 5n + BigInt(k))
                  .mov("a3", -9n)
                  .mov("s1", 1n << 33n)
                  .mov("a4", 100);
                f.mul(d, x, y);
                if (form === "add d,d,r") f.add(d, d, r);
                else if (form === "add d,r,d") f.add(d, r, d);
                else if (form === "sub d,r,d") f.sub(d, r, d);
                else if (form === "add e,e,d") f.add(e, e, d);
                else f.sub(e, e, d);
                if (k === 1) f.mov(d, 0); // d dead after the add
              };
              cases.push({ name: `mul ${d}, ${x}, ${y}; ${form} (r ${r}, case ${k})`, emit });
            }
  const divRegs = ["a1", "a2", "a3", "s1"] as const;
  for (const order of ["udiv urem", "urem udiv"] as const)
    for (const b of [10n, 7n, 8n, "a3" as const])
      for (const q of divRegs)
        for (const r of divRegs)
          for (const x of ["a1", "a2"] as const)
            cases.push({
              name: `${order}: q ${q}, r ${r}, ${x} / ${b}`,
              emit: (f) => {
                f.mov("a1", 1000003).mov("a2", 0xfedcba987654321n).mov("a3", 97).mov("s1", 5);
                if (order === "udiv urem") f.udiv(q, x, b).urem(r, x, b);
                else f.urem(r, x, b).udiv(q, x, b);
              },
            });
  const picks = [0n, 1n, -1n, 7n, 8n, 6n, "a3" as const, "s2" as const, "a5" as const];
  for (const cond of CONDS)
    for (const x of picks)
      for (const y of picks)
        for (const [k, av] of [0n, 7n, -3n].entries()) {
          const d = k === 2 ? "a1" : "a5";
          cases.push({
            name: `mov ${d}, ${x}; br ${cond} a1=${av}, 7; mov ${d}, ${y}`,
            emit: (f, label) => {
              const skip = label("skip");
              f.mov("a1", av).mov("a3", 7).mov("s2", -3);
              f.mov(d, x).br(cond, "a1", 7, skip).mov(d, y).label(skip);
            },
          });
        }
  agree(t, sweep(cases));
});

test("a64 paired loads and stores agree with the interpreter at every offset edge and aliasing", (t) => {
  if (!requireCommands(t, QEMU, "apt-get install qemu-user-static")) return;
  const cases: Case[] = [];
  for (const size of [4, 8] as const)
    for (const offset of [-512, -256, -8, 0, 248, 252, 256, 504, 512])
      for (const [d1, d2] of [
        ["a2", "a3"],
        ["a3", "a1"],
        ["a2", "a2"],
      ] as const)
        for (const order of [1, -1]) {
          // The pair is at wide + 256, reached as a1 + offset; a4 reads it back.
          const at = (k: number) => ({ base: "a1" as const, offset: offset + (order === 1 ? k : size - k) });
          cases.push({
            name: `load${size * 8} ${d1}, ${d2} at a1 + ${offset} (order ${order}), then store`,
            emit: (f) => {
              f.addr("a4", "wide", 256).store(8, 0x1122334455667788n, "a4");
              f.store(8, -0x0102030405060708n, { base: "a4", offset: 8 });
              f.addr("a1", "wide", 256 - offset)
                .load(size, d1, at(0))
                .load(size, d2, at(size));
              f.addr("a1", "wide", 256 - offset)
                .store(size, order === 1 ? 0 : "a2", at(0))
                .store(size, "a3", at(size));
              f.load(8, "s0", "a4").load(8, "s1", { base: "a4", offset: 8 }).mov("a1", 0).mov("a4", 0);
            },
          });
        }
  // Two neighbouring accesses with one or two random register instructions between (which may
  // read or write what is loaded or stored, or move the base), then more of the same.
  const random = values(4242n, 20_000);
  let next = 0;
  const pick = (n: number) => Number(random[next++ % random.length]! % BigInt(n));
  const regs = ["a0", "a2", "a3", "s1"] as const;
  const register = (f: FuncBuilder) => {
    const r = regs[pick(regs.length)]!;
    const other = regs[pick(regs.length)]!;
    const choice = pick(5);
    if (choice === 0) f.add(r, r, other);
    else if (choice === 1) f.mov(r, other);
    else if (choice === 2) f.add(r, other, 3);
    else if (choice === 3) f.add("a1", "a1", 8);
    else f.sub("a1", "a1", 8);
  };
  const access = (f: FuncBuilder, load: boolean, size: 4 | 8, offset: number) => {
    const r = regs[pick(regs.length)]!;
    if (load) f.load(size, r, { base: "a1", offset });
    else f.store(size, pick(4) === 0 ? 0 : r, { base: "a1", offset });
  };
  for (let c = 0; c < 400; c++) {
    const steps: ((f: FuncBuilder) => void)[] = [];
    for (let k = 0; k < 3; k++) {
      const load = pick(2) === 0;
      const size = pick(2) === 0 ? 4 : 8;
      const offset = size * pick(3);
      const up = pick(2) === 0;
      const between = 1 + pick(2);
      steps.push((f) => {
        access(f, load, size, offset + (up ? 0 : size));
        for (let m = 0; m < between; m++) register(f);
        access(f, load, size, offset + (up ? size : 0));
      });
    }
    cases.push({
      name: `accesses around register instructions ${c}`,
      emit: (f) => {
        f.addr("a1", "wide", 64).mov("a0", 0x0102030405060708n).mov("a2", 0x1112131415161718n);
        for (let at = -16; at < 48; at += 8)
          f.store(8, at % 16 === 0 ? "a0" : "a2", { base: "a1", offset: at });
        for (const step of steps) step(f);
        f.addr("a1", "wide", 48);
        for (const [k, r] of (["s0", "s2", "s3", "s4", "a4", "a5"] as const).entries())
          f.load(8, r, { base: "a1", offset: k * 8 });
        f.mov("a1", 0);
      },
    });
  }
  agree(
    t,
    sweep(cases, (p) => p.bss("wide", 1024, 16)),
  );
});

/**
 * Random leaf functions from a small alphabet with forward branches, jumps and several returns:
 * their code repeats itself, so tail merging, fall-through merging, jump threading, branch chains
 * and selects all find work.
 */
function repetitive(p: ProgramBuilder, count: number, seed: bigint): string[] {
  const random = values(seed, count * 64);
  let next = 0;
  const pick = (n: number) => Number(random[next++ % random.length]! % BigInt(n));
  const names: string[] = [];
  for (let fn = 0; fn < count; fn++) {
    const name = `r${fn}`;
    names.push(name);
    const saves: SavedReg[] = pick(2) === 0 ? ["s0"] : [];
    p.func(name, { saves, frame: pick(3) * 8 }, (f) => {
      const length = 8 + pick(16);
      const labels = Array.from({ length: 6 }, (_, k) => `l${k}`);
      let placed = 0;
      for (let i = 0; i < length; i++) {
        if (placed < labels.length && pick(4) === 0) f.label(labels[placed++]!);
        const later = () => labels[placed + pick(labels.length - placed)]!;
        if (placed >= labels.length) break;
        switch (pick(10)) {
          case 0:
            f.add("a0", "a0", BigInt(1 + pick(3)));
            break;
          case 1:
            f.xor("a1", "a1", "a0");
            break;
          case 2:
            f.mov("a2", BigInt(pick(3)));
            break;
          case 3:
            f.br((["eq", "ne", "ltu", "gt"] as const)[pick(4)]!, "a0", BigInt(pick(5)), later());
            break;
          case 4:
            f.jmp(later());
            break;
          case 5:
            f.ret();
            break;
          case 6:
            if (saves.length > 0) f.add("s0", "a0", "a1");
            else f.sub("a1", "a1", 1);
            break;
          case 7:
            f.mul("a0", "a0", 10).add("a0", "a0", "a2");
            break;
          case 8:
            f.add("a1", "a0", 3).mov("a2", "a1");
            break;
          default:
            f.mov("a2", 1).br("ltu", "a0", 7, later()).mov("a2", 0);
        }
      }
      while (placed < labels.length) f.label(labels[placed++]!);
      // a1..a5 are the caller's to forget after a call: what they hold reaches a0 here.
      f.add("a0", "a0", "a2").xor("a0", "a0", "a1").ret();
    });
  }
  return names;
}

test("a64 merged, threaded and fused control flow agrees with the interpreter in random functions", (t) => {
  if (!requireCommands(t, QEMU, "apt-get install qemu-user-static")) return;
  let names: string[] = [];
  const cases: Case[] = [];
  for (let fn = 0; fn < 150; fn++)
    for (const input of [0n, 1n, 3n, 6n, 100n])
      cases.push({
        name: `r${fn}(${input})`,
        emit: (f) => {
          f.mov("a0", input).mov("a1", 5).mov("a2", 9).call(`r${fn}`);
          for (const r of ["a1", "a2", "a3", "a4", "a5"] as const) f.mov(r, 0);
        },
      });
  agree(
    t,
    sweep(cases, (p) => {
      names = repetitive(p, 150, 99n);
    }),
  );
  assert.equal(names.length, 150);
});

test("a64 frames and tail calls agree with the interpreter for every shape of frame and saved registers", (t) => {
  if (!requireCommands(t, QEMU, "apt-get install qemu-user-static")) return;
  const saveSets: SavedReg[][] = [
    [],
    ["s0"],
    ["s0", "s1"],
    ["s1", "s2", "s3"],
    ["s0", "s1", "s2", "s3", "s4"],
  ];
  const frames = [0, 8, 16, 24, 200, 480, 600, 5000];
  const shapes: { name: string; saves: SavedReg[]; frame: number; tail: boolean; also: boolean }[] = [];
  for (const saves of saveSets)
    for (const frame of frames)
      for (const [tail, also] of [
        [true, false],
        [true, true],
        [false, true],
      ] as const)
        shapes.push({ name: `f${shapes.length}`, saves, frame, tail, also });
  const cases: Case[] = shapes.map((s) => ({
    name: `${s.saves.join(",") || "no saves"}, frame ${s.frame}, ${s.tail ? "tail call" : "no tail call"}${s.also ? ", another call" : ""}`,
    emit: (f) => f.mov("a0", 5).mov("a1", 7).call(s.name).mov("a4", 0).mov("a5", 0),
  }));
  agree(
    t,
    sweep(cases, (p) => {
      // leaf(a0, a1) = a0 * 3 + a1; it writes a2 and a3 too, which callers see as clobbered.
      p.func("leaf", { frame: 16, saves: ["s5"] }, (f) =>
        f.mov("s5", 1).mul("a0", "a0", 3).add("a0", "a0", "a1").mov("a2", 0).mov("a3", 0).ret(),
      );
      for (const s of shapes)
        p.func(s.name, { frame: s.frame, saves: s.saves }, (f) => {
          // Fill the frame with a1, write every saved register, read back and mix into a0.
          for (let at = 0; at + 8 <= s.frame; at += 8) f.store(8, "a1", { base: "sp", offset: at });
          s.saves.forEach((r, k) => {
            f.add(r, "a0", k + 1);
          });
          if (s.also) f.call("leaf");
          if (s.frame >= 8) f.load(8, "a2", { base: "sp", offset: s.frame - 8 }).add("a0", "a0", "a2");
          for (const r of s.saves) f.add("a0", "a0", r);
          f.mov("a2", 0).mov("a3", 0);
          if (s.tail) f.mov("a1", 2).call("leaf");
          f.ret();
        });
    }),
  );
});
