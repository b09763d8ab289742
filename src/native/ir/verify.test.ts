import assert from "node:assert/strict";
import { test } from "node:test";
import { x64 } from "../target/x64/index.ts";
import { type FuncBuilder, ProgramBuilder } from "./builder.ts";
import type { Insn, Reg } from "./types.ts";
import { verify } from "./verify.ts";

function program(body: (f: FuncBuilder) => void, extra?: (p: ProgramBuilder) => void) {
  const p = new ProgramBuilder();
  p.bss("buf", 64);
  extra?.(p);
  p.func("main", { frame: 16 }, body);
  return p.build("main");
}

const exit = (f: FuncBuilder) => f.mov("a0", 0).syscall("exit_group");

test("verify() accepts a well-formed program", () => {
  verify(
    program((f) => {
      f.addr("a0", "buf").store(1, 255, "a0").load(8, "a1", { base: "sp", offset: 8 });
      exit(f);
    }),
    x64,
  );
});

const cases: [string, (f: FuncBuilder) => void, RegExp, ((p: ProgramBuilder) => void)?][] = [
  ["undefined label", (f) => exit(f.jmp("nowhere")), /insn 0 "jmp nowhere": label "nowhere" is not defined/],
  ["duplicate label", (f) => exit(f.label("x").label("x")), /label "x" is defined twice/],
  ["unknown function", (f) => exit(f.call("missing")), /function "missing" is not defined/],
  ["unknown symbol", (f) => exit(f.addr("a0", "missing")), /symbol "missing" is not defined/],
  ["unknown syscall", (f) => exit(f.syscall("fork_bomb")), /syscall "fork_bomb" does not exist on x64/],
  ["shift out of range", (f) => exit(f.shl("a0", "a0", 64)), /shift count 64 is outside 0..63/],
  ["division by zero", (f) => exit(f.udiv("a0", "a0", 0)), /division by the constant 0/],
  [
    "frame access outside",
    (f) => exit(f.load(8, "a0", { base: "sp", offset: 12 })),
    /outside the 16-byte frame/,
  ],
  [
    "negative frame access",
    (f) => exit(f.store(1, 0, { base: "sp", offset: -1 })),
    /outside the 16-byte frame/,
  ],
  ["store immediate too wide", (f) => exit(f.store(1, 256, "a0")), /does not fit a 1-byte store/],
  [
    "bad scale",
    (f) => exit(f.load(4, "a0", { base: "a0", index: "a1", scale: 8 })),
    /scale 8 must be 1 or the access size 4/,
  ],
  [
    "displacement too wide",
    (f) => exit(f.load(8, "a0", { base: "a0", offset: 2 ** 31 })),
    /does not fit 32 bits/,
  ],
  ["falls off the end", (f) => f.mov("a0", 1), /last instruction must be ret, jmp/],
  ["a handoff from a frame", (f) => f.handoff("a0"), /only the entry function, with frame 0, may hand off/],
  [
    "a handoff to a saved register",
    (f) => f.handoff("s0" as "a0"),
    /handoff target s0 is not an argument register/,
  ],
  ["an empty function", () => {}, /last instruction must be ret, jmp/],
  ["a reserved register", (f) => exit(f.mov("rax" as Reg, 1)), /"rax" is not an IR register/],
  ["sp as a value", (f) => exit(f.add("a0", "sp" as Reg, 8)), /sp can only be the base of a memory operand/],
  [
    "sp as an index",
    (f) => exit(f.load(1, "a0", { base: "a1", index: "sp" as Reg })),
    /sp cannot be an index/,
  ],
  ["an immediate beyond 64 bits", (f) => exit(f.mov("a0", 1n << 64n)), /does not fit 64 bits/],
  [
    "a negative immediate beyond 64 bits",
    (f) => exit(f.br("eq", "a0", -(1n << 63n) - 1n, "x").label("x")),
    /does not fit 64 bits/,
  ],
  ["an access size of 3", (f) => exit(f.load(3 as 1, "a0", "a1")), /access size 3 is not 1, 2, 4 or 8/],
  [
    "an unknown operation",
    (f) => exit(f.emit({ op: "bin", kind: "rol", dst: "a0", a: "a0", b: 1n } as unknown as Insn)),
    /unknown operation "rol"/,
  ],
  [
    "an unknown condition",
    (f) =>
      exit(f.emit({ op: "br", cond: "carry", a: "a0", b: 1n, target: "x" } as unknown as Insn).label("x")),
    /unknown condition "carry"/,
  ],
  [
    "an unknown instruction",
    (f) => exit(f.emit({ op: "push" } as unknown as Insn)),
    /insn 0 "push": unknown instruction "push"/,
  ],
  ["a return from the entry function", (f) => f.ret(), /entry function has no caller to return to/],
];

