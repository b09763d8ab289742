// Start-up in the IR: globals in s5, PORT from the environment, SIGPIPE ignored, SIGTERM and SIGINT
// turned into a drain, the listener and epoll, then the loop. Exits 0 once drained.

import { H, VERSION as PACK_VERSION } from "../../pack/layout.ts";
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
const BAD_PACK = "speck: cannot serve: the pack is missing or not a speck pack of this version\n";

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

const AT_FDCWD = -100n;
const O_RDONLY_CLOEXEC = 0o2000000;
const PROT_READ = 1;
const MAP_PRIVATE = 2;
/** "speck\0pk" and version 1, as the pack's first 12 bytes (docs/pack-format.md). */
const PACK_MAGIC = new TextEncoder().encode("speck\0pk");
const PACK_FILE_SIZE_AT = H.fileSize;
const HEALTH_REQUEST = "GET / HTTP/1.0\r\n\r\n";

/** Emits `map_pack(path)` → 0 with G.pack and G.packSize set, or 1 when the file is missing or not a pack. */
function emitMapPack(p: ProgramBuilder, target: Target): void {
  p.bss("stat_buf", target.layouts.stat.size, 8);
  p.rodata("pack_magic", PACK_MAGIC, 8);
  p.func("map_pack", { saves: ["s0"] }, (f) => {
    f.mov("a1", "a0").mov("a0", AT_FDCWD).mov("a2", O_RDONLY_CLOEXEC).mov("a3", 0).syscall("openat");
    f.br("lt", "a0", 0, "bad")
      .mov("s0", "a0")
      .addr("a1", "stat_buf")
      .syscall("fstat")
      .br("ne", "a0", 0, "bad");
    f.addr("a1", "stat_buf").load(8, "a1", { base: "a1", offset: target.layouts.stat.size_ });
    f.br("ltu", "a1", 128, "bad").store(8, "a1", { base: "s5", offset: G.packSize });
    f.mov("a0", 0).mov("a2", PROT_READ).mov("a3", MAP_PRIVATE).mov("a4", "s0").mov("a5", 0).syscall("mmap");
    f.br("gtu", "a0", -4096n, "bad").store(8, "a0", { base: "s5", offset: G.pack });
    f.addr("a1", "pack_magic").load(8, "a1", "a1").load(8, "a2", "a0").br("ne", "a1", "a2", "bad");
    f.load(4, "a2", { base: "a0", offset: 8 }).br("ne", "a2", PACK_VERSION, "bad");
    f.load(8, "a2", { base: "a0", offset: PACK_FILE_SIZE_AT })
      .load(8, "a1", { base: "s5", offset: G.packSize })
      .br("ne", "a1", "a2", "bad");
    f.mov("a0", "s0").syscall("close").mov("a0", 0).ret();
    f.label("bad").mov("a0", 1).ret();
  });
}

/** Emits `health()`: GET / from 127.0.0.1:PORT; exits 0 on a 2xx or 3xx status line, 1 otherwise. */
function emitHealth(p: ProgramBuilder): void {
  p.rodata("health_request", HEALTH_REQUEST);
  p.func("health", { saves: ["s0"] }, (f) => {
    f.mov("a0", 2)
      .mov("a1", 1 | 0o2000000)
      .mov("a2", 0)
      .syscall("socket")
      .mov("s0", "a0");
    f.add("a1", "s5", G.sockaddr).store(2, 2, "a1");
    f.load(8, "a2", { base: "s5", offset: G.port })
      .shr("a3", "a2", 8)
      .and("a2", "a2", 0xff)
      .shl("a2", "a2", 8)
      .or("a2", "a2", "a3");
    f.store(2, "a2", { base: "a1", offset: 2 })
      .store(4, 0x0100007f, { base: "a1", offset: 4 })
      .store(8, 0, { base: "a1", offset: 8 });
    f.mov("a0", "s0").mov("a2", 16).syscall("connect").br("ne", "a0", 0, "sick");
    f.mov("a0", "s0").addr("a1", "health_request").mov("a2", HEALTH_REQUEST.length).syscall("write");
    f.mov("a0", "s0").add("a1", "s5", G.clock).mov("a2", 12).syscall("read").br("lt", "a0", 12, "sick");
    // "HTTP/1.x 2" or "3" at byte 9
    f.add("a1", "s5", G.clock)
      .load(1, "a2", { base: "a1", offset: 9 })
      .sub("a2", "a2", 50)
      .br("gtu", "a2", 1, "sick");
    f.mov("a0", 0).syscall("exit_group");
    f.label("sick").mov("a0", 1).syscall("exit_group");
  });
}

/** Emits `_start` and everything the worker needs except the HTTP layer (`http_input`, `http_timeout`). */
export function emitServerShell(p: ProgramBuilder, target: Target): void {
  emitGlobals(p);
  emitSignals(p, target);
  emitListener(p);
  emitLoop(p, target);
  emitMapPack(p, target);
  emitHealth(p);
  p.rodata("default_pack", "/site.pack\0").rodata("bad_pack", BAD_PACK);
  p.data("date_template", new TextEncoder().encode("Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
  p.func("_start", {}, (f) => {
    f.addr("s5", "globals");
    // argv[1]: "--health", a pack path, or nothing (/site.pack)
    f.addr("s2", "default_pack").mov("s3", 0).load(8, "a1", "a0").br("ltu", "a1", 2, "args_done");
    f.load(8, "a1", { base: "a0", offset: 16 })
      .load(2, "a2", "a1")
      .br("ne", "a2", 0x2d2d, "path")
      .mov("s3", 1)
      .jmp("args_done");
    f.label("path").mov("s2", "a1");
    f.label("args_done");
    // envp: skip argc and argv (a0 → argc, argv[argc] is null)
    f.load(8, "a1", "a0").add("a1", "a1", 2).shl("a1", "a1", 3).add("s0", "a0", "a1");
    f.mov("s1", DEFAULT_PORT);
    f.label("env").load(8, "a1", "s0").br("eq", "a1", 0, "env_done").add("s0", "s0", 8);
    f.load(8, "a2", "a1").and("a2", "a2", 0xffffffffff).br("ne", "a2", PORT_WORD, "env");
    f.add("a1", "a1", 5).mov("s1", 0);
    f.label("digit").load(1, "a2", "a1").sub("a2", "a2", 48).br("gtu", "a2", 9, "env");
    f.mul("s1", "s1", 10).add("s1", "s1", "a2").add("a1", "a1", 1).jmp("digit");
    f.label("env_done").store(8, "s1", { base: "s5", offset: G.port });
    f.br("eq", "s3", 0, "serve_pack").call("health");
    f.label("serve_pack").mov("a0", "s2").call("map_pack").br("eq", "a0", 0, "pack_ok");
    f.mov("a0", 2)
      .addr("a1", "bad_pack")
      .mov("a2", BAD_PACK.length)
      .syscall("write")
      .mov("a0", 2)
      .syscall("exit_group");
    f.label("pack_ok");
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
