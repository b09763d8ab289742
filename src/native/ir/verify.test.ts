import assert from "node:assert/strict";
import { test } from "node:test";
import { x64 } from "../target/x64/index.ts";
import { type FuncBuilder, ProgramBuilder } from "./builder.ts";
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
];

for (const [name, body, message, extra] of cases) {
  test(`verify() rejects ${name}, naming the function and instruction`, () => {
    assert.throws(
      () => verify(program(body, extra), x64),
      (e: Error) => message.test(e.message) && e.message.includes("main"),
    );
  });
}

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
