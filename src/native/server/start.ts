// Start-up in the IR: globals in s5, PORT from the environment, SIGPIPE ignored, SIGTERM and SIGINT
// turned into a drain, the listener and epoll, then the loop. Exits 0 once drained.

import { FEATURE } from "../../access/features.ts";
import { H, VERSION as PACK_VERSION } from "../../pack/layout.ts";
import type { FuncBuilder, ProgramBuilder } from "../ir/builder.ts";
import { MAP_PRIVATE, PROT_READ } from "../target/mman.ts";
import type { Target } from "../target/types.ts";
import { CGROUP_FILES, type CgroupFiles, emitCpuQuota } from "./cgroup.ts";
import { AT_FDCWD, O_RDONLY_CLOEXEC } from "./files.ts";
import { DATE_LINE, emitGlobals, G, GLOBALS_BIAS } from "./globals.ts";
import { emitLog } from "./log.ts";
import { DEFAULT_TIMEOUTS, emitLoop, MAX_FD, type Timeouts } from "./loop.ts";
import { AF_INET, AF_INET6, emitListener } from "./net.ts";

const SIGINT = 2;
const SIGPIPE = 13;
const SIGTERM = 15;
const SIG_IGN = 1;
const SA_RESTORER = 0x04000000;
const DEFAULT_PORT = 8080;
/** "speck: cannot serve PATH: why": the refusals of a pack at start name the file. */
const CANNOT_SERVE = "speck: cannot serve ";
const BAD_PACK = ": missing, or not a speck pack of this version\n";
/** "speck: cannot listen on port N: why", by the errno of the listener (the last entry for any other). */
const CANNOT_LISTEN = "speck: cannot listen on port ";
const LISTEN_REASONS: [number, string][] = [
  [13, ": below 1024 it needs privileges\n"],
  [98, ": in use\n"],
  [99, ": SPECK_ADDR is not on this machine\n"],
  [0, ": refused\n"],
];
const CANNOT_START = "speck: a worker cannot start: out of memory or descriptors\n";
const LACKING_FEATURES = ": the pack has access rules this server was built without\n";

/** Emits `on_stop`, the SIGTERM/SIGINT handler, plus the x86-64 restorer it needs. */
function emitSignals(p: ProgramBuilder, target: Target): void {
  p.func("on_stop", {}, (f) => {
    f.store(1, 1, { base: "s5", offset: G.stop }).ret();
  });
  if (target.constants.SA_RESTORER_REQUIRED === 1n)
    p.func("restorer", {}, (f) => {
      f.syscall("rt_sigreturn");
    });
}

/**
 * SIGTERM and SIGINT to on_stop, SIGPIPE ignored: one sigaction in the globals, changed in place
 * between the rt_sigaction calls (which keep a1..a3).
 */
function installSignals(f: FuncBuilder, target: Target): void {
  const sa = target.layouts.sigaction;
  f.add("a1", "s5", G.sigaction).addr("a2", "on_stop").store(8, "a2", { base: "a1", offset: sa.handler });
  if (target.constants.SA_RESTORER_REQUIRED === 1n)
    f.store(8, SA_RESTORER, { base: "a1", offset: sa.flags })
      .addr("a2", "restorer")
      .store(8, "a2", { base: "a1", offset: sa.restorer });
  f.mov("a0", SIGTERM).mov("a2", 0).mov("a3", 8).syscall("rt_sigaction");
  f.mov("a0", SIGINT).syscall("rt_sigaction");
  f.store(8, SIG_IGN, { base: "a1", offset: sa.handler }).mov("a0", SIGPIPE).syscall("rt_sigaction");
}

/** Text as a little-endian word of its first bytes (SPECK_LOG values with their NUL, the pack magic). */
const word = (text: string): bigint =>
  [...new TextEncoder().encode(text)].reduceRight((w, byte) => (w << 8n) | BigInt(byte), 0n);
/** "speck\0pk", the pack's first 8 bytes (docs/pack-format.md), as one compare. */
const PACK_MAGIC = word("speck\0pk");
const SEEK_END = 2;

const PACK_FILE_SIZE_AT = H.fileSize;
const HEALTH_REQUEST = "GET / HTTP/1.0\r\n\r\n";
/** Bytes 8 to 15 of ::ffff:127.0.0.1, little-endian: where --health connects when listening on any address. */
const LOOPBACK_MAPPED = 0x0100007fffff0000n;

