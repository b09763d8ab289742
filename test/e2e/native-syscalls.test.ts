// Syscall-level IR programs per target, natively and under qemu: a loopback server that accepts one
// connection through epoll and answers it, and a SIGTERM handler that runs and returns.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeExecutable } from "../../src/native/elf/file.ts";
import { ProgramBuilder } from "../../src/native/ir/builder.ts";
import type { Program } from "../../src/native/ir/types.ts";
import { link } from "../../src/native/link.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import type { Target } from "../../src/native/target/types.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-syscalls-"));
after(() => rmSync(work, { recursive: true, force: true }));

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0x800;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const EPOLLIN = 1;
const EPOLL_CTL_ADD = 1;
const SIGTERM = 15;
const SA_RESTORER = 0x04000000;
const ANSWER = "HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nhi\n";

/** Accepts one connection on 127.0.0.1:argv[1] through epoll, answers it and exits 0. */
function loopbackServer(target: Target): Program {
  const p = new ProgramBuilder();
  const ev = target.layouts.epollEvent;
  p.rodata("ready", "ready\n")
    .rodata("answer", ANSWER)
    .rodata("one", new Uint8Array([1, 0, 0, 0]), 4);
  p.bss("sockaddr", 16).bss("event", 16).bss("events", 64).bss("buf", 256);
  p.func("main", {}, (f) => {
    // Port: decimal digits of argv[1].
    f.load(8, "s0", { base: "a0", offset: 16 }).mov("s1", 0);
    f.label("digit").load(1, "a1", "s0").br("eq", "a1", 0, "parsed");
    f.mul("s1", "s1", 10).add("s1", "s1", "a1").sub("s1", "s1", 48).add("s0", "s0", 1).jmp("digit");
    f.label("parsed");
    f.mov("a0", AF_INET)
      .mov("a1", SOCK_STREAM | SOCK_NONBLOCK)
      .mov("a2", 0)
      .syscall("socket")
      .mov("s2", "a0");
    f.mov("a1", SOL_SOCKET).mov("a2", SO_REUSEADDR).addr("a3", "one").mov("a4", 4).syscall("setsockopt");
    f.addr("a1", "sockaddr").store(2, AF_INET, "a1");
    f.shr("a2", "s1", 8)
      .and("a3", "s1", 0xff)
      .shl("a3", "a3", 8)
      .or("a2", "a2", "a3")
      .store(2, "a2", { base: "a1", offset: 2 });
    f.store(4, 0x0100007f, { base: "a1", offset: 4 });
    f.mov("a0", "s2").mov("a2", 16).syscall("bind").br("ne", "a0", 0, "fail");
    f.mov("a0", "s2").mov("a1", 8).syscall("listen").br("ne", "a0", 0, "fail");
    f.mov("a0", 1).addr("a1", "ready").mov("a2", 6).syscall("write");
    f.mov("a0", 0).syscall("epoll_create1").mov("s3", "a0");
    f.addr("a3", "event")
      .store(4, EPOLLIN, { base: "a3", offset: ev.events })
      .store(8, "s2", { base: "a3", offset: ev.data });
    f.mov("a0", "s3").mov("a1", EPOLL_CTL_ADD).mov("a2", "s2").syscall("epoll_ctl").br("ne", "a0", 0, "fail");
    f.mov("a0", "s3")
      .addr("a1", "events")
      .mov("a2", 1)
      .mov("a3", -1n)
      .mov("a4", 0)
      .mov("a5", 8)
      .syscall("epoll_pwait");
    f.br("ne", "a0", 1, "fail");
    f.addr("a1", "events").load(8, "a0", { base: "a1", offset: ev.data }).br("ne", "a0", "s2", "fail");
    f.mov("a1", 0).mov("a2", 0).mov("a3", 0).syscall("accept4").mov("s4", "a0").br("lt", "s4", 0, "fail");
    f.addr("a1", "buf").mov("a2", 256).syscall("read");
    f.mov("a0", "s4").addr("a1", "answer").mov("a2", ANSWER.length).syscall("write");
    f.mov("a0", "s4").syscall("close").mov("a0", 0).syscall("exit_group");
    f.label("fail").mov("a0", 3).syscall("exit_group");
  });
  return p.build("main");
}

/** Installs a SIGTERM handler, signals itself, and exits 0 once the handler has run and returned. */
function signalProgram(target: Target): Program {
  const p = new ProgramBuilder();
  const sa = target.layouts.sigaction;
  const needsRestorer = target.constants.SA_RESTORER_REQUIRED === 1n;
  p.rodata("handled", "handled\n").bss("act", sa.size).bss("flag", 8);
  p.func("main", {}, (f) => {
    f.addr("a1", "act").addr("a2", "on_term").store(8, "a2", { base: "a1", offset: sa.handler });
    if (needsRestorer) {
      f.store(8, SA_RESTORER, { base: "a1", offset: sa.flags });
      f.addr("a2", "restorer").store(8, "a2", { base: "a1", offset: sa.restorer });
    }
    f.mov("a0", SIGTERM).mov("a2", 0).mov("a3", 8).syscall("rt_sigaction").br("ne", "a0", 0, "fail");
    f.syscall("getpid").mov("a1", SIGTERM).syscall("kill");
    f.addr("a1", "flag").load(8, "a0", "a1").br("ne", "a0", SIGTERM, "fail");
    f.mov("a0", 1).addr("a1", "handled").mov("a2", 8).syscall("write");
    f.mov("a0", 0).syscall("exit_group");
    f.label("fail").mov("a0", 3).syscall("exit_group");
  });
  p.func("on_term", {}, (f) => {
    f.addr("a1", "flag").store(8, "a0", "a1").ret();
  });
  if (needsRestorer)
    p.func("restorer", {}, (f) => {
      f.syscall("rt_sigreturn");
    });
  return p.build("main");
}

function write(program: Program, target: Target, name: string): string[] {
  const path = join(work, `${name}-${target.name}`);
  writeExecutable(path, link(program, target).elf);
  return target.name === "a64" ? ["qemu-aarch64-static", path] : [path];
}

function gate(t: import("node:test").TestContext, target: Target): boolean {
  if (target.name !== "a64") return true;
  return requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static");
}

for (const target of Object.values(TARGETS)) {
  test(`${target.name}: a loopback server accepts one connection through epoll and answers it`, async (t) => {
    if (!gate(t, target)) return;
    const port = await freePort();
    const [command, ...args] = write(loopbackServer(target), target, "server");
    const child = spawn(command!, [...args, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once("data", (d: Buffer) =>
        d.toString() === "ready\n" ? resolve() : reject(new Error(d.toString())),
      );
      child.once("exit", (code) => reject(new Error(`server exited early with ${code}`)));
    });
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.write("GET / HTTP/1.0\r\n\r\n"));
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    assert.equal(reply, ANSWER);
    assert.equal(await exited, 0);
  });

  test(`${target.name}: a SIGTERM handler runs and returns to the program`, async (t) => {
    if (!gate(t, target)) return;
    const [command, ...args] = write(signalProgram(target), target, "signal");
    const child = spawn(command!, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 0);
    assert.equal(out, "handled\n");
  });
}
