import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgramBuilder } from "./ir/builder.ts";
import { link } from "./link.ts";
import { costTable, functionTable, opCosts, opKindBytes, SAMPLE_INSNS, sizeReport } from "./report.ts";
import { TARGETS } from "./target/index.ts";

test("opCosts() prices every sample instruction on every target", () => {
  for (const target of Object.values(TARGETS)) {
    const costs = opCosts(target);
    assert.equal(costs.length, SAMPLE_INSNS.length);
    const cost = (label: string) => costs.find((c) => c.label === label)!.bytes;
    assert.ok(cost("mov reg, reg") > 0);
    if (target.name === "a64") for (const c of costs) assert.equal(c.bytes % 4, 0, c.label);
    // shortest forms: a zero and a small constant are never dearer than a 64-bit constant
    assert.ok(cost("mov reg, 0") <= cost("mov reg, 100"));
    assert.ok(cost("mov reg, 100") < cost("mov reg, 2^40+1"));
    for (const c of costs)
      if (c.label !== "mov reg, 0") assert.ok(c.bytes > 0, `${target.name}: ${c.label} costs bytes`);
  }
  const x = opCosts(TARGETS.x64);
  assert.equal(x.find((c) => c.label === "mov reg, 0")!.bytes, 2, "xor r32, r32");
  assert.equal(x.find((c) => c.label === "mov reg, 100")!.bytes, 3, "push imm8; pop");
});

test("functionTable() lists every function and the file total", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.call("helper").mov("a0", 0).syscall("exit_group"));
  p.func("helper", {}, (f) => f.ret());
  const linked = link(p.build("main"), TARGETS.x64);
  const table = functionTable(linked);
  assert.match(table, /^main\s+\d+$/m);
  assert.match(table, /^helper\s+1$/m);
  assert.match(table, new RegExp(`^file\\s+${linked.elf.length}$`, "m"));
});

test("opKindBytes() attributes every byte of code to an instruction kind or to other", () => {
  const p = new ProgramBuilder();
  p.bss("buf", 16);
  p.func("main", {}, (f) =>
    f.mov("a0", 3).call("twice").addr("a1", "buf").store(8, "a0", "a1").syscall("exit_group"),
  );
  p.func("twice", {}, (f) => f.add("a0", "a0", "a0").shl("a0", "a0", 1).ret());
  const program = p.build("main");
  for (const target of Object.values(TARGETS)) {
    const rows = opKindBytes(program, target);
    const total = target.assemble(program).code.length;
    assert.equal(
      rows.reduce((sum, r) => sum + r.bytes, 0),
      total,
      target.name,
    );
    assert.deepEqual(rows.map((r) => r.kind).sort(), [
      "add",
      "addr",
      "call",
      "mov",
      "other",
      "ret",
      "shl",
      "store",
      "syscall",
    ]);
    // A kind can cost 0 bytes: x64 skips the entry's "mov a0, sp" when the first instruction sets a0.
    for (const r of rows) assert.ok(r.bytes >= 0, `${target.name} ${r.kind}`);
    for (const kind of ["add", "call", "shl", "store", "syscall"])
      assert.ok(rows.find((r) => r.kind === kind)!.bytes > 0, `${target.name} ${kind}`);
    assert.equal(rows.find((r) => r.kind === "mov")!.count, 1);
  }
});

test("costTable() renders one Markdown row per sample with a column per target", () => {
  const table = costTable(Object.values(TARGETS)).split("\n");
  assert.equal(table.length, SAMPLE_INSNS.length + 2);
  assert.equal(table[0], "| IR instruction | x64 bytes | a64 bytes |");
  assert.match(table[2]!, /^\| `mov reg, reg` \| \d+ \| \d+ \|$/);
});

test("sizeReport() gives each target's file size, functions and instruction kinds", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.call("helper").mov("a0", 0).syscall("exit_group"));
  p.func("helper", {}, (f) => f.add("a0", "a0", 1).ret());
  const program = p.build("main");
  const report = sizeReport(program, Object.values(TARGETS));
  for (const target of Object.values(TARGETS)) {
    const size = link(program, target).elf.length;
    assert.match(report, new RegExp(`^${target.name}: ${size} bytes$`, "m"));
  }
  assert.equal(report.match(/^helper\s+\d+$/gm)?.length, 2);
  const optimized = sizeReport(program, [TARGETS.x64], { optimize: true });
  const size = link(program, TARGETS.x64, { optimize: true }).elf.length;
  assert.match(optimized, new RegExp(`^x64: ${size} bytes$`, "m"));
  assert.equal(report.match(/^add\s+\d+ \(1 instruction\)$/gm)?.length, 2);
});
