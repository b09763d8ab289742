import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type FuncBuilder, ProgramBuilder } from "./builder.ts";
import { formatInsn } from "./format.ts";
import { interpret } from "./interpret.ts";
import { optimize } from "./optimize.ts";
import { streamSyscalls } from "./streams.ts";
import type { Program, Reg, SavedReg } from "./types.ts";
import { verify } from "./verify.ts";

const exit = (f: FuncBuilder) => f.mov("a0", 0).syscall("exit_group");

function bodyOf(program: Program, name: string): string[] {
  return program.funcs.find((f) => f.name === name)!.body.map(formatInsn);
}

test("optimize() drops functions and data nothing reaches from the entry", () => {
  const p = new ProgramBuilder();
  p.rodata("used", "x").rodata("unused", "y").bss("dead_only", 8);
  // Every function is called twice, so none is inlined.
  p.func("main", {}, (f) =>
    exit(f.call("a").call("a").addr("a1", "handler").addr("a2", "used").mov("a0", 1).syscall("write")),
  );
  p.func("a", {}, (f) => f.call("b").call("b").ret());
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

test("optimize() sends a known constant straight where the branches on it go, and drops moves nothing reads", () => {
  const p = new ProgramBuilder();
  p.bss("out", 8);
  // status(): 0 or 1, inlined into main, which branches on it
  p.func("main", {}, (f) => {
    f.call("status").br("eq", "a0", 0, "good").mov("a0", 2).syscall("exit_group");
    f.label("good").mov("a1", 7).addr("a2", "out").store(8, 1, "a2").mov("a0", 0).syscall("exit_group");
  });
  p.func("status", {}, (f) => {
    f.load(8, "a1", "a0").br("eq", "a1", 0, "zero").mov("a0", 1).jmp("done");
    f.label("zero").mov("a0", 0);
    f.label("done").ret();
  });
  assert.deepEqual(bodyOf(optimize(p.build("main")), "main"), [
    "load64 a1, [a0]",
    "br eq a1, 0, good",
    "mov a0, 2",
    "syscall exit_group",
    "good:",
    "addr a2, out",
    "store64 [a2], 1",
    "mov a0, 0",
    "syscall exit_group",
  ]);
});

test("optimize() computes a value that is only copied straight into the copy, and reads through a copy read once", () => {
  const p = new ProgramBuilder();
  p.bss("out", 16);
  p.func("main", {}, (f) => {
    f.addr("a1", "out").add("a0", "a1", 8).mov("a3", "a0").store(8, 5, "a3");
    f.mov("a4", "a1").load(8, "a0", { base: "a4", offset: 8 }).syscall("exit_group");
  });
  assert.deepEqual(bodyOf(optimize(p.build("main")), "main"), [
    "addr a1, out",
    "add a3, a1, 8",
    "store64 [a3], 5",
    "load64 a0, [a1 + 8]",
    "syscall exit_group",
  ]);
});

test("optimize() merges paths that end alike into one copy (cross-jumping)", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => {
    f.br("eq", "a0", 0, "other").store(8, 2, "a1").mov("a0", 1).syscall("exit_group");
    f.label("other").store(8, 3, "a1").mov("a0", 1).syscall("exit_group");
  });
  assert.deepEqual(bodyOf(optimize(p.build("main")), "main"), [
    "br eq a0, 0, other",
    "store64 [a1], 2",
    "tail.1:",
    "mov a0, 1",
    "syscall exit_group",
    "other:",
    "store64 [a1], 3",
    "jmp tail.1",
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
  | { kind: "set"; value: number }
  | { kind: "test"; ahead: number; against: number }
  | { kind: "use" }
  | { kind: "copy" }
  | { kind: "via"; value: number }
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
  // constants in a2, branched on (threading) and read or left dead (dead moves)
  fc.record({ kind: fc.constant("set" as const), value: fc.integer({ min: 0, max: 3 }) }),
  fc.record({
    kind: fc.constant("test" as const),
    ahead: fc.integer({ min: 1, max: 5 }),
    against: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant("use" as const) }),
  // copies between registers, read by the next instruction or later (copy propagation)
  fc.record({ kind: fc.constant("copy" as const) }),
  fc.record({ kind: fc.constant("via" as const), value: fc.integer({ min: 1, max: 99 }) }),
  fc.record({ kind: fc.constant("ret" as const) }),
);

/**
 * `f` of the steps, and a main that calls it once per input (so it is not inlined) and writes each
 * result: optimize() sees the whole program, so a result only counts when a caller reads it.
 */
function randomProgram(steps: Step[], inputs: readonly bigint[] = []): Program {
  const p = new ProgramBuilder();
  p.bss("results", 8 * Math.max(inputs.length, 1));
  p.func("main", {}, (f) => {
    inputs.forEach((input, k) => {
      f.mov("a0", input)
        .mov("a2", 0)
        .mov("a3", 0)
        .call("f")
        .addr("a1", "results")
        .store(8, "a0", {
          base: "a1",
          offset: 8 * k,
        });
    });
    f.mov("a0", 1)
      .addr("a1", "results")
      .mov("a2", 8 * inputs.length)
      .syscall("write");
    exit(f);
  });
  p.func("f", {}, (f) => {
    const labelAt = (i: number) => `L${Math.min(i, steps.length)}`;
    steps.forEach((s, i) => {
      if (s.kind === "label") f.label(labelAt(i));
      else if (s.kind === "add") f.add("a0", "a0", s.value);
      else if (s.kind === "xor") f.xor("a0", "a0", s.value);
      else if (s.kind === "ret") f.ret();
      else if (s.kind === "jmp") f.jmp(labelAt(i + s.ahead));
      else if (s.kind === "set") f.mov("a2", s.value);
      else if (s.kind === "test") f.br("ltu", "a2", s.against, labelAt(i + s.ahead));
      else if (s.kind === "use") f.add("a0", "a0", "a2");
      else if (s.kind === "copy") f.mov("a3", "a0");
      else if (s.kind === "via") f.add("a3", "a3", s.value).mov("a0", "a3");
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
        const program = randomProgram(steps, inputs);
        verify(program);
        const optimized = optimize(program);
        verify(optimized);
        const run = (prog: Program) => {
          const streams = streamSyscalls({});
          interpret(prog, { syscall: streams.handler });
          return Buffer.from(streams.bytes(1)).toString("hex");
        };
        assert.equal(run(optimized), run(program));
        // labels cost no bytes: the optimizer may add one where a thread lands
        const size = (p: Program) =>
          p.funcs.reduce((n, f) => n + f.body.filter((insn) => insn.op !== "label").length, 0);
        assert.ok(size(optimized) <= size(program));
        if (size(optimized) < size(program)) shrunk += 1;
      },
    ),
    { numRuns: 500, seed: 3 },
  );
  assert.ok(shrunk > 200, `only ${shrunk} of 500 programs had anything to remove`);
});

test("optimize() inlines a function called once, moving its saved registers off the caller's live ones", () => {
  const p = new ProgramBuilder();
  p.bss("out", 8);
  p.func("main", {}, (f) => {
    f.mov("a0", 5).call("outer").addr("a1", "out").store(8, "a0", "a1");
    f.call("twice").call("twice").mov("a0", 1).addr("a1", "out").mov("a2", 8).syscall("write");
    exit(f);
  });
  p.func("outer", { frame: 16, saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0").store(8, "a0", "sp").mov("s1", 3).call("inner");
    f.load(8, "a1", { base: "sp", offset: 0 })
      .add("a0", "a0", "a1")
      .add("a0", "a0", "s0")
      .add("a0", "a0", "s1");
    f.ret();
  });
  // inner's s0 would clobber outer's, which is read after the call: it moves to a free register.
  p.func("inner", { frame: 8, saves: ["s0"] }, (f) => {
    const loop = f.newLabel("loop");
    f.mov("s0", 4).store(8, 10, "sp").label(loop).sub("s0", "s0", 1).br("ne", "s0", 0, loop);
    f.load(8, "a0", "sp").add("a0", "a0", "s0").ret();
  });
  p.func("twice", {}, (f) => f.ret());
  const program = p.build("main");
  const out = optimize(program);
  verify(out);
  assert.deepEqual(
    out.funcs.map((f) => f.name),
    ["main", "twice"],
  );
  const main = out.funcs[0]!;
  assert.deepEqual(main.saves, [], "the entry saves nothing");
  assert.equal(main.frame, 16 + 8, "frames stack: outer's, then inner's above it");
  assert.ok(!main.body.some((insn) => insn.op === "call" && insn.fn !== "twice"));
  const result = (prog: Program) => {
    const streams = streamSyscalls({});
    interpret(prog, { syscall: streams.handler });
    return Buffer.from(streams.bytes(1)).readBigUInt64LE();
  };
  assert.equal(result(out), result(program));
  assert.equal(result(out), 10n + 5n + 5n + 3n);
});

test("optimize() keeps a call whose callee's saved registers cannot move", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => {
    for (const r of ["s0", "s1", "s2", "s3", "s4"] as const) f.mov(r, 1);
    f.call("once").add("a0", "s0", "s1").add("a0", "a0", "s2").add("a0", "a0", "s3").add("a0", "a0", "s4");
    f.syscall("exit_group");
  });
  // once needs two registers of its own, and only s5 is free.
  p.func("once", { saves: ["s0", "s1"] }, (f) => f.mov("s0", 2).mov("s1", 2).add("a0", "s0", "s1").ret());
  const out = optimize(p.build("main"));
  assert.deepEqual(
    out.funcs.map((f) => f.name),
    ["main", "once"],
  );
});

// Random call trees where most functions have one caller: inlining them (and moving their saved
// registers) must leave every register the entry dumps and every output byte as they were.
type Op =
  | { kind: "set"; reg: number; value: number }
  | { kind: "mix"; dst: number; src: number }
  | { kind: "spill"; reg: number; slot: number }
  | { kind: "reload"; reg: number; slot: number }
  | { kind: "loop"; reg: number; count: number }
  | { kind: "call"; target: number };

const TREE_REGS = ["a0", "a1", "s0", "s1", "s2", "s3"] as const;
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), reg: fc.nat(5), value: fc.nat(1000) }),
  fc.record({ kind: fc.constant("mix" as const), dst: fc.nat(5), src: fc.nat(5) }),
  fc.record({ kind: fc.constant("spill" as const), reg: fc.nat(5), slot: fc.nat(1) }),
  fc.record({ kind: fc.constant("reload" as const), reg: fc.nat(5), slot: fc.nat(1) }),
  fc.record({ kind: fc.constant("loop" as const), reg: fc.nat(5), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("call" as const), target: fc.nat(5) }),
);
const treeFunc = fc.record({
  saves: fc.subarray(["s0", "s1", "s2", "s3"] as const),
  frame: fc.constantFrom(0, 8, 16),
  ops: fc.array(op, { maxLength: 10 }),
});

