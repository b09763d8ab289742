import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgramBuilder } from "./builder.ts";
import { analyzeLiveness, type RegSet, regBit } from "./liveness.ts";
import { REGS, type Reg } from "./types.ts";

const names = (set: RegSet): Reg[] => REGS.filter((r) => set & regBit(r));

test("liveness follows loops, branches and what callees read", () => {
  const p = new ProgramBuilder();
  p.bss("g", 8);
  p.func("main", {}, (f) => {
    f.addr("s5", "g").mov("a1", 7).mov("a2", 9).call("reads_a1");
    f.mov("s0", 0).mov("a3", 3).label("loop"); // 6
    f.add("s0", "s0", "a3").br("ltu", "s0", 100, "loop"); // 7, 8
    f.mov("a0", "s0").syscall("exit_group"); // 9, 10
  });
  p.func("reads_a1", {}, (f) => f.store(8, "a1", "s5").ret());
  const live = analyzeLiveness(p.build("main"));
  assert.deepEqual(names(live.entry("reads_a1")), ["a1", "s5"]);
  assert.deepEqual(names(live.after("main", 1)), ["a1", "s5"], "a1 is read by the callee");
  assert.deepEqual(names(live.after("main", 2)), ["a1", "s5"], "a2 is not: the call clobbers it");
  assert.deepEqual(names(live.after("main", 3)), [], "nothing but what main reads later");
  assert.deepEqual(names(live.after("main", 8)), ["a3", "s0"], "the loop reads a3 again");
  assert.deepEqual(names(live.after("main", 9)), ["a0"], "exit_group reads one argument");
  assert.deepEqual(names(live.entry("main")), []);
});

test("liveness keeps what a signal handler reads live everywhere and returns only a0", () => {
  const p = new ProgramBuilder();
  p.bss("g", 8);
  p.func("main", {}, (f) => {
    f.addr("s4", "g").addr("a1", "handler").mov("a0", 0).mov("a2", 5).call("f").syscall("exit_group");
  });
  p.func("handler", {}, (f) => f.store(8, 1, "s4").ret());
  p.func("f", { saves: ["s1"] }, (f) => f.mov("s1", "a0").mov("a1", 2).mov("a0", "s1").ret());
  const live = analyzeLiveness(p.build("main"));
  assert.deepEqual(names(live.after("main", 0)), ["s4"], "s4 stays live for the handler");
  assert.deepEqual(names(live.after("f", 1)), ["s1", "s4"], "a1 is dead: only a0 is returned");
  assert.deepEqual(names(live.entry("f")), ["a0", "s4"]);
});

test("liveness keeps an argument register a caller reads after the call live at the callee's ret", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.call("two").mov("a0", "a2").syscall("exit_group"));
  p.func("two", {}, (f) => f.mov("a2", 28).mov("a1", 3).ret());
  const live = analyzeLiveness(p.build("main"));
  assert.deepEqual(names(live.after("two", 0)), ["a2"]);
  assert.deepEqual(names(live.after("two", 1)), ["a2"], "a1 is never read");
});
