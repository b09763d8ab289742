// Linux facts that differ between the two targets, one table each, so they can be read side by side
// and checked against the kernel headers: syscall numbers, flag values and kernel struct layouts.
// Sources: arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h.

import type { KernelLayouts } from "./types.ts";

/** name: [x86-64 number, arm64 number]; null where the arch has no such call. */
export const SYSCALLS: Record<string, readonly [number | null, number | null]> = {
  read: [0, 63],
  write: [1, 64],
  open: [2, null],
  close: [3, 57],
  ioctl: [16, 29],
  fstat: [5, 80],
  lseek: [8, 62],
  mmap: [9, 222],
  mprotect: [10, 226],
  munmap: [11, 215],
  rt_sigaction: [13, 134],
  rt_sigprocmask: [14, 135],
  rt_sigreturn: [15, 139],
  readv: [19, 65],
  writev: [20, 66],
  madvise: [28, 233],
  nanosleep: [35, 101],
  getpid: [39, 172],
  sendfile: [40, 71],
  socket: [41, 198],
  connect: [42, 203],
  sendto: [44, 206],
  recvfrom: [45, 207],
  shutdown: [48, 210],
  bind: [49, 200],
  listen: [50, 201],
  getsockname: [51, 204],
  getpeername: [52, 205],
  setsockopt: [54, 208],
  getsockopt: [55, 209],
  clone: [56, 220],
  fork: [57, null],
  exit: [60, 93],
  wait4: [61, 260],
  kill: [62, 129],
  fcntl: [72, 25],
  getppid: [110, 173],
  getrlimit: [97, 163],
  setrlimit: [160, 164],
  prctl: [157, 167],
  sched_getaffinity: [204, 123],
  epoll_wait: [232, null],
  epoll_ctl: [233, 21],
  clock_gettime: [228, 113],
  exit_group: [231, 94],
  openat: [257, 56],
  ppoll: [271, 73],
  epoll_pwait: [281, 22],
  accept4: [288, 242],
  epoll_create1: [291, 20],
  dup3: [292, 24],
  pipe2: [293, 59],
  prlimit64: [302, 261],
  getrandom: [318, 278],
};

/** Flag values that differ by arch (fcntl.h): [x86-64, arm64]. */
export const DIFFERING_CONSTANTS: Record<string, readonly [bigint, bigint]> = {
  O_DIRECT: [0o40000n, 0o200000n],
  O_LARGEFILE: [0o100000n, 0o400000n],
  O_DIRECTORY: [0o200000n, 0o40000n],
  O_NOFOLLOW: [0o400000n, 0o100000n],
  /** x86-64 signal handlers must return through sa_restorer; arm64 uses the vDSO trampoline. */
  SA_RESTORER_REQUIRED: [1n, 0n],
};

export const LAYOUTS: Readonly<Record<"x64" | "a64", KernelLayouts>> = {
  x64: {
    epollEvent: { size: 12, events: 0, data: 4 },
    sigaction: { size: 32, handler: 0, flags: 8, restorer: 16, mask: 24 },
    stat: { size: 144, mode: 24, size_: 48, mtime: 88 },
  },
  a64: {
    epollEvent: { size: 16, events: 0, data: 8 },
    sigaction: { size: 32, handler: 0, flags: 8, restorer: 16, mask: 24 },
    stat: { size: 128, mode: 16, size_: 48, mtime: 88 },
  },
};

/** The syscall table of one arch: name → number, leaving out calls it does not have. */
export function syscallsFor(arch: 0 | 1): Record<string, number> {
  const table: Record<string, number> = {};
  for (const [name, numbers] of Object.entries(SYSCALLS).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const number = numbers[arch];
    if (number !== null) table[name] = number;
  }
  return table;
}

/** The differing constants of one arch. */
export function constantsFor(arch: 0 | 1): Record<string, bigint> {
  return Object.fromEntries(
    Object.entries(DIFFERING_CONSTANTS).map(([name, values]) => [name, values[arch]]),
  );
}
