// The x86-64 ABI tables: internally consistent, complete for a server, and equal to what the
// kernel's own headers say (a probe compiled with gcc prints every number and offset).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { requireCommands } from "../../../../test/support/tools.ts";
import { REGS } from "../../ir/types.ts";
import { CONSTANTS, LAYOUTS_X64, PHYSICAL, REGISTER_NAMES, SCRATCH, SYSCALLS } from "./abi.ts";
import { REG_NAMES, RSP } from "./encode.ts";

/** Every syscall the server and its tests may use (the brief of issue 3). */
const REQUIRED = [
  "read",
  "write",
  "writev",
  "close",
  "open",
  "openat",
  "fstat",
  "mmap",
  "munmap",
  "mprotect",
  "socket",
  "setsockopt",
  "getsockopt",
  "bind",
  "listen",
  "accept4",
  "connect",
  "shutdown",
  "epoll_create1",
  "epoll_ctl",
  "epoll_wait",
  "epoll_pwait",
  "rt_sigaction",
  "rt_sigprocmask",
  "rt_sigreturn",
  "clone",
  "fork",
  "wait4",
  "kill",
  "getpid",
  "getppid",
  "exit",
  "exit_group",
  "clock_gettime",
  "nanosleep",
  "sched_getaffinity",
  "sendfile",
  "prctl",
  "getrandom",
  "ppoll",
  "dup3",
  "pipe2",
];

test("x64 syscall table: every required name, unique numbers, known spot values", () => {
  for (const name of REQUIRED) assert.equal(typeof SYSCALLS[name], "number", `${name} is missing`);
  const seen = new Map<number, string>();
  for (const [name, number] of Object.entries(SYSCALLS)) {
    assert.ok(Number.isInteger(number) && number >= 0 && number < 512, `${name}: ${number}`);
    assert.equal(seen.get(number), undefined, `${name} and ${seen.get(number)} share ${number}`);
    seen.set(number, name);
  }
  // A few numbers every x86-64 programmer knows by heart, independent of any header.
  assert.deepEqual(
    [SYSCALLS.read, SYSCALLS.write, SYSCALLS.exit, SYSCALLS.exit_group, SYSCALLS.rt_sigreturn],
    [0, 1, 60, 231, 15],
  );
});

test("x64 register map: one-to-one, syscall argument order, callee-saved s-registers, scratch kept out", () => {
  const hardware = REGS.map((r) => PHYSICAL[r]);
  assert.equal(new Set(hardware).size, REGS.length, "two IR registers share a hardware register");
  for (const r of hardware) {
    assert.ok(!SCRATCH.includes(r), `${REG_NAMES[r]} is encoder scratch`);
    assert.notEqual(r, RSP);
  }
  assert.equal(PHYSICAL.sp, RSP);
  // The kernel takes syscall arguments in rdi rsi rdx r10 r8 r9; a0..a5 are exactly those.
  assert.deepEqual(
    ["a0", "a1", "a2", "a3", "a4", "a5"].map((r) => REGISTER_NAMES[r as "a0"]),
    ["rdi", "rsi", "rdx", "r10", "r8", "r9"],
  );
  // Signal handlers are called like C functions: s0..s5 must be what C preserves.
  assert.deepEqual(
    ["s0", "s1", "s2", "s3", "s4", "s5"].map((r) => REGISTER_NAMES[r as "s0"]).sort(),
    ["rbx", "rbp", "r12", "r13", "r14", "r15"].sort(),
  );
});

/** A C program printing, as JSON, what the x86-64 kernel headers say about every table entry. */
function probeSource(): string {
  const lines = [
    "#include <stddef.h>",
    "#include <stdio.h>",
    "#include <asm/unistd.h>",
    "#include <asm/stat.h>",
    "#include <asm/signal.h>",
    "#include <asm/fcntl.h>",
    "#include <linux/eventpoll.h>",
    "int main(void) {",
    '  printf("{\\"syscalls\\":{");',
  ];
  for (const name of Object.keys(SYSCALLS))
    lines.push(`#ifdef __NR_${name}`, `  printf("\\"${name}\\":%d,", __NR_${name});`, "#endif");
  lines.push('  printf("\\"\\":0},\\"constants\\":{");');
  for (const name of Object.keys(CONSTANTS))
    lines.push(`#ifdef ${name}`, `  printf("\\"${name}\\":%llu,", (unsigned long long)(${name}));`, "#endif");
  const offsets = (struct: string, fields: string[]) => [
    `sizeof(struct ${struct})`,
    ...fields.map((f) => `offsetof(struct ${struct}, ${f})`),
  ];
  const layouts = {
    epollEvent: offsets("epoll_event", ["events", "data"]),
    sigaction: offsets("sigaction", ["sa_handler", "sa_flags", "sa_restorer", "sa_mask"]),
    stat: offsets("stat", ["st_mode", "st_size", "st_mtime"]),
  };
  lines.push('  printf("\\"\\":0},\\"layouts\\":{");');
  Object.entries(layouts).forEach(([name, values], i) => {
    lines.push(
      `  printf("${i ? "," : ""}\\"${name}\\":[${values.map(() => "%zu").join(",")}]", ${values.join(", ")});`,
    );
  });
  lines.push(`  printf("},\\"SA_RESTORER\\":%d}", SA_RESTORER);`, "  return 0;", "}");
  return lines.join("\n");
}

test("x64 tables equal the kernel headers: syscall numbers, differing flags, struct layouts", (t) => {
  if (!requireCommands(t, ["gcc"], "apt-get install gcc linux-libc-dev")) return;
  const dir = mkdtempSync(join(tmpdir(), "speck-abi-"));
  try {
    writeFileSync(join(dir, "probe.c"), probeSource());
    execFileSync("gcc", ["-m64", "-o", join(dir, "probe"), join(dir, "probe.c")], { stdio: "pipe" });
    const headers = JSON.parse(execFileSync(join(dir, "probe"), { encoding: "utf8" }));
    for (const [name, number] of Object.entries(SYSCALLS))
      assert.equal(headers.syscalls[name], number, `__NR_${name}`);
    let checked = 0;
    for (const [name, value] of Object.entries(CONSTANTS)) {
      if (headers.constants[name] === undefined) continue;
      assert.equal(BigInt(headers.constants[name]), value, name);
      checked++;
    }
    for (const name of ["O_DIRECTORY", "O_NOFOLLOW", "O_LARGEFILE", "O_DIRECT"])
      assert.ok(headers.constants[name] !== undefined, `${name} is in the table and the headers`);
    t.diagnostic(`${Object.keys(SYSCALLS).length} syscalls and ${checked} constants checked`);
    const { epollEvent, sigaction, stat } = LAYOUTS_X64;
    assert.deepEqual(headers.layouts.epollEvent, [epollEvent.size, epollEvent.events, epollEvent.data]);
    assert.deepEqual(headers.layouts.sigaction, [
      sigaction.size,
      sigaction.handler,
      sigaction.flags,
      sigaction.restorer,
      sigaction.mask,
    ]);
    assert.deepEqual(headers.layouts.stat, [stat.size, stat.mode, stat.size_, stat.mtime]);
    // x86-64 defines SA_RESTORER and the kernel needs it: there is no vDSO return trampoline.
    assert.equal(headers.SA_RESTORER, 0x04000000);
    assert.equal(CONSTANTS.SA_RESTORER_REQUIRED, 1n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
