// Reference semantics of the IR: runs a Program in-process over a flat little-endian memory, so IR
// code can be unit-tested and fuzzed without an encoder, and the encoders can be checked against it.

import {
  type Base,
  type Cond,
  type Func,
  type Insn,
  type Mem,
  type Program,
  REGS,
  type Size,
} from "./types.ts";

const MASK = (1n << 64n) - 1n;
const REG_INDEX: Record<Base, number> = Object.fromEntries([...REGS, "sp"].map((r, i) => [r, i])) as Record<
  Base,
  number
>;
const SP = REG_INDEX.sp;

/** The interpreter's memory: one buffer from address `base`, with little-endian accessors. */
export class Memory {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private brk: number;

  constructor(
    readonly base: number,
    size: number,
    /** First free address for `allocate` (above data, below the stack). */
    heapStart: number,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.brk = heapStart;
  }

  private at(address: bigint | number, size: number): number {
    const offset = Number(address) - this.base;
    if (!(offset >= 0 && offset + size <= this.bytes.length)) {
      throw new Error(`memory: access of ${size} bytes at 0x${address.toString(16)} is outside memory`);
    }
    return offset;
  }

  load(address: bigint | number, size: Size): bigint {
    const o = this.at(address, size);
    switch (size) {
      case 1:
        return BigInt(this.bytes[o]!);
      case 2:
        return BigInt(this.view.getUint16(o, true));
      case 4:
        return BigInt(this.view.getUint32(o, true));
      case 8:
        return this.view.getBigUint64(o, true);
    }
  }

  store(address: bigint | number, size: Size, value: bigint): void {
    const o = this.at(address, size);
    switch (size) {
      case 1:
        this.bytes[o] = Number(value & 0xffn);
        return;
      case 2:
        this.view.setUint16(o, Number(value & 0xffffn), true);
        return;
      case 4:
        this.view.setUint32(o, Number(value & 0xffffffffn), true);
        return;
      case 8:
        this.view.setBigUint64(o, value & MASK, true);
        return;
    }
  }

  read(address: bigint | number, length: number): Uint8Array {
    const o = this.at(address, length);
    return this.bytes.slice(o, o + length);
  }

  write(address: bigint | number, data: Uint8Array): void {
    this.bytes.set(data, this.at(address, data.length));
  }

  /** Bump-allocates zeroed memory (for emulated mmap); returns its address. */
  allocate(size: number, align = 4096): number {
    const address = Math.ceil(this.brk / align) * align;
    this.at(address, size);
    this.brk = address + size;
    return address;
  }
}

/** Ends a run: thrown by the exit syscalls, caught by `interpret`. */
export class Exit {
  constructor(readonly code: number) {}
}

/** Handles one syscall; returns the value for a0 (a negative errno on failure) or throws `Exit`. */
export type SyscallHandler = (name: string, args: readonly bigint[], memory: Memory) => bigint;

export interface InterpretOptions {
  syscall: SyscallHandler;
  argv?: string[];
  envp?: string[];
  /** Instructions executed before the run is declared runaway. */
  maxSteps?: number;
  stackSize?: number;
  heapSize?: number;
}

export interface InterpretResult {
  exitCode: number;
  steps: number;
  memory: Memory;
  /** Address of each data symbol. */
  symbols: Map<string, number>;
}

type Step = (regs: BigUint64Array) => number;

const DATA_BASE = 0x10000;
const FUNC_BASE = 0x7f00_0000;

