import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgramBuilder } from "./builder.ts";
import { interpret } from "./interpret.ts";
import { streamSyscalls } from "./streams.ts";

function run(build: (p: ProgramBuilder) => void, input: Record<number, string> = {}, argv?: string[]) {
  const p = new ProgramBuilder();
  build(p);
  const streams = streamSyscalls(input);
  const result = interpret(p.build("main"), { syscall: streams.handler, argv });
  return { ...result, stdout: streams.text(1) };
}

test("interpret() writes a line from rodata and exits with a code", () => {
  const r = run((p) => {
    p.rodata("msg", "hello\n");
    p.func("main", {}, (f) => {
      f.mov("a0", 1).addr("a1", "msg").mov("a2", 6).syscall("write");
      f.mov("a0", 7).syscall("exit_group");
    });
  });
  assert.equal(r.stdout, "hello\n");
  assert.equal(r.exitCode, 7);
});

test("interpret() wraps arithmetic at 64 bits and distinguishes signed from unsigned", () => {
  const r = run((p) => {
    p.func("main", {}, (f) => {
      f.mov("s0", -1n).add("s0", "s0", 2).br("ne", "s0", 1, "bad");
      f.mov("s1", -5n)
        .sar("s1", "s1", 1)
        .br("ne", "s1", -3n & ((1n << 64n) - 1n), "bad");
      f.mov("s1", -5n).shr("s1", "s1", 60).br("ne", "s1", 15, "bad");
      f.mov("s2", -1n).br("lt", "s2", 0, "signed_ok").jmp("bad");
      f.label("signed_ok").br("gtu", "s2", 0, "good").jmp("bad");
      f.label("good").mov("a0", 0).syscall("exit");
      f.label("bad").mov("a0", 1).syscall("exit");
    });
  });
  assert.equal(r.exitCode, 0);
});

test("interpret() restores saved registers on return and keeps frames apart", () => {
  const r = run((p) => {
    p.bss("out", 8);
    p.func("main", { frame: 16 }, (f) => {
      f.mov("s0", 41).store(8, 100, { base: "sp", offset: 8 }).call("clobber");
      f.load(8, "a1", { base: "sp", offset: 8 }).add("a0", "s0", "a1").syscall("exit");
    });
    p.func("clobber", { frame: 16, saves: ["s0"] }, (f) => {
      f.mov("s0", 999).store(8, "s0", { base: "sp", offset: 8 }).ret();
    });
  });
  assert.equal(r.exitCode, 141);
});

test("interpret() reads input and indexes memory with base + index * scale", () => {
  const r = run(
    (p) => {
      p.bss("buf", 64);
      p.func("main", {}, (f) => {
        f.mov("a0", 0).addr("a1", "buf").mov("a2", 64).syscall("read");
        // sum of bytes at even indexes, via 2-byte loads masked to the low byte
        f.mov("s0", 0).mov("s1", 0).mov("s2", "a0").shr("s2", "s2", 1).addr("s3", "buf");
        const loop = f.newLabel("loop");
        const done = f.newLabel("done");
        f.label(loop).br("geu", "s1", "s2", done);
        f.load(2, "a3", { base: "s3", index: "s1", scale: 2 }).and("a3", "a3", 0xff).add("s0", "s0", "a3");
        f.add("s1", "s1", 1).jmp(loop);
        f.label(done).mov("a0", "s0").syscall("exit");
      });
    },
    { 0: "\x01\x09\x02\x09\x03\x09" },
  );
  assert.equal(r.exitCode, 6);
});

test("interpret() passes argv and envp on the initial stack", () => {
  const r = run(
    (p) => {
      p.func("main", {}, (f) => {
        // a0 = &argc; argv[1] is at a0 + 16: write its first byte to stdout
        f.load(8, "a1", { base: "a0", offset: 16 }).mov("a0", 1).mov("a2", 3).syscall("write");
        f.mov("a0", 0).syscall("exit");
      });
    },
    {},
    ["speck", "abc"],
  );
  assert.equal(r.stdout, "abc");
});

test("interpret() stops a runaway program and reports faults", () => {
  assert.throws(
    () =>
      run((p) => {
        p.func("main", {}, (f) => {
          f.label("spin").jmp("spin");
        });
      }),
    /steps/,
  );
  assert.throws(
    () =>
      run((p) => {
        p.func("main", {}, (f) => {
          f.mov("a0", 0).load(8, "a1", "a0").syscall("exit");
        });
      }),
    /outside memory/,
  );
});