/**
 * Emits `map_pack(path)` → 0 with G.pack and G.packSize set, 1 when the file is missing or not a
 * pack, 2 (builds with access `features`) when the pack needs access features the build lacks.
 */
function emitMapPack(p: ProgramBuilder, features: number): void {
  p.func("map_pack", { saves: ["s0"] }, (f) => {
    f.mov("a1", "a0").mov("a0", AT_FDCWD).mov("a2", O_RDONLY_CLOEXEC).mov("a3", 0).syscall("openat");
    // the size: where the end is (an error is negative, so below the smallest pack too)
    f.br("lt", "a0", 0, "bad").mov("s0", "a0").mov("a1", 0).mov("a2", SEEK_END).syscall("lseek");
    f.br("lt", "a0", 128, "bad").mov("a1", "a0").store(8, "a0", { base: "s5", offset: G.packSize });
    f.mov("a0", 0).mov("a2", PROT_READ).mov("a3", MAP_PRIVATE).mov("a4", "s0").mov("a5", 0).syscall("mmap");
    f.br("gtu", "a0", -4096n, "bad").store(8, "a0", { base: "s5", offset: G.pack });
    f.load(8, "a2", "a0").br("ne", "a2", PACK_MAGIC, "bad");
    if (features === 0) f.load(4, "a2", { base: "a0", offset: 8 }).br("ne", "a2", PACK_VERSION, "bad");
    else {
      // VERSION, or ACCESS_VERSION with an access section whose features this build enforces
      f.load(4, "a2", { base: "a0", offset: 8 }).sub("a2", "a2", PACK_VERSION).br("gtu", "a2", 1, "bad");
      f.load(4, "a2", { base: "a0", offset: H.accessFeatures }).and("a2", "a2", ~features & 0xffffffff);
      f.br("ne", "a2", 0, "lacking");
    }
    // a1 is still the size: syscalls keep a1..a5
    f.load(8, "a2", { base: "a0", offset: PACK_FILE_SIZE_AT }).br("ne", "a1", "a2", "bad");
    f.mov("a0", "s0").syscall("close").mov("a0", 0).ret();
    f.label("bad").mov("a0", 1).ret();
    if (features !== 0) f.label("lacking").mov("a0", 2).ret();
  });
}

/**
 * Emits `health()`: GET / from the server's own address (loopback when it listens on every
 * address), over IPv6 or else IPv4; exits 0 on a 2xx or 3xx status line (or, in builds with access
 * rules, a 401 or 403: a protected "/" is a healthy one), 1 otherwise.
 */
function emitHealth(p: ProgramBuilder, access: boolean): void {
  p.rodata("health_request", HEALTH_REQUEST);
  p.func("health", { saves: ["s0", "s1"] }, (f) => {
    f.add("a1", "s5", G.bindAddress)
      .load(8, "a0", "a1")
      .load(8, "a2", { base: "a1", offset: 8 })
      .or("a0", "a0", "a2");
    f.br("ne", "a0", 0, "address").store(8, LOOPBACK_MAPPED, { base: "a1", offset: 8 });
    f.label("address").mov("s1", AF_INET6);
    f.label("family")
      .mov("a0", "s1")
      .mov("a1", 1 | 0o2000000)
      .mov("a2", 0)
      .syscall("socket");
    f.br("ge", "a0", 0, "connect").br("ne", "s1", AF_INET6, "sick").mov("s1", AF_INET).jmp("family");
    f.label("connect").mov("s0", "a0").mov("a0", "s1").call("sockaddr").mov("a0", "s0").syscall("connect");
    f.br("ne", "a0", 0, "sick");
    f.mov("a0", "s0").addr("a1", "health_request").mov("a2", HEALTH_REQUEST.length).syscall("write");
    f.mov("a0", "s0").add("a1", "s5", G.clock).mov("a2", 12).syscall("read").br("lt", "a0", 12, "sick");
    // "HTTP/1.x 2" or "3" at byte 9
    f.add("a1", "s5", G.clock)
      .load(1, "a2", { base: "a1", offset: 9 })
      .sub("a2", "a2", 50)
      .br("gtu", "a2", 1, access ? "refused" : "sick");
    f.label("healthy").mov("a0", 0).syscall("exit_group");
    if (access) {
      // "401" or "403"
      f.label("refused").load(2, "a2", { base: "a1", offset: 9 }).br("ne", "a2", 0x3034, "sick");
      f.load(1, "a2", { base: "a1", offset: 11 })
        .br("eq", "a2", 0x31, "healthy")
        .br("eq", "a2", 0x33, "healthy");
    }
    f.label("sick").mov("a0", 1).syscall("exit_group");
  });
}

