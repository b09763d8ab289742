// Which registers hold a value some later instruction may still read, after every instruction of
// every function: a backward dataflow over each function's control flow, with a call reading what
// its callee reads before writing (a fixpoint over the call graph) and clobbering a0..a5. Lowering
// uses it to skip work for dead values; the optimizer to drop instructions whose result nobody reads.

import { type Insn, type Mem, type Program, REGS, type Reg, SAVED_REGS, type Src } from "./types.ts";

/** A set of IR registers as a bit mask, bit i standing for REGS[i]. */
export type RegSet = number;

const BIT = Object.fromEntries(REGS.map((r, i) => [r, 1 << i])) as Record<Reg, number>;

/** The set holding only `reg`. */
export const regBit = (reg: Reg): RegSet => BIT[reg];

const ARGS: RegSet = 0b111111;
const SAVED: RegSet = SAVED_REGS.reduce((set, r) => set | BIT[r], 0);

/** Syscalls after which control never continues. */
export const NO_RETURN_SYSCALLS: ReadonlySet<string> = new Set(["exit", "exit_group", "rt_sigreturn"]);

/**
 * Arguments each Linux syscall reads (its C signature); a syscall not listed is taken to read all
 * six argument registers.
 */
const SYSCALL_ARGS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(["getpid", "getppid", "fork", "rt_sigreturn"].map((n) => [n, 0])),
  ...Object.fromEntries(["close", "exit", "exit_group", "epoll_create1"].map((n) => [n, 1])),
  ...Object.fromEntries(
    [
      "fstat",
      "munmap",
      "nanosleep",
      "shutdown",
      "listen",
      "kill",
      "getrlimit",
      "setrlimit",
      "clock_gettime",
      "pipe2",
    ].map((n) => [n, 2]),
  ),
  ...Object.fromEntries(
    [
      "read",
      "write",
      "open",
      "mprotect",
      "readv",
      "writev",
      "madvise",
      "socket",
      "connect",
      "bind",
      "getsockname",
      "getpeername",
      "fcntl",
      "sched_getaffinity",
      "dup3",
      "getrandom",
      "ioctl",
      "lseek",
    ].map((n) => [n, 3]),
  ),
  ...Object.fromEntries(
    [
      "rt_sigaction",
      "rt_sigprocmask",
      "sendfile",
      "wait4",
      "epoll_wait",
      "epoll_ctl",
      "openat",
      "accept4",
      "prlimit64",
    ].map((n) => [n, 4]),
  ),
  ...Object.fromEntries(["setsockopt", "getsockopt", "clone", "prctl", "ppoll"].map((n) => [n, 5])),
  ...Object.fromEntries(["mmap", "epoll_pwait"].map((n) => [n, 6])),
};

const srcSet = (s: Src): RegSet => (typeof s === "bigint" ? 0 : BIT[s]);
const memSet = (m: Mem): RegSet => (m.base === "sp" ? 0 : BIT[m.base]) | (m.index ? BIT[m.index] : 0);

/** Registers `insn` writes: a call clobbers every argument register. */
export function defsOf(insn: Insn): RegSet {
  switch (insn.op) {
    case "mov":
    case "bin":
    case "un":
    case "load":
    case "addr":
      return BIT[insn.dst];
    case "call":
      return ARGS;
    case "syscall":
      return BIT.a0;
    default:
      return 0;
  }
}

/**
 * Registers `insn` reads; `callee` gives what a called function reads before writing, `returned`
 * the argument registers some caller of the function `insn` is in reads after the call.
 */
function usesOf(insn: Insn, callee: (name: string) => RegSet, returned: RegSet): RegSet {
  switch (insn.op) {
    case "mov":
      return srcSet(insn.src);
    case "bin":
      return BIT[insn.a] | srcSet(insn.b);
    case "un":
      return BIT[insn.a];
    case "load":
      return memSet(insn.mem);
    case "store":
      return memSet(insn.mem) | srcSet(insn.src);
    case "br":
      return BIT[insn.a] | srcSet(insn.b);
    case "call":
      return callee(insn.fn);
    case "syscall":
      return (1 << (SYSCALL_ARGS[insn.name] ?? 6)) - 1;
    case "handoff":
      return BIT[insn.target];
    case "ret":
      // The saved registers are restored and the others never written: only what callers read
      // after the call matters (a0, the result, and in IR that relies on it, an untouched a1..a5).
      return returned;
    default:
      return 0;
  }
}