function signed(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

function compare(cond: Cond, a: bigint, b: bigint): boolean {
  switch (cond) {
    case "eq":
      return a === b;
    case "ne":
      return a !== b;
    case "lt":
      return signed(a) < signed(b);
    case "le":
      return signed(a) <= signed(b);
    case "gt":
      return signed(a) > signed(b);
    case "ge":
      return signed(a) >= signed(b);
    case "ltu":
      return a < b;
    case "leu":
      return a <= b;
    case "gtu":
      return a > b;
    case "geu":
      return a >= b;
  }
}

function binary(kind: string, a: bigint, b: bigint): bigint {
  switch (kind) {
    case "add":
      return (a + b) & MASK;
    case "sub":
      return (a - b) & MASK;
    case "mul":
      return (a * b) & MASK;
    case "udiv":
      if (b === 0n) throw new Error("interpret: udiv by zero");
      return a / b;
    case "urem":
      if (b === 0n) throw new Error("interpret: urem by zero");
      return a % b;
    case "and":
      return a & b;
    case "or":
      return a | b;
    case "xor":
      return a ^ b;
    case "shl":
      return (a << (b & 63n)) & MASK;
    case "shr":
      return a >> (b & 63n);
    case "sar":
      return BigInt.asUintN(64, signed(a) >> (b & 63n));
    default:
      throw new Error(`interpret: unknown operation ${kind}`);
  }
}

/** Runs `program` from its entry function until an exit syscall; throws on a fault or a runaway. */
export function interpret(program: Program, options: InterpretOptions): InterpretResult {
  const symbols = new Map<string, number>();
  let cursor = DATA_BASE;
  for (const d of program.data) {
    cursor = Math.ceil(cursor / Math.max(d.align, 1)) * Math.max(d.align, 1);
    symbols.set(d.name, cursor);
    cursor += Math.max(d.size, 1);
  }
  const heapStart = Math.ceil(cursor / 4096) * 4096 + 4096;
  const heapSize = options.heapSize ?? 1 << 20;
  const stackSize = options.stackSize ?? 1 << 20;
  const memory = new Memory(DATA_BASE, heapStart - DATA_BASE + heapSize + stackSize, heapStart);
  for (const d of program.data) if (d.bytes) memory.write(symbols.get(d.name)!, d.bytes);
  program.funcs.forEach((f, i) => {
    symbols.set(f.name, FUNC_BASE + i * 16);
  });

  const funcIndex = new Map(program.funcs.map((f, i) => [f.name, i]));
  const compiled: Step[][] = [];
  const frames: number[] = program.funcs.map((f) => Math.ceil(f.frame / 16) * 16);
  const savedOf: number[][] = program.funcs.map((f) => f.saves.map((r) => REG_INDEX[r]));

  // Call stack: return function, return index, caller sp and the saved registers of the callee.
  const callStack: { func: number; pc: number; saved: bigint[] }[] = [];
  let current = funcIndex.get(program.entry)!;
  let pendingCall = -1;
  let returning = false;

  function address(regs: BigUint64Array, mem: Mem): bigint {
    let a = regs[REG_INDEX[mem.base]]! + BigInt(mem.offset);
    if (mem.index) a += regs[REG_INDEX[mem.index]]! * BigInt(mem.scale ?? 1);
    return a & MASK;
  }

  function compile(func: Func): Step[] {
    const labels = new Map<string, number>();
    func.body.forEach((insn, i) => {
      if (insn.op === "label") labels.set(insn.name, i);
    });
    const target = (name: string): number => {
      const at = labels.get(name);
      if (at === undefined) throw new Error(`interpret: fn ${func.name}: label "${name}" is not defined`);
      return at;
    };
    const lower = (insn: Insn, i: number): Step => {
      const next = i + 1;
      switch (insn.op) {
        case "mov": {
          const d = REG_INDEX[insn.dst];
          if (typeof insn.src === "bigint") {
            const v = insn.src & MASK;
            return (r) => {
              r[d] = v;
              return next;
            };
          }
          const s = REG_INDEX[insn.src];
          return (r) => {
            r[d] = r[s]!;
            return next;
          };
        }
        case "bin": {
          const d = REG_INDEX[insn.dst];
          const a = REG_INDEX[insn.a];
          const kind = insn.kind;
          if (typeof insn.b === "bigint") {
            const v = insn.b & MASK;
            return (r) => {
              r[d] = binary(kind, r[a]!, v);
              return next;
            };
          }
          const b = REG_INDEX[insn.b];
          return (r) => {
            r[d] = binary(kind, r[a]!, r[b]!);
            return next;
          };
        }
        case "un": {
          const d = REG_INDEX[insn.dst];
          const a = REG_INDEX[insn.a];
          if (insn.kind === "neg")
            return (r) => {
              r[d] = -r[a]! & MASK;
              return next;
            };
          return (r) => {
            r[d] = ~r[a]! & MASK;
            return next;
          };
        }
        case "load": {
          const d = REG_INDEX[insn.dst];
          const { size, mem } = insn;
          return (r) => {
            r[d] = memory.load(address(r, mem), size);
            return next;
          };
        }
        case "store": {
          const { size, mem, src } = insn;
          if (typeof src === "bigint")
            return (r) => {
              memory.store(address(r, mem), size, src & MASK);
              return next;
            };
          const s = REG_INDEX[src];
          return (r) => {
            memory.store(address(r, mem), size, r[s]!);
            return next;
          };
        }
        case "addr": {
          const d = REG_INDEX[insn.dst];
          const at = symbols.get(insn.symbol);
          if (at === undefined)
            throw new Error(`interpret: fn ${func.name}: symbol "${insn.symbol}" is not defined`);
          const v = BigInt(at + insn.offset);
          return (r) => {
            r[d] = v;
            return next;
          };
        }
        case "label":
          return () => next;
        case "jmp": {
          const t = target(insn.target);
          return () => t;
        }
        case "br": {
          const t = target(insn.target);
          const a = REG_INDEX[insn.a];
          const cond = insn.cond;
          if (typeof insn.b === "bigint") {
            const v = insn.b & MASK;
            return (r) => (compare(cond, r[a]!, v) ? t : next);
          }
          const b = REG_INDEX[insn.b];
          return (r) => (compare(cond, r[a]!, r[b]!) ? t : next);
        }
        case "call": {
          const callee = funcIndex.get(insn.fn);
          if (callee === undefined)
            throw new Error(`interpret: fn ${func.name}: function "${insn.fn}" is not defined`);
          return () => {
            pendingCall = callee;
            return next;
          };
        }
        case "ret":
          return () => {
            returning = true;
            return next;
          };
        case "syscall": {
          const name = insn.name;
          return (r) => {
            const args = [r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!];
            r[0] = options.syscall(name, args, memory) & MASK;
            return next;
          };
        }
      }
    };
    return func.body.map(lower);
  }
  program.funcs.forEach((f, i) => {
    compiled[i] = compile(f);
  });

  const regs = new BigUint64Array(REGS.length + 1);
  regs[SP] = BigInt(memory.base + memory.bytes.length);
  regs[0] = setUpInitialStack(memory, regs, options.argv ?? ["speck"], options.envp ?? []);
  const maxSteps = options.maxSteps ?? 50_000_000;
  let steps = 0;
  let pc = 0;
  let code = compiled[current]!;
  regs[SP] -= BigInt(frames[current]!);
  try {
    for (;;) {
      if (pc >= code.length) throw new Error(`interpret: fn ${program.funcs[current]!.name} ran off its end`);
      if (++steps > maxSteps) throw new Error(`interpret: more than ${maxSteps} steps (runaway program?)`);
      pc = code[pc]!(regs);
      if (pendingCall >= 0) {
        const callee = pendingCall;
        pendingCall = -1;
        callStack.push({ func: current, pc, saved: savedOf[callee]!.map((i) => regs[i]!) });
        if (callStack.length > 100_000) throw new Error("interpret: call depth over 100000");
        current = callee;
        code = compiled[current]!;
        pc = 0;
        regs[SP] -= BigInt(frames[current]! + 16);
      } else if (returning) {
        returning = false;
        const frame = callStack.pop();
        if (!frame)
          throw new Error(`interpret: fn ${program.funcs[current]!.name} returned from the entry function`);
        regs[SP] += BigInt(frames[current]! + 16);
        savedOf[current]!.forEach((reg, k) => {
          regs[reg] = frame.saved[k]!;
        });
        current = frame.func;
        code = compiled[current]!;
        pc = frame.pc;
      }
    }
  } catch (error) {
    if (error instanceof Exit) return { exitCode: error.code, steps, memory, symbols };
    throw error;
  }
}

/** Writes argc, argv and envp the way the kernel does and returns the initial stack pointer. */
function setUpInitialStack(memory: Memory, regs: BigUint64Array, argv: string[], envp: string[]): bigint {
  const encoder = new TextEncoder();
  let top = Number(regs[SP]!) - 16;
  const pointers = (strings: string[]): number[] =>
    strings.map((s) => {
      const bytes = encoder.encode(`${s}\0`);
      top -= bytes.length;
      memory.write(top, bytes);
      return top;
    });
  const argvAt = pointers(argv);
  const envAt = pointers(envp);
  const words = [argv.length, ...argvAt, 0, ...envAt, 0, 0, 0];
  top = Math.floor((top - words.length * 8) / 16) * 16;
  words.forEach((w, i) => {
    memory.store(top + i * 8, 8, BigInt(w));
  });
  regs[SP] = BigInt(top);
  return BigInt(top);
}
