import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgramBuilder } from "./builder.ts";
import { interpret } from "./interpret.ts";
import { streamSyscalls } from "./streams.ts";

function gather() {
  const p = new ProgramBuilder();
  p.rodata("head", "HTTP/1.1 200 OK\r\n\r\n").rodata("body", "hi\n").bss("iov", 32).bss("buf", 8);
  p.func("main", {}, (f) => {
    f.addr("a1", "iov").addr("a2", "head").store(8, "a2", "a1").store(8, 19, { base: "a1", offset: 8 });
    f.addr("a2", "body").store(8, "a2", { base: "a1", offset: 16 }).store(8, 3, { base: "a1", offset: 24 });
    f.mov("a0", 4).mov("a2", 2).syscall("writev").mov("s0", "a0");
    f.mov("a0", 9).addr("a1", "buf").mov("a2", 8).syscall("read").mov("s1", "a0");
    f.mov("a0", 0).addr("a1", "buf").mov("a2", 8).syscall("read").mov("s2", "a0");
    f.mov("a0", 0).addr("a1", "buf").mov("a2", 8).syscall("read");
    f.add("a0", "a0", "s0").add("a0", "a0", "s1").add("a0", "a0", "s2").syscall("exit");
  });
  return p.build("main");
}

test("streamSyscalls() gathers writev per fd, reads input in pieces and answers EBADF for unknown fds", () => {
  const streams = streamSyscalls({ 0: "0123456789" });
  const { exitCode } = interpret(gather(), { syscall: streams.handler });
  assert.equal(streams.text(4), "HTTP/1.1 200 OK\r\n\r\nhi\n");
  assert.equal(streams.bytes(1).length, 0);
  // 22 bytes written, -9 (EBADF) from fd 9, then 8 and 2 bytes read
  assert.equal(exitCode, 22 - 9 + 8 + 2);
});

test("streamSyscalls() throws on a syscall the test did not provide, and lets `more` provide it", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.syscall("getpid").syscall("exit_group"));
  assert.throws(
    () => interpret(p.build("main"), { syscall: streamSyscalls().handler }),
    /syscall getpid is not handled by this test's syscall layer/,
  );
  const more = streamSyscalls({}, (name) => (name === "getpid" ? 42n : undefined));
  assert.equal(interpret(p.build("main"), { syscall: more.handler }).exitCode, 42);
});

test("streamSyscalls() reports the exit status as a parent sees it: the low 8 bits", () => {
  for (const [code, status] of [
    [300n, 44],
    [-1n, 255],
    [0n, 0],
  ] as const) {
    const p = new ProgramBuilder();
    p.func("main", {}, (f) => f.mov("a0", code).syscall("exit_group"));
    assert.equal(interpret(p.build("main"), { syscall: streamSyscalls().handler }).exitCode, status);
  }
});