const SIGCHLD = 17;
const SIGKILL = 9;
const PR_SET_PDEATHSIG = 1;
const ECHILD = 10;
export const MAX_WORKERS = 256;

/**
 * Emits `supervise(n)`: forks n workers and returns 0 in each of them; the supervisor itself never
 * returns: it forwards SIGTERM/SIGINT to the workers, replaces a worker killed by a signal while not
 * stopping, and once every worker has exited, exits with their exit codes or-ed (0 after a drain).
 */
function emitSupervisor(p: ProgramBuilder): void {
  p.bss("worker_pids", MAX_WORKERS * 8, 8);
  // spawn(slot) → 0 in the new worker, non-zero in the supervisor
  p.func("spawn", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a0").mov("a0", SIGCHLD).mov("a1", 0).mov("a2", 0).mov("a3", 0).mov("a4", 0).syscall("clone");
    f.br("ne", "a0", 0, "parent");
    f.mov("a0", PR_SET_PDEATHSIG).mov("a1", SIGKILL).syscall("prctl").mov("a0", 0).ret();
    f.label("parent")
      .addr("a1", "worker_pids")
      .store(8, "a0", { base: "a1", index: "s0", scale: 8 })
      .mov("a0", 1)
      .ret();
  });
  p.func("supervise", { frame: 16, saves: ["s0", "s1", "s2"] }, (f) => {
    // [sp]: forwarded; [sp + 8]: the exit codes of workers that exited, or-ed
    f.mov("s0", "a0")
      .mov("s1", 0)
      .store(8, 0, { base: "sp", offset: 0 })
      .store(8, 0, { base: "sp", offset: 8 });
    f.label("start").mov("a0", "s1").call("spawn").br("eq", "a0", 0, "worker");
    f.add("s1", "s1", 1).br("ltu", "s1", "s0", "start");
    f.label("wait")
      .mov("a0", -1n)
      .add("a1", "s5", G.clock)
      .mov("a2", 0)
      .mov("a3", 0)
      .syscall("wait4")
      .mov("s2", "a0");
    // forward a stop request once
    f.load(8, "a0", { base: "s5", offset: G.stop }).br("eq", "a0", 0, "reap");
    f.load(8, "a0", { base: "sp", offset: 0 }).br("ne", "a0", 0, "reap");
    f.store(8, 1, { base: "sp", offset: 0 }).mov("s1", 0);
    f.label("forward")
      .addr("a1", "worker_pids")
      .load(8, "a0", { base: "a1", index: "s1", scale: 8 })
      .br("eq", "a0", 0, "next");
    f.mov("a1", SIGTERM).syscall("kill");
    f.label("next").add("s1", "s1", 1).br("ltu", "s1", "s0", "forward");
    f.label("reap").br("eq", "s2", -ECHILD, "done").br("lt", "s2", 0, "wait");
    // a worker ended: forget it
    f.mov("s1", 0);
    f.label("find")
      .addr("a1", "worker_pids")
      .load(8, "a0", { base: "a1", index: "s1", scale: 8 })
      .br("eq", "a0", "s2", "found");
    f.add("s1", "s1", 1).br("ltu", "s1", "s0", "find").jmp("wait");
    f.label("found").store(8, 0, { base: "a1", index: "s1", scale: 8 });
    // one that exited (drained, or it could not start) stays gone and passes on its exit code; one
    // killed by a signal is replaced, unless stopping
    f.load(4, "a0", { base: "s5", offset: G.clock }).and("a2", "a0", 0x7f).br("ne", "a2", 0, "killed");
    f.shr("a0", "a0", 8).load(8, "a2", { base: "sp", offset: 8 }).or("a2", "a2", "a0");
    f.store(8, "a2", { base: "sp", offset: 8 }).jmp("wait");
    f.label("killed").load(8, "a0", { base: "s5", offset: G.stop }).br("ne", "a0", 0, "wait");
    f.mov("a0", "s1").call("spawn").br("ne", "a0", 0, "wait");
    f.label("worker").mov("a0", 0).ret();
    f.label("done").load(8, "a0", { base: "sp", offset: 8 }).syscall("exit_group");
  });
  // cpu_count() → CPUs this process may run on (sched_getaffinity), at least 1
  p.bss("cpu_mask", 128, 8);
  p.func("cpu_count", {}, (f) => {
    f.mov("a0", 0).mov("a1", 128).addr("a2", "cpu_mask").syscall("sched_getaffinity").mov("a3", 0);
    f.br("le", "a0", 0, "one").mov("a1", 0);
    f.label("byte").load(1, "a4", { base: "a2", index: "a1" });
    f.label("bit")
      .br("eq", "a4", 0, "next")
      .sub("a5", "a4", 1)
      .and("a4", "a4", "a5")
      .add("a3", "a3", 1)
      .jmp("bit");
    f.label("next").add("a1", "a1", 1).br("ltu", "a1", "a0", "byte").br("ne", "a3", 0, "done");
    f.label("one").mov("a3", 1);
    f.label("done").mov("a0", "a3").ret();
  });
}

