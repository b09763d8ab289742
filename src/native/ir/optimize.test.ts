import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type FuncBuilder, ProgramBuilder } from "./builder.ts";
import { formatInsn } from "./format.ts";
import { Machine } from "./interpret.ts";
import { optimize } from "./optimize.ts";
import type { Program } from "./types.ts";
import { verify } from "./verify.ts";

const exit = (f: FuncBuilder) => f.mov("a0", 0).syscall("exit_group");

function bodyOf(program: Program, name: string): string[] {
  return program.funcs.find((f) => f.name === name)!.body.map(formatInsn);
}

test("optimize() drops functions and data nothing reaches from the entry", () => {
  const p = new ProgramBuilder();
  p.rodata("used", "x").rodata("unused", "y").bss("dead_only", 8);
  p.func("main", {}, (f) => exit(f.call("a").addr("a1", "handler").addr("a2", "used")));
  p.func("a", {}, (f) => f.call("b").ret());
  p.func("b", {}, (f) => f.ret());
  p.func("handler", {}, (f) => f.ret());
  p.func("dead", {}, (f) => f.call("dead2").addr("a0", "dead_only").ret());
  p.func("dead2", {}, (f) => f.ret());
  const out = optimize(p.build("main"));
  assert.deepEqual(
    out.funcs.map((f) => f.name),
    ["main", "a", "b", "handler"],
  );
  assert.deepEqual(
    out.data.map((d) => d.name),
    ["used"],
  );
});

test("optimize() removes unreachable code, branches to the next instruction and unused labels", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => {
    f.br("eq", "a0", 0, "next").label("next").jmp("go").label("unused").mov("a1", 1);
    f.label("go").mov("a0", 0).syscall("exit_group").mov("a0", 1).ret();
  });
  assert.deepEqual(bodyOf(optimize(p.build("main")), "main"), ["mov a0, 0", "syscall exit_group"]);
});

test("optimize() threads jumps to jumps, also through cycles without hanging", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => {
    f.br("ne", "a0", 0, "one").mov("a0", 2).syscall("exit_group");
    f.label("one").jmp("two");
    f.label("two").jmp("three");
    f.label("three").mov("a0", 3).syscall("exit_group");
  });
  p.func("spin", {}, (f) => f.label("x").jmp("y").label("y").jmp("x"));
  const out = optimize(p.build("main"));
  assert.deepEqual(bodyOf(out, "main"), [
    "br ne a0, 0, three",
    "mov a0, 2",
    "syscall exit_group",
    "three:",
    "mov a0, 3",
    "syscall exit_group",
  ]);
});

test("optimize() leaves a program that needs nothing removed untouched", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => {
    const loop = f.newLabel("loop");
    f.mov("a1", 10).label(loop).sub("a1", "a1", 1).br("ne", "a1", 0, loop);
    exit(f);
  });
  const program = p.build("main");
  const out = optimize(program);
  assert.deepEqual(out, program);
  assert.equal(out.funcs[0], program.funcs[0], "unchanged functions are shared, not copied");
});

// Random functions of forward jumps, branches, returns and arithmetic: optimizing them must
// not change what they compute.
type Step =
  | { kind: "add"; value: number }
  | { kind: "xor"; value: number }
  | { kind: "label" }
  | { kind: "jmp"; ahead: number }
  | { kind: "br"; ahead: number; against: number }
  | { kind: "ret" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("add" as const), value: fc.integer({ min: 1, max: 99 }) }),
  fc.record({ kind: fc.constant("xor" as const), value: fc.integer({ min: 1, max: 99 }) }),
  fc.record({ kind: fc.constant("label" as const) }),
  fc.record({ kind: fc.constant("jmp" as const), ahead: fc.integer({ min: 1, max: 5 }) }),
  fc.record({
    kind: fc.constant("br" as const),
    ahead: fc.integer({ min: 1, max: 5 }),
    against: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant("ret" as const) }),
);

function randomProgram(steps: Step[]): Program {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => exit(f.call("f")));
  p.func("f", {}, (f) => {
    const labelAt = (i: number) => `L${Math.min(i, steps.length)}`;
    steps.forEach((s, i) => {
      if (s.kind === "label") f.label(labelAt(i));
      else if (s.kind === "add") f.add("a0", "a0", s.value);
      else if (s.kind === "xor") f.xor("a0", "a0", s.value);
      else if (s.kind === "ret") f.ret();
      else if (s.kind === "jmp") f.jmp(labelAt(i + s.ahead));
      else f.and("a2", "a0", 3).br("eq", "a2", s.against, labelAt(i + s.ahead));
    });
    f.label(labelAt(steps.length)).ret();
    // Every label a jump can name must exist once: add the missing ones where they belong.
    const present = new Set(f.body.flatMap((insn) => (insn.op === "label" ? [insn.name] : [])));
    const needed = new Set(
      f.body.flatMap((insn) => (insn.op === "jmp" || insn.op === "br" ? [insn.target] : [])),
    );
    for (const name of [...needed].filter((n) => !present.has(n)).sort()) {
      const at = Number(name.slice(1));
      const index = f.body.findIndex((insn) => insn.op === "label" && Number(insn.name.slice(1)) > at);
      f.body.splice(index, 0, { op: "label", name });
    }
  });
  return p.build("main");
}

test("optimize() keeps the meaning of random programs of jumps, branches and returns", () => {
  let shrunk = 0;
  fc.assert(
    fc.property(
      fc.array(step, { maxLength: 30 }),
      fc.array(fc.bigInt({ min: 0n, max: 1000n }), { minLength: 4, maxLength: 4 }),
      (steps, inputs) => {
        const program = randomProgram(steps);
        verify(program);
        const optimized = optimize(program);
        verify(optimized);
        const before = new Machine(program, { syscall: () => 0n });
        const after = new Machine(optimized, { syscall: () => 0n });
        for (const input of inputs) assert.equal(after.call("f", [input]), before.call("f", [input]));
        const size = (p: Program) => p.funcs.reduce((n, f) => n + f.body.length, 0);
        assert.ok(size(optimized) <= size(program));
        if (size(optimized) < size(program)) shrunk += 1;
      },
    ),
    { numRuns: 500, seed: 3 },
  );
  assert.ok(shrunk > 200, `only ${shrunk} of 500 programs had anything to remove`);
});
