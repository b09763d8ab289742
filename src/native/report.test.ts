import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgramBuilder } from "./ir/builder.ts";
import { link } from "./link.ts";
import { functionTable, opCosts, SAMPLE_INSNS } from "./report.ts";
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