/** The variables the server reads, in the order of G.env's slots. */
const ENV_NAMES = ["PORT=", "SPECK_WORKERS=", "SPECK_LOG=", "SPECK_ADDR=", "SPECK_IDLE_TIMEOUT="] as const;
/** The longest SPECK_IDLE_TIMEOUT, in seconds: a day. */
const MAX_IDLE_SECONDS = 86_400;
const BAD_SETTING = "speck: cannot use the environment variable ";

const RLIMIT_NOFILE = 7;

/**
 * Emits `read_environment(envp)`: PORT (1 to 65535, default 8080), SPECK_WORKERS (1 to 256),
 * SPECK_LOG (off, clf or json) and SPECK_ADDR (an IP address to listen on) into the globals; a bad
 * value ends the process with one line naming it and exit code 2. Also `raise_file_limit()`.
 */
function emitEnvironment(p: ProgramBuilder, idleSeconds: number): void {
  p.rodata("env_names", `${ENV_NAMES.join("\0")}\0\0`).rodata("bad_setting", BAD_SETTING);
  // fatal(string, prefix, prefixLength, suffix, suffixLength): prints prefix, the NUL-terminated
  // string and suffix as one line to stderr, and exits 2
  p.func("fatal", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a3").mov("s2", "a4").mov("a0", 2).syscall("write");
    f.mov("a2", 0);
    f.label("length")
      .load(1, "a1", { base: "s0", index: "a2" })
      .br("eq", "a1", 0, "print")
      .add("a2", "a2", 1);
    f.jmp("length");
    f.label("print").mov("a0", 2).mov("a1", "s0").syscall("write");
    f.mov("a0", 2).mov("a1", "s1").mov("a2", "s2").syscall("write");
    f.mov("a0", 2).syscall("exit_group");
  });
  // env_bad(string): names the offending NAME=value (the newline is the bad-pack message's last byte)
  p.func("env_bad", {}, (f) => {
    f.addr("a1", "bad_setting").mov("a2", BAD_SETTING.length);
    f.addr("a3", "bad_pack", BAD_PACK.length - 1)
      .mov("a4", 1)
      .call("fatal")
      .ret();
  });
  // env_number(string, nameLength, max) → the number after the name, when it is 1 to max
  p.func("env_number", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a2").add("a0", "a0", "a1").call("parse_uint");
    f.load(1, "a2", "a1")
      .br("ne", "a2", 0, "bad")
      .br("eq", "a0", 0, "bad")
      .br("gtu", "a0", "s1", "bad")
      .ret();
    f.label("bad").mov("a0", "s0").call("env_bad").ret();
  });
  p.func("read_environment", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0");
    // each NAME=value string whose name is listed goes into its slot
    f.label("string").load(8, "a0", "s0").br("eq", "a0", 0, "read").add("s0", "s0", 8);
    f.addr("a1", "env_names").add("a3", "s5", G.env);
    f.label("name").mov("a2", "a0").load(1, "a4", "a1").br("eq", "a4", 0, "string");
    f.label("compare").load(1, "a4", "a1").add("a1", "a1", 1).br("eq", "a4", 0, "match");
    f.load(1, "a5", "a2").add("a2", "a2", 1).br("eq", "a4", "a5", "compare");
    f.label("skip").load(1, "a4", "a1").add("a1", "a1", 1).br("ne", "a4", 0, "skip");
    f.add("a3", "a3", 8).jmp("name");
    f.label("match").store(8, "a0", "a3").jmp("string");
    f.label("read")
      .mov("a0", DEFAULT_PORT)
      .load(8, "s1", { base: "s5", offset: G.env })
      .br("eq", "s1", 0, "port");
    f.mov("a0", "s1").mov("a1", ENV_NAMES[0].length).mov("a2", 65535).call("env_number");
    f.label("port").store(8, "a0", { base: "s5", offset: G.port });
    f.mov("a0", idleSeconds)
      .load(8, "s1", { base: "s5", offset: G.env + 32 })
      .br("eq", "s1", 0, "idle");
    f.mov("a0", "s1").mov("a1", ENV_NAMES[4].length).mov("a2", MAX_IDLE_SECONDS).call("env_number");
    f.label("idle").store(8, "a0", { base: "s5", offset: G.idleSeconds });
    f.load(8, "s1", { base: "s5", offset: G.env + 8 }).br("eq", "s1", 0, "log");
    f.mov("a0", "s1").mov("a1", ENV_NAMES[1].length).mov("a2", MAX_WORKERS).call("env_number");
    f.store(8, "a0", { base: "s5", offset: G.workers });
    f.label("log")
      .load(8, "s1", { base: "s5", offset: G.env + 16 })
      .br("eq", "s1", 0, "address");
    // the value's first four bytes (with its NUL for "clf" and "off"), then the fifth for "json"
    f.add("a1", "s1", ENV_NAMES[2].length).load(4, "a2", "a1").mov("a0", 1);
    f.br("eq", "a2", word("clf\0"), "start_log").br("eq", "a2", word("off\0"), "address");
    f.load(1, "a3", "a1").br("eq", "a3", 0, "address").mov("a0", 2);
    f.br("ne", "a2", word("json"), "bad").load(1, "a3", { base: "a1", offset: 4 }).br("ne", "a3", 0, "bad");
    f.label("start_log").call("log_start");
    f.label("address")
      .load(8, "s1", { base: "s5", offset: G.env + 24 })
      .br("eq", "s1", 0, "done");
    f.add("a0", "s1", ENV_NAMES[3].length).call("parse_bind_address").br("ne", "a0", 0, "bad");
    f.label("done").ret();
    f.label("bad").mov("a0", "s1").call("env_bad").ret();
  });
  // raise_file_limit(): the soft limit on descriptors up to the hard one (the table holds MAX_FD)
  p.func("raise_file_limit", {}, (f) => {
    f.mov("a0", 0).mov("a1", RLIMIT_NOFILE).mov("a2", 0).add("a3", "s5", G.clock).syscall("prlimit64");
    f.load(8, "a2", { base: "a3", offset: 8 }).br("leu", "a2", MAX_FD, "set").mov("a2", MAX_FD);
    // a0 is 0 again (or the error, which makes the second call fail too), a1 still RLIMIT_NOFILE
    f.label("set").store(8, "a2", "a3").mov("a2", "a3").mov("a3", 0).syscall("prlimit64").ret();
  });
}