function callTree(funcs: { saves: SavedReg[]; frame: number; ops: Op[] }[]): Program {
  const p = new ProgramBuilder();
  p.bss("out", 8 * 7);
  const emit = (f: FuncBuilder, ops: Op[], self: number, frame: number, saves: readonly SavedReg[]) => {
    // Registers a function may not write become a1; a frame it lacks makes spills and reloads no-ops.
    const reg = (i: number) => {
      const r = TREE_REGS[i]!;
      return r.startsWith("s") && self >= 0 && !saves.includes(r as SavedReg) ? "a1" : r;
    };
    for (const o of ops) {
      if (o.kind === "set") f.mov(reg(o.reg), o.value);
      else if (o.kind === "mix")
        f.add(reg(o.dst), reg(o.dst), TREE_REGS[o.src]!).xor(reg(o.dst), reg(o.dst), 5);
      else if (o.kind === "spill" && o.slot * 8 < frame)
        f.store(8, TREE_REGS[o.reg]!, { base: "sp", offset: o.slot * 8 });
      else if (o.kind === "reload" && o.slot * 8 < frame)
        f.load(8, reg(o.reg), { base: "sp", offset: o.slot * 8 });
      else if (o.kind === "loop") {
        const top = f.newLabel("top");
        f.mov("a2", o.count)
          .label(top)
          .add(reg(o.reg), reg(o.reg), 3)
          .sub("a2", "a2", 1)
          .br("ne", "a2", 0, top);
      } else if (o.kind === "call" && o.target > self && o.target < funcs.length) f.call(`f${o.target}`);
    }
  };
  p.func("main", { frame: 16 }, (f) => {
    TREE_REGS.forEach((r, i) => {
      f.mov(r, 100 + i);
    });
    emit(f, [{ kind: "call", target: 0 }], -1, 16, []);
    f.mov("s4", "a0").addr("a0", "out");
    ["s4", "a1", "s0", "s1", "s2", "s3"].forEach((r, i) => {
      f.store(8, r as Reg, { base: "a0", offset: i * 8 });
    });
    f.mov("a0", 1).addr("a1", "out").mov("a2", 48).syscall("write").mov("a0", 0).syscall("exit_group");
  });
  funcs.forEach((fn, i) => {
    p.func(`f${i}`, { frame: fn.frame, saves: fn.saves }, (f) => {
      emit(f, fn.ops, i, fn.frame, fn.saves);
      f.ret();
    });
  });
  return p.build("main");
}

test("optimize() keeps the meaning of random call trees it inlines", () => {
  let inlined = 0;
  fc.assert(
    fc.property(fc.array(treeFunc, { minLength: 1, maxLength: 6 }), (funcs) => {
      const program = callTree(funcs);
      verify(program);
      const optimized = optimize(program);
      verify(optimized);
      const run = (prog: Program) => {
        const streams = streamSyscalls({});
        interpret(prog, { syscall: streams.handler });
        return Buffer.from(streams.bytes(1)).toString("hex");
      };
      assert.equal(run(optimized), run(program));
      if (optimized.funcs.length < program.funcs.length) inlined += 1;
    }),
    { numRuns: 400, seed: 11 },
  );
  assert.ok(inlined > 200, `only ${inlined} of 400 programs had a function inlined`);
});
