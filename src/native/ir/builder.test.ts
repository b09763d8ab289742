import assert from "node:assert/strict";
import { test } from "node:test";
import { type FuncBuilder, ProgramBuilder } from "./builder.ts";
import { formatInsn, formatProgram } from "./format.ts";

/** Each builder call and the instruction text it must produce. */
const calls: [(f: FuncBuilder) => void, string][] = [
  [(f) => f.mov("a0", 1), "mov a0, 1"],
  [(f) => f.mov("a0", -1n), "mov a0, -1"],
  [(f) => f.mov("s0", "a5"), "mov s0, a5"],
  [(f) => f.add("a0", "a1", 2), "add a0, a1, 2"],
  [(f) => f.sub("a0", "a1", "a2"), "sub a0, a1, a2"],
  [(f) => f.mul("a0", "a0", 10), "mul a0, a0, 10"],
  [(f) => f.udiv("a0", "a0", 10), "udiv a0, a0, 10"],
  [(f) => f.urem("a0", "a0", "a3"), "urem a0, a0, a3"],
  [(f) => f.and("a0", "a0", 0xff), "and a0, a0, 255"],
  [(f) => f.or("a0", "a0", "a1"), "or a0, a0, a1"],
  [(f) => f.xor("a0", "a0", "a0"), "xor a0, a0, a0"],
  [(f) => f.shl("a0", "a0", 3), "shl a0, a0, 3"],
  [(f) => f.shr("a0", "a0", "a1"), "shr a0, a0, a1"],
  [(f) => f.sar("a0", "a0", 63), "sar a0, a0, 63"],
  [(f) => f.neg("a0", "a1"), "neg a0, a1"],
  [(f) => f.not("a0", "a1"), "not a0, a1"],
  [(f) => f.load(1, "a0", "a1"), "load8 a0, [a1]"],
  [(f) => f.load(8, "a0", { base: "sp", offset: 8 }), "load64 a0, [sp + 8]"],
  [(f) => f.load(4, "a0", { base: "s0", index: "a1", scale: 4, offset: -4 }), "load32 a0, [s0 + a1 * 4 - 4]"],
  [(f) => f.store(2, 7, { base: "a0", index: "a1" }), "store16 [a0 + a1], 7"],
  [(f) => f.store(8, "s1", "a0"), "store64 [a0], s1"],
  [(f) => f.addr("a1", "msg"), "addr a1, msg"],
  [(f) => f.addr("a1", "msg", 4), "addr a1, msg + 4"],
  [(f) => f.label("top"), "top:"],
  [(f) => f.jmp("top"), "jmp top"],
  [(f) => f.br("ltu", "a0", 300, "done"), "br ltu a0, 300, done"],
  [(f) => f.call("helper"), "call helper"],
  [(f) => f.ret(), "ret"],
  [(f) => f.syscall("write"), "syscall write"],
];

for (const [call, text] of calls) {
  test(`FuncBuilder emits "${text}"`, () => {
    const p = new ProgramBuilder();
    let body: string[] = [];
    p.func("main", {}, (f) => {
      call(f);
      body = f.body.map(formatInsn);
    });
    assert.deepEqual(body, [text]);
  });
}

test("FuncBuilder stores numbers as bigints and fills in omitted memory fields", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => {
    f.mov("a0", 5).store(1, 3, { base: "a1" }).load(8, "a2", "sp");
  });
  const [mov, store, load] = p.build("main").funcs[0]!.body;
  assert.deepEqual(mov, { op: "mov", dst: "a0", src: 5n });
  assert.deepEqual(store, { op: "store", size: 1, src: 3n, mem: { base: "a1", offset: 0 } });
  assert.deepEqual(load, { op: "load", size: 8, dst: "a2", mem: { base: "sp", offset: 0 } });
});

test("newLabel() never repeats within a function and is local to it", () => {
  const p = new ProgramBuilder();
  const names: string[][] = [];
  for (const name of ["one", "two"])
    p.func(name, {}, (f) => {
      names.push([f.newLabel("loop"), f.newLabel("loop"), f.newLabel("done"), f.newLabel()]);
      f.ret();
    });
  for (const labels of names) assert.equal(new Set(labels).size, labels.length);
  assert.match(names[0]![0]!, /loop/);
  assert.deepEqual(names[0], names[1], "each function numbers its own labels");
});

test("ProgramBuilder records frames, saves and data of every kind", () => {
  const p = new ProgramBuilder();
  p.rodata("msg", "hé").data("counter", new Uint8Array(8)).bss("buf", 4096, 64);
  p.func("main", { frame: 24, saves: ["s0", "s2"] }, (f) => f.mov("a0", 0).syscall("exit_group"));
  p.func("leaf", {}, (f) => f.ret());
  assert.ok(p.has("buf") && p.has("leaf") && !p.has("nothing"));
  const program = p.build("main");
  assert.equal(program.entry, "main");
  assert.deepEqual(
    program.funcs.map((f) => [f.name, f.frame, f.saves]),
    [
      ["main", 24, ["s0", "s2"]],
      ["leaf", 0, []],
    ],
  );
  assert.deepEqual(program.data, [
    { name: "msg", kind: "rodata", align: 1, bytes: new Uint8Array([0x68, 0xc3, 0xa9]), size: 3 },
    { name: "counter", kind: "data", align: 8, bytes: new Uint8Array(8), size: 8 },
    { name: "buf", kind: "bss", align: 64, size: 4096 },
  ]);
});

test("build() rejects a missing entry and names defined twice", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.ret());
  assert.throws(() => p.build("start"), /entry function "start" is not defined/);
  p.bss("main", 8);
  assert.throws(() => p.build("main"), /the name "main" is defined twice/);
});

test("formatProgram() lists data and every function with its frame, saves and body", () => {
  const p = new ProgramBuilder();
  p.rodata("msg", "hi\n").bss("buf", 64, 16);
  p.func("main", {}, (f) => f.call("count").syscall("exit_group"));
  p.func("count", { frame: 16, saves: ["s0", "s1"] }, (f) => f.mov("s0", 0).label("loop").jmp("loop"));
  assert.equal(
    formatProgram(p.build("main")),
    [
      "entry main",
      "rodata msg: 3 bytes",
      "bss buf: 64 bytes, align 16",
      "",
      "fn main (frame 0)",
      "  call count",
      "  syscall exit_group",
      "",
      "fn count (frame 16, saves s0 s1)",
      "  mov s0, 0",
      "loop:",
      "  jmp loop",
      "",
    ].join("\n"),
  );
});
