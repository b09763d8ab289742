import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type FuncBuilder, ProgramBuilder } from "../../ir/builder.ts";
import { formatInsn } from "../../ir/format.ts";
import { interpret } from "../../ir/interpret.ts";
import { analyzeLiveness } from "../../ir/liveness.ts";
import { streamSyscalls } from "../../ir/streams.ts";
import { ARG_REGS, type Program } from "../../ir/types.ts";
import { verify } from "../../ir/verify.ts";
import { chooseArgs } from "./webs.ts";

const bodyOf = (program: Program, name: string) =>
  program.funcs.find((f) => f.name === name)!.body.map(formatInsn);

function withMain(f: (f: FuncBuilder) => void): Program {
  const p = new ProgramBuilder();
  p.bss("out", 8);
  p.func("main", {}, (m) => {
    m.mov("a0", 7).mov("a1", 9).call("f").addr("a1", "out").store(8, "a0", "a1");
    m.mov("a0", 1).mov("a2", 8).syscall("write").mov("a0", 0).syscall("exit_group");
  });
  p.func("f", {}, f);
  return p.build("main");
}

const renamed = (p: Program) => chooseArgs(p, analyzeLiveness(p));

test("a value that never meets the convention moves from a3..a5 into a free one of a0..a2", () => {
  // a0 and a1 are f's arguments and a0 its result; a3's values are f's own (the add keeps both in
  // one register, two-address), and a2 is free
  const p = withMain((f) => f.mov("a3", 5).add("a3", "a3", "a1").add("a0", "a0", "a3").ret());
  assert.deepEqual(bodyOf(renamed(p), "f"), ["mov a2, 5", "add a2, a2, a1", "add a0, a0, a2", "ret"]);
});

test("values the convention reads or writes stay where they are", () => {
  // a3 is prlimit64's fourth argument; a4 is live while a0..a2 all are
  const p = withMain((f) =>
    f
      .mov("a2", 0)
      .mov("a3", 0)
      .syscall("prlimit64")
      .mov("a4", 3)
      .add("a2", "a0", "a1")
      .add("a2", "a2", "a4")
      .add("a0", "a2", "a1")
      .ret(),
  );
  assert.deepEqual(bodyOf(renamed(p), "f"), bodyOf(p, "f"));
});

// Random functions over a0..a5 (arguments a0 and a1, result a0): renaming must not change what
// they compute, whatever their branches, loops and calls.
type Op =
  | { kind: "set"; dst: number; value: number }
  | { kind: "add"; dst: number; a: number; b: number }
  | { kind: "skip"; reg: number; value: number }
  | { kind: "loop"; reg: number }
  | { kind: "call" };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), dst: fc.nat(5), value: fc.nat(50) }),
  fc.record({ kind: fc.constant("add" as const), dst: fc.nat(5), a: fc.nat(5), b: fc.nat(5) }),
  fc.record({ kind: fc.constant("skip" as const), reg: fc.nat(5), value: fc.nat(3) }),
  // a5 counts the loop's turns
  fc.record({ kind: fc.constant("loop" as const), reg: fc.nat(4) }),
  fc.record({ kind: fc.constant("call" as const) }),
);

function randomProgram(ops: Op[]): Program {
  const p = new ProgramBuilder();
  p.bss("out", 16);
  p.func("main", {}, (m) => {
    for (const [k, [a, b]] of [
      [3, 4],
      [10, 1],
    ].entries()) {
      m.mov("a0", a!)
        .mov("a1", b!)
        .call("f")
        .addr("a1", "out")
        .store(8, "a0", { base: "a1", offset: 8 * k });
    }
    m.mov("a0", 1).addr("a1", "out").mov("a2", 16).syscall("write").mov("a0", 0).syscall("exit_group");
  });
  p.func("g", {}, (g) => g.add("a0", "a0", 1).mov("a2", 2).ret());
  p.func("f", {}, (f) => {
    for (const r of ARG_REGS.slice(2)) f.mov(r, 1);
    ops.forEach((o, i) => {
      const reg = (k: number) => ARG_REGS[k]!;
      if (o.kind === "set") f.mov(reg(o.dst), o.value);
      else if (o.kind === "add") f.add(reg(o.dst), reg(o.a), reg(o.b)).and(reg(o.dst), reg(o.dst), 0xffff);
      else if (o.kind === "skip")
        f.br("eq", reg(o.reg), o.value, `skip${i}`).add(reg(o.reg), reg(o.reg), 3).label(`skip${i}`);
      else if (o.kind === "loop") {
        f.mov("a5", 3).label(`loop${i}`).add(reg(o.reg), reg(o.reg), 2).sub("a5", "a5", 1);
        f.br("ne", "a5", 0, `loop${i}`);
      } else f.call("g");
    });
    f.ret();
  });
  return p.build("main");
}

test("renaming keeps the meaning of random functions", () => {
  let moved = 0;
  fc.assert(
    fc.property(fc.array(op, { maxLength: 14 }), (ops) => {
      const program = randomProgram(ops);
      verify(program);
      const after = renamed(program);
      verify(after);
      const run = (prog: Program) => {
        const streams = streamSyscalls({});
        interpret(prog, { syscall: streams.handler });
        return Buffer.from(streams.bytes(1)).toString("hex");
      };
      assert.equal(run(after), run(program));
      if (bodyOf(after, "f").join() !== bodyOf(program, "f").join()) moved += 1;
    }),
    { numRuns: 600, seed: 5 },
  );
  assert.ok(moved > 100, `only ${moved} of 600 functions had a value moved`);
});
