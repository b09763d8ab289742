// Start-up in the IR: globals in s5, PORT from the environment, SIGPIPE ignored, SIGTERM and SIGINT
// turned into a drain, the listener and epoll, then the loop. Exits 0 once drained.

import type { ProgramBuilder } from "../ir/builder.ts";
import type { Target } from "../target/types.ts";
import { DATE_LINE_LENGTH, emitGlobals, G } from "./globals.ts";
import { emitLoop } from "./loop.ts";
import { emitListener } from "./net.ts";

const SIGINT = 2;
const SIGPIPE = 13;
const SIGTERM = 15;
const SIG_IGN = 1;
const SA_RESTORER = 0x04000000;
const DEFAULT_PORT = 8080;

/** "PORT=" as a little-endian word, to find the variable with one load and compare. */
const PORT_WORD = 0x3d54524f50n;

/** Emits `sigaction_set(signo, handler)`, plus the x86-64 restorer it needs. */
function emitSignals(p: ProgramBuilder, target: Target): void {
  const sa = target.layouts.sigaction;
  const restorer = target.constants.SA_RESTORER_REQUIRED === 1n;
  p.func("on_stop", {}, (f) => {
    f.store(8, 1, { base: "s5", offset: G.stop }).ret();
  });
  if (restorer)
    p.func("restorer", {}, (f) => {
      f.syscall("rt_sigreturn");
    });
  p.func("sigaction_set", {}, (f) => {
    f.add("a2", "s5", G.sigaction).store(8, "a1", { base: "a2", offset: sa.handler });
    if (restorer)
      f.store(8, SA_RESTORER, { base: "a2", offset: sa.flags })
        .addr("a3", "restorer")
        .store(8, "a3", { base: "a2", offset: sa.restorer });
    f.mov("a1", "a2").mov("a2", 0).mov("a3", 8).syscall("rt_sigaction").ret();
  });
}

/** Emits `_start` and everything the worker needs except the HTTP layer (`http_input`, `http_timeout`). */
export function emitServerShell(p: ProgramBuilder, target: Target): void {
  emitGlobals(p);
  emitSignals(p, target);
  emitListener(p);
  emitLoop(p, target);
  p.data("date_template", new TextEncoder().encode("Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
  p.func("_start", {}, (f) => {
    f.addr("s5", "globals");
    // envp: skip argc and argv (a0 → argc, argv[argc] is null)
    f.load(8, "a1", "a0").add("a1", "a1", 2).shl("a1", "a1", 3).add("s0", "a0", "a1");
    f.mov("s1", DEFAULT_PORT);
    f.label("env").load(8, "a1", "s0").br("eq", "a1", 0, "env_done").add("s0", "s0", 8);
    f.load(8, "a2", "a1").and("a2", "a2", 0xffffffffff).br("ne", "a2", PORT_WORD, "env");
    f.add("a1", "a1", 5).mov("s1", 0);
    f.label("digit").load(1, "a2", "a1").sub("a2", "a2", 48).br("gtu", "a2", 9, "env");
    f.mul("s1", "s1", 10).add("s1", "s1", "a2").add("a1", "a1", 1).jmp("digit");
    f.label("env_done").store(8, "s1", { base: "s5", offset: G.port });
    // the Date line template
    f.addr("a0", "date_template").add("a1", "s5", G.dateLine).mov("a2", 0);
    f.label("copy").load(1, "a3", { base: "a0", index: "a2" }).store(1, "a3", { base: "a1", index: "a2" });
    f.add("a2", "a2", 1).br("ltu", "a2", DATE_LINE_LENGTH, "copy");
    f.mov("a0", SIGPIPE).mov("a1", SIG_IGN).call("sigaction_set");
    f.mov("a0", SIGTERM).addr("a1", "on_stop").call("sigaction_set");
    f.mov("a0", SIGINT).addr("a1", "on_stop").call("sigaction_set");
    f.call("map_tables").br("ne", "a0", 0, "fail");
    f.call("open_listener").br("lt", "a0", 0, "fail").store(8, "a0", { base: "s5", offset: G.listenFd });
    f.mov("a0", 0).syscall("epoll_create1").store(8, "a0", { base: "s5", offset: G.epollFd });
    f.call("serve").mov("a0", 0).syscall("exit_group");
    f.label("fail").mov("a0", 1).syscall("exit_group");
  });
}
