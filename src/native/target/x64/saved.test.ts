import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgramBuilder } from "../../ir/builder.ts";
import { formatInsn } from "../../ir/format.ts";
import { analyzeLiveness } from "../../ir/liveness.ts";
import type { Func } from "../../ir/types.ts";
import { chooseSaved } from "./saved.ts";
import { programWidths } from "./widths.ts";

/** A stand-in for lowered size that rewards naming s0 and s1 and nothing else. */
const preferLow = (func: Func) =>
  func.body.reduce((n, insn) => n + (/\bs[2-5]\b/.test(formatInsn(insn)) ? 2 : 1), 0);

test("chooseSaved renames only registers private to a function", () => {
  const p = new ProgramBuilder();
  p.bss("g", 8);
  p.func("main", {}, (f) => {
    f.addr("s5", "g").mov("s0", 7);
    for (const name of ["own", "reads_caller", "feeds_callee", "keeps_global", "handler"]) f.call(name);
    f.addr("a1", "handler").mov("a0", "s0").syscall("exit_group");
  });
  p.func("own", { saves: ["s2", "s3"] }, (f) =>
    f.mov("s2", 1).add("s3", "s2", 2).add("a0", "s3", "s2").ret(),
  );
  p.func("reads_caller", { saves: ["s2"] }, (f) => f.add("s2", "s2", 1).mov("a0", "s2").ret());
  p.func("feeds_callee", { saves: ["s3"] }, (f) => f.mov("s3", 4).call("reads_s3").ret());
  p.func("reads_s3", {}, (f) => f.mov("a0", "s3").ret());
  p.func("keeps_global", { saves: ["s2"] }, (f) => f.mov("s2", "s0").store(8, "s2", "s5").ret());
  p.func("handler", { saves: ["s4"] }, (f) => f.mov("s4", 1).store(8, "s4", "s5").ret());
  const program = p.build("main");
  const { program: out } = chooseSaved(program, analyzeLiveness(program), programWidths(program), preferLow);
  const saves = (name: string) => out.funcs.find((f) => f.name === name)!.saves;
  assert.deepEqual(saves("own"), ["s0", "s1"], "private: moved to the cheap registers");
  assert.deepEqual(saves("reads_caller"), ["s2"], "reads its caller's value first");
  assert.deepEqual(saves("feeds_callee"), ["s3"], "its callee reads it");
  assert.deepEqual(saves("keeps_global"), ["s1"], "s0 is the caller's, named here: only s1 is free");
  assert.deepEqual(saves("handler"), ["s0"], "a handler's own registers move too; s5 is read everywhere");
  const body = out.funcs.find((f) => f.name === "own")!.body.map(formatInsn);
  assert.deepEqual(body, ["mov s0, 1", "add s1, s0, 2", "add a0, s1, s0", "ret"]);
});