for (const [name, body, message, extra] of cases) {
  test(`verify() rejects ${name}, naming the function and instruction`, () => {
    assert.throws(
      () => verify(program(body, extra), x64),
      (e: Error) => message.test(e.message) && e.message.includes("main"),
    );
  });
}

test("verify() accepts a handoff only from the entry function with frame 0", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.call("elsewhere").handoff("a0"));
  p.func("elsewhere", {}, (f) => f.handoff("a1"));
  assert.throws(
    () => verify(p.build("main")),
    /fn elsewhere, insn 0 "handoff a1": handoff needs the kernel's stack/,
  );
  const ok = new ProgramBuilder();
  ok.func("main", {}, (f) => f.mov("a0", 0x400000).handoff("a0"));
  verify(ok.build("main"));
});

test("verify() rejects writes to saved registers a function does not save", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.call("helper").mov("a0", 0).syscall("exit_group"));
  p.func("helper", { saves: ["s0"] }, (f) => f.mov("s0", 1).mov("s1", 2).ret());
  assert.throws(() => verify(p.build("main")), /fn helper, insn 1 "mov s1, 2": writes s1/);
});

test("verify() rejects names defined twice and bad data", () => {
  const twice = new ProgramBuilder();
  twice.bss("x", 8).rodata("x", "y");
  twice.func("main", {}, exit);
  assert.throws(() => twice.build("main"), /"x" is defined twice/);
  const misaligned = new ProgramBuilder();
  misaligned.bss("x", 8, 3).func("main", {}, exit);
  assert.throws(() => verify(misaligned.build("main")), /alignment 3 is not a power of two/);
});

test("verify() rejects a saves list naming a register twice or a non-saved register", () => {
  const twice = new ProgramBuilder();
  twice.func("main", {}, exit);
  twice.func("f", { saves: ["s0", "s0"] }, (f) => f.ret());
  assert.throws(() => verify(twice.build("main")), /fn f: saves lists a register twice/);
  const wrong = new ProgramBuilder();
  wrong.func("main", {}, exit);
  wrong.func("f", { saves: ["a0" as "s0"] }, (f) => f.ret());
  assert.throws(() => verify(wrong.build("main")), /fn f: only s0..s5 can be listed in saves, not a0/);
});

test("verify() rejects data the linker cannot place", () => {
  const huge = new ProgramBuilder();
  huge.bss("x", 8, 1 << 17).func("main", {}, exit);
  assert.throws(() => verify(huge.build("main")), /alignment 131072 is over the 64 KiB/);
  const mismatch = new ProgramBuilder();
  mismatch.func("main", {}, exit);
  const program = mismatch.build("main");
  program.data.push({ name: "d", kind: "data", align: 8, bytes: new Uint8Array(4), size: 8 });
  assert.throws(() => verify(program), /data d: size 8 does not match its 4 bytes/);
});

test("verify() accepts a restorer that ends in rt_sigreturn and an entry that writes saved registers", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => exit(f.mov("s0", 1)));
  p.func("restorer", {}, (f) => f.syscall("rt_sigreturn"));
  verify(p.build("main"), x64);
});
