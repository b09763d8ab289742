import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { inCI } from "../../../test/support/tools.ts";
import { a64 } from "./a64/index.ts";
import { DIFFERING_CONSTANTS, SYSCALLS } from "./linux.ts";
import { x64 } from "./x64/index.ts";

/** `#define __NR_name N` (and asm-generic's `__NR3264_name N`) from a kernel header. */
function headerNumbers(path: string): Map<string, number> {
  const numbers = new Map<string, number>();
  for (const m of readFileSync(path, "utf8").matchAll(/#define __NR(?:3264)?_(\w+)\s+(\d+)/g))
    numbers.set(m[1]!, Number(m[2]));
  return numbers;
}

const HEADERS = [
  { arch: 0, target: x64, path: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h" },
  { arch: 1, target: a64, path: "/usr/include/asm-generic/unistd.h" },
] as const;

for (const { arch, target, path } of HEADERS) {
  test(`${target.name} syscall numbers equal the kernel header's (${path})`, (t) => {
    if (!existsSync(path)) {
      if (inCI) throw new Error(`${path} is missing: apt-get install linux-libc-dev`);
      t.skip(`${path} is missing: apt-get install linux-libc-dev`);
      return;
    }
    const numbers = headerNumbers(path);
    for (const [name, both] of Object.entries(SYSCALLS)) {
      const ours = both[arch];
      if (ours === null) assert.equal(numbers.has(name), false, `${name} should not exist on ${target.name}`);
      else assert.equal(ours, numbers.get(name), `${name} on ${target.name}`);
    }
  });
}

test("arm64 has no open, fork or epoll_wait, and both targets have what a server needs", () => {
  for (const name of ["open", "fork", "epoll_wait"]) assert.equal(a64.syscalls[name], undefined);
  for (const name of [
    "socket",
    "bind",
    "listen",
    "accept4",
    "epoll_pwait",
    "epoll_ctl",
    "writev",
    "clone",
    "rt_sigaction",
  ])
    for (const t of [x64, a64]) assert.equal(typeof t.syscalls[name], "number", `${t.name} ${name}`);
  assert.equal(
    new Set(Object.values(x64.syscalls)).size,
    Object.keys(x64.syscalls).length,
    "x64 numbers are unique",
  );
  assert.equal(
    new Set(Object.values(a64.syscalls)).size,
    Object.keys(a64.syscalls).length,
    "a64 numbers are unique",
  );
});

test("epoll_event is 12 packed bytes on x86-64 and 16 on arm64; differing constants differ", () => {
  assert.deepEqual(x64.layouts.epollEvent, { size: 12, events: 0, data: 4 });
  assert.deepEqual(a64.layouts.epollEvent, { size: 16, events: 0, data: 8 });
  for (const [name, [onX64, onA64]] of Object.entries(DIFFERING_CONSTANTS)) {
    assert.notEqual(onX64, onA64, name);
    assert.equal(x64.constants[name], onX64);
    assert.equal(a64.constants[name], onA64);
  }
});