/** Emits `_start` and everything the worker needs except the HTTP layer (`http_input`, `http_timeout`). */
export function emitServerShell(
  p: ProgramBuilder,
  target: Target,
  timeouts: Timeouts = DEFAULT_TIMEOUTS,
  features = 0,
  cgroup: CgroupFiles = CGROUP_FILES,
): void {
  emitGlobals(p);
  emitSignals(p, target);
  emitListener(p);
  emitLoop(p, target, timeouts, (features & FEATURE.proxy) !== 0);
  emitMapPack(p, features);
  // fstat's buffer, for the proxy's files (hosts, resolv.conf); dropped where nothing reads it
  p.bss("stat_buf", target.layouts.stat.size, 8);
  emitHealth(p, features !== 0);
  emitSupervisor(p);
  emitLog(p);
  // parse_uint(ptr) → a0: the decimal number at ptr, a1: the first byte after its digits
  p.func("parse_uint", {}, (f) => {
    f.mov("a1", "a0").mov("a0", 0);
    f.label("digit").load(1, "a2", "a1").sub("a2", "a2", 48).br("gtu", "a2", 9, "done");
    f.mul("a0", "a0", 10).add("a0", "a0", "a2").add("a1", "a1", 1).jmp("digit");
    f.label("done").ret();
  });
  emitEnvironment(p, timeouts.idleSeconds);
  emitCpuQuota(p, cgroup);
  p.rodata("default_pack", "/site.pack\0").rodata("cannot_serve", CANNOT_SERVE).rodata("bad_pack", BAD_PACK);
  p.rodata("cannot_listen", CANNOT_LISTEN).rodata("cannot_start", CANNOT_START);
  const encoder = new TextEncoder();
  p.rodata(
    "listen_reasons",
    Uint8Array.from(LISTEN_REASONS.flatMap(([errno, text]) => [errno, text.length, ...encoder.encode(text)])),
  );
  // the access checks and access_start come with the HTTP layer (access/enforce.ts)
  if (features !== 0) p.rodata("lacking_features", LACKING_FEATURES);
  // the Date line, in place from the start: fmt_date rewrites its names and digits
  p.data(DATE_LINE, new TextEncoder().encode("Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
  p.func("_start", {}, (f) => {
    f.addr("s5", "globals", GLOBALS_BIAS);
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
    f.load(8, "a1", "a0").add("a1", "a1", 2).shl("a1", "a1", 3).add("a0", "a0", "a1");
    if (features !== 0) f.mov("s0", "a0"); // for the access rules' run-time users
    f.call("read_environment");
    f.br("eq", "s3", 0, "serve_pack").call("health");
    f.label("serve_pack").mov("a0", "s2").call("map_pack").br("eq", "a0", 0, "pack_ok");
    f.addr("a3", "bad_pack").mov("a4", BAD_PACK.length);
    if (features !== 0) {
      f.br("eq", "a0", 1, "refuse");
      f.addr("a3", "lacking_features").mov("a4", LACKING_FEATURES.length);
      f.label("refuse");
    }
    f.mov("a0", "s2").addr("a1", "cannot_serve").mov("a2", CANNOT_SERVE.length).call("fatal");
    f.label("pack_ok");
    // the access section, and its users, before the workers start (each inherits them)
    if (features !== 0) f.mov("a0", "s0").call("access_start");
    installSignals(f, target);
    // workers: SPECK_WORKERS, else one per usable CPU within the CPU quota; with one, this process serves
    f.load(8, "s4", { base: "s5", offset: G.workers }).br("ne", "s4", 0, "workers");
    f.call("cpu_count").mov("s4", "a0").call("cpu_quota").br("eq", "a0", 0, "workers");
    f.br("geu", "a0", "s4", "workers").mov("s4", "a0");
    // a listener here first, so that a port in use or privileged, or a SPECK_ADDR of another machine,
    // is one line before any worker starts; then each worker opens its own (SO_REUSEPORT)
    f.label("workers").call("raise_file_limit");
    f.label("listen").call("open_listener").br("lt", "a0", 0, "cannot_listen");
    f.store(8, "a0", { base: "s5", offset: G.listenFd }).br("leu", "s4", 1, "single");
    f.syscall("close").mov("a0", "s4").call("supervise").mov("s4", 1).jmp("listen");
    f.label("single");
    f.call("map_tables").br("ne", "a0", 0, "fail");
    f.mov("a0", 0)
      .syscall("epoll_create1")
      .br("lt", "a0", 0, "fail")
      .store(8, "a0", { base: "s5", offset: G.epollFd });
    f.call("serve").call("log_flush").mov("a0", 0).syscall("exit_group");
    // the port in decimal, then the reason for the errno
    f.label("cannot_listen")
      .neg("s3", "a0")
      .load(8, "a0", { base: "s5", offset: G.port })
      .addr("a1", "scratch");
    f.mov("a2", 0).call("decimal").store(1, 0, "a0").addr("a3", "listen_reasons");
    f.label("reason").load(1, "a1", "a3").load(1, "a4", { base: "a3", offset: 1 }).add("a3", "a3", 2);
    f.br("eq", "a1", "s3", "explain").br("eq", "a1", 0, "explain").add("a3", "a3", "a4").jmp("reason");
    f.label("explain")
      .addr("a0", "scratch")
      .addr("a1", "cannot_listen")
      .mov("a2", CANNOT_LISTEN.length)
      .call("fatal");
    f.label("fail").mov("a0", 2).addr("a1", "cannot_start").mov("a2", CANNOT_START.length).syscall("write");
    f.mov("a0", 1).syscall("exit_group");
  });
}