/** Indexes of the instructions control may go to after instruction `i`. */
export function successors(body: readonly Insn[], i: number, labels: ReadonlyMap<string, number>): number[] {
  const insn = body[i]!;
  const next = i + 1 < body.length ? [i + 1] : [];
  switch (insn.op) {
    case "jmp":
      return [labels.get(insn.target)!];
    case "br":
      return [...next, labels.get(insn.target)!];
    case "ret":
    case "handoff":
      return [];
    case "syscall":
      return NO_RETURN_SYSCALLS.has(insn.name) ? [] : next;
    default:
      return next;
  }
}

/** Index of every label in a body. */
export function labelIndexes(body: readonly Insn[]): Map<string, number> {
  const at = new Map<string, number>();
  body.forEach((insn, i) => {
    if (insn.op === "label") at.set(insn.name, i);
  });
  return at;
}

/**
 * Live-in and live-out sets of one function's instructions, given what each callee reads
 * (`callee`), what this function's callers read after calling it (`returned`) and the saved
 * registers live everywhere (a signal handler's). A backend that rearranges a body reruns this
 * on its own version with the facts from `analyzeLiveness`.
 */
export function analyzeBody(
  body: readonly Insn[],
  callee: (name: string) => RegSet,
  returned: RegSet,
  alwaysLive: RegSet,
): { liveOut: RegSet[]; liveIn: RegSet[] } {
  const labels = labelIndexes(body);
  const succ = body.map((_, i) => successors(body, i, labels));
  const uses = body.map((insn) => usesOf(insn, callee, returned));
  const defs = body.map(defsOf);
  const liveIn = new Array<RegSet>(body.length).fill(0);
  const liveOut = new Array<RegSet>(body.length).fill(0);
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = body.length - 1; i >= 0; i--) {
      let out = alwaysLive;
      for (const s of succ[i]!) out |= liveIn[s]!;
      const into = uses[i]! | (out & ~defs[i]!);
      if (out !== liveOut[i] || into !== liveIn[i]) {
        liveOut[i] = out;
        liveIn[i] = into;
        changed = true;
      }
    }
  }
  return { liveOut, liveIn };
}

/** Liveness of a whole program: per function, the registers live after each instruction. */
export interface Liveness {
  /** Registers live after instruction `i` of function `func`. */
  after(func: string, i: number): RegSet;
  /** Registers live before instruction `i` of function `func`. */
  before(func: string, i: number): RegSet;
  /** Registers live when function `func` starts. */
  entry(func: string): RegSet;
  /** The argument registers some caller of `func` reads after the call (live at its `ret`s). */
  returned(func: string): RegSet;
  /** The saved registers a signal handler reads: live everywhere. */
  alwaysLive: RegSet;
}

/**
 * Computes liveness for every function of a verified program. Saved registers a signal handler
 * (any function whose address is taken) reads stay live everywhere, since it may run anywhere; at
 * a `ret`, the argument registers some caller reads after the call are live (a0 normally). Both
 * grow from nothing to a fixpoint, so what is found live is what some path may read.
 */
export function analyzeLiveness(program: Program): Liveness {
  const liveIn = new Map<string, RegSet>(program.funcs.map((f) => [f.name, 0]));
  const callee = (name: string) => liveIn.get(name) ?? ARGS | SAVED;
  const handlers = new Set(
    program.funcs.flatMap((f) => f.body.flatMap((insn) => (insn.op === "addr" ? [insn.symbol] : []))),
  );
  const returned = new Map<string, RegSet>();
  let results = new Map<string, { liveOut: RegSet[]; liveIn: RegSet[] }>();
  let alwaysLive = 0;
  for (let changed = true; changed; ) {
    changed = false;
    alwaysLive = 0;
    for (const name of handlers) alwaysLive |= (liveIn.get(name) ?? 0) & SAVED;
    results = new Map();
    for (const func of program.funcs) {
      const result = analyzeBody(func.body, callee, returned.get(func.name) ?? 0, alwaysLive);
      const { liveOut } = result;
      results.set(func.name, result);
      const merged = (result.liveIn[0] ?? 0) | liveIn.get(func.name)!;
      if (merged !== liveIn.get(func.name)) {
        liveIn.set(func.name, merged);
        changed = true;
      }
      func.body.forEach((insn, i) => {
        if (insn.op !== "call") return;
        const before = returned.get(insn.fn) ?? 0;
        const after = before | (liveOut[i]! & ARGS);
        if (after !== before) {
          returned.set(insn.fn, after);
          changed = true;
        }
      });
    }
  }
  return {
    after: (func, i) => results.get(func)?.liveOut[i] ?? ARGS | SAVED,
    before: (func, i) => results.get(func)?.liveIn[i] ?? ARGS | SAVED,
    entry: (func) => liveIn.get(func) ?? ARGS | SAVED,
    returned: (func) => returned.get(func) ?? 0,
    alwaysLive,
  };
}
