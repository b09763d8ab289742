// Reference semantics of the IR: runs a Program in-process over a flat little-endian memory, so IR
// code can be unit-tested and fuzzed without an encoder, and the encoders can be checked against it.
// Functions are compiled once per Program into arrays of closures with labels resolved to indexes;
// a Machine holds the registers and memory of one run and can also call single functions. Programs
// are verified first, so the interpreter accepts exactly what the linker accepts (bar syscall names).

import { formatInsn } from "./format.ts";
import {
  type Base,
  type Cond,
  type Func,
  type Insn,
  type Mem,
  type Program,
  REGS,
  type Reg,
} from "./types.ts";
import { verify } from "./verify.ts";

/** Register file slots: a0..a5, s0..s5, sp, then the program's constants (immediates). */
const SLOT: Record<Base, number> = Object.fromEntries([...REGS, "sp"].map((r, i) => [r, i])) as Record<
  Base,
  number
>;
const SP = SLOT.sp;
const SIGN = 1n << 63n;

/** Where the interpreter places data; functions get fake addresses far above it (for `addr`). */
export const DATA_BASE = 0x10000;
const FUNC_BASE = 0x7f00_0000;
/** Bytes between a caller's and a callee's frame, as a return address and alignment would take. */
const CALL_GAP = 16;

/** The interpreter's memory: one buffer from address `base`, with little-endian accessors. */
export class Memory {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private brk: number;

  constructor(
    readonly base: number,
    size: number,
    /** First free address for `allocate` (above data, below the stack). */
    heapStart: number,
    /** End of the area `allocate` may hand out. */
    readonly heapEnd: number,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.brk = heapStart;
  }

  /** Offset in `bytes` of an access, or a thrown fault when it leaves memory. */
  offset(address: bigint | number, size: number): number {
    const o = Number(address) - this.base;
    if (!(o >= 0 && o + size <= this.bytes.length)) {
      throw new Error(`memory: access of ${size} bytes at 0x${address.toString(16)} is outside memory`);
    }
    return o;
  }

  load(address: bigint | number, size: number): bigint {
    const o = this.offset(address, size);
    switch (size) {
      case 1:
        return BigInt(this.bytes[o]!);
      case 2:
        return BigInt(this.view.getUint16(o, true));
      case 4:
        return BigInt(this.view.getUint32(o, true));
      default:
        return this.view.getBigUint64(o, true);
    }
  }

  store(address: bigint | number, size: number, value: bigint): void {
    const o = this.offset(address, size);
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
      default:
        this.view.setBigUint64(o, BigInt.asUintN(64, value), true);
    }
  }

  read(address: bigint | number, length: number): Uint8Array {
    const o = this.offset(address, length);
    return this.bytes.slice(o, o + length);
  }

  write(address: bigint | number, data: Uint8Array): void {
    this.bytes.set(data, this.offset(address, data.length));
  }

  /** Bump-allocates zeroed memory (for an emulated mmap); returns its address. */
  allocate(size: number, align = 4096): number {
    const address = Math.ceil(this.brk / align) * align;
    if (address + size > this.heapEnd)
      throw new Error(`memory: cannot allocate ${size} bytes: the heap is full (raise heapSize)`);
    this.brk = address + size;
    return address;
  }
}

/** Ends a run: thrown by the exit syscalls, caught by `Machine.run`. */
export class Exit {
  constructor(readonly code: number) {}
}

/** Handles one syscall; returns the value for a0 (a negative errno on failure) or throws `Exit`. */
export type SyscallHandler = (name: string, args: readonly bigint[], memory: Memory) => bigint;

export interface MachineOptions {
  syscall: SyscallHandler;
  /** Instructions one run or call may execute before it is declared runaway (default 50 million). */
  maxSteps?: number;
  /** Bytes of stack (default 128 KiB); deeper calls throw a stack overflow. */
  stackSize?: number;
  /** Bytes `Memory.allocate` may hand out (default 64 KiB). */
  heapSize?: number;
  /** Nested calls before a run is declared runaway (default 100000). */
  maxDepth?: number;
}

export interface InterpretOptions extends MachineOptions {
  argv?: string[];
  envp?: string[];
}

export interface InterpretResult {
  exitCode: number;
  steps: number;
  memory: Memory;
  /** Address of each data symbol and function. */
  symbols: Map<string, number>;
}

/** What a step sees: registers, memory and the control requests of call and ret. */
interface Cpu {
  regs: BigUint64Array;
  memory: Memory;
  syscall: SyscallHandler;
  /** Function index a `call` asks for, or -1. */
  callee: number;
  returning: boolean;
}

/** One compiled instruction: does its work and returns the index of the next. */
type Step = (cpu: Cpu) => number;

interface CompiledFunc {
  name: string;
  source: Func;
  steps: Step[];
  /** Index in the function's body of each step, for error messages. */
  origin: number[];
  frame: number;
  saved: number[];
}

interface Compiled {
  funcs: CompiledFunc[];
  funcIndex: Map<string, number>;
  symbols: Map<string, number>;
  /** End of the data area, rounded to a page. */
  dataEnd: number;
  /** Initial contents of the register file's constant slots. */
  constants: bigint[];
}

const compiledPrograms = new WeakMap<Program, Compiled>();

function branch(cond: Cond, a: number, b: number, target: number, next: number): Step {
  switch (cond) {
    case "eq":
      return (c) => (c.regs[a] === c.regs[b] ? target : next);
    case "ne":
      return (c) => (c.regs[a] !== c.regs[b] ? target : next);
    case "ltu":
      return (c) => (c.regs[a]! < c.regs[b]! ? target : next);
    case "leu":
      return (c) => (c.regs[a]! <= c.regs[b]! ? target : next);
    case "gtu":
      return (c) => (c.regs[a]! > c.regs[b]! ? target : next);
    case "geu":
      return (c) => (c.regs[a]! >= c.regs[b]! ? target : next);
    // Signed order is unsigned order with the sign bit flipped.
    case "lt":
      return (c) => ((c.regs[a]! ^ SIGN) < (c.regs[b]! ^ SIGN) ? target : next);
    case "le":
      return (c) => ((c.regs[a]! ^ SIGN) <= (c.regs[b]! ^ SIGN) ? target : next);
    case "gt":
      return (c) => ((c.regs[a]! ^ SIGN) > (c.regs[b]! ^ SIGN) ? target : next);
    case "ge":
      return (c) => ((c.regs[a]! ^ SIGN) >= (c.regs[b]! ^ SIGN) ? target : next);
  }
}

// Stores into a BigUint64Array wrap modulo 2^64, so results need no masking.
function binary(kind: string, d: number, a: number, b: number, next: number): Step {
  switch (kind) {
    case "add":
      return (c) => {
        c.regs[d] = c.regs[a]! + c.regs[b]!;
        return next;
      };
    case "sub":
      return (c) => {
        c.regs[d] = c.regs[a]! - c.regs[b]!;
        return next;
      };
    case "mul":
      return (c) => {
        c.regs[d] = c.regs[a]! * c.regs[b]!;
        return next;
      };
    case "udiv":
      return (c) => {
        if (c.regs[b] === 0n) throw new Error("udiv by zero");
        c.regs[d] = c.regs[a]! / c.regs[b]!;
        return next;
      };
    case "urem":
      return (c) => {
        if (c.regs[b] === 0n) throw new Error("urem by zero");
        c.regs[d] = c.regs[a]! % c.regs[b]!;
        return next;
      };
    case "and":
      return (c) => {
        c.regs[d] = c.regs[a]! & c.regs[b]!;
        return next;
      };
    case "or":
      return (c) => {
        c.regs[d] = c.regs[a]! | c.regs[b]!;
        return next;
      };
    case "xor":
      return (c) => {
        c.regs[d] = c.regs[a]! ^ c.regs[b]!;
        return next;
      };
    case "shl":
      return (c) => {
        c.regs[d] = c.regs[a]! << (c.regs[b]! & 63n);
        return next;
      };
    case "shr":
      return (c) => {
        c.regs[d] = c.regs[a]! >> (c.regs[b]! & 63n);
        return next;
      };
    case "sar":
      return (c) => {
        c.regs[d] = BigInt.asIntN(64, c.regs[a]!) >> (c.regs[b]! & 63n);
        return next;
      };
    default:
      throw new Error(`interpret: unknown operation ${kind}`);
  }
}

/** Below this, base + index * 8 + offset is exact as a Number; above it, addresses are summed as bigints. */
const SMALL = 1n << 48n;

/** Address of a memory operand as a Number, wrapping modulo 2^64 like the hardware. */
function addressOf(mem: Mem): (regs: BigUint64Array) => number {
  const base = SLOT[mem.base];
  const offset = mem.offset;
  const wide = BigInt(offset);
  if (!mem.index)
    return (r) => {
      const b = r[base]!;
      return b < SMALL ? Number(b) + offset : Number(BigInt.asUintN(64, b + wide));
    };
  const index = SLOT[mem.index];
  const scale = mem.scale ?? 1;
  const wideScale = BigInt(scale);
  return (r) => {
    const b = r[base]!;
    const i = r[index]!;
    if (b < SMALL && i < SMALL) return Number(b) + Number(i) * scale + offset;
    return Number(BigInt.asUintN(64, b + i * wideScale + wide));
  };
}

function load(size: number, d: number, mem: Mem, next: number): Step {
  const at = addressOf(mem);
  switch (size) {
    case 1:
      return (c) => {
        c.regs[d] = BigInt(c.memory.bytes[c.memory.offset(at(c.regs), 1)]!);
        return next;
      };
    case 2:
      return (c) => {
        c.regs[d] = BigInt(c.memory.view.getUint16(c.memory.offset(at(c.regs), 2), true));
        return next;
      };
    case 4:
      return (c) => {
        c.regs[d] = BigInt(c.memory.view.getUint32(c.memory.offset(at(c.regs), 4), true));
        return next;
      };
    default:
      return (c) => {
        c.regs[d] = c.memory.view.getBigUint64(c.memory.offset(at(c.regs), 8), true);
        return next;
      };
  }
}

function store(size: number, s: number, mem: Mem, next: number): Step {
  const at = addressOf(mem);
  return (c) => {
    c.memory.store(at(c.regs), size, c.regs[s]!);
    return next;
  };
}

/** Verifies the program, lays out data and compiles every function; cached per Program object. */
function compile(program: Program): Compiled {
  const cached = compiledPrograms.get(program);
  if (cached) return cached;
  verify(program);
  const symbols = new Map<string, number>();
  let cursor = DATA_BASE;
  for (const d of program.data) {
    const align = Math.max(d.align, 1);
    cursor = Math.ceil(cursor / align) * align;
    symbols.set(d.name, cursor);
    cursor += Math.max(d.size, 1);
  }
  program.funcs.forEach((f, i) => {
    symbols.set(f.name, FUNC_BASE + i * 16);
  });
  const funcIndex = new Map(program.funcs.map((f, i) => [f.name, i]));
  const constants: bigint[] = [];
  const constantSlots = new Map<bigint, number>();
  const slot = (src: Reg | bigint): number => {
    if (typeof src !== "bigint") return SLOT[src];
    const value = BigInt.asUintN(64, src);
    let at = constantSlots.get(value);
    if (at === undefined) {
      at = SP + 1 + constants.length;
      constants.push(value);
      constantSlots.set(value, at);
    }
    return at;
  };

  const compileFunc = (func: Func): CompiledFunc => {
    // Labels vanish: each resolves to the index of the next real instruction.
    const origin: number[] = [];
    const labels = new Map<string, number>();
    func.body.forEach((insn, i) => {
      if (insn.op === "label") labels.set(insn.name, origin.length);
      else origin.push(i);
    });
    const target = (name: string): number => {
      const at = labels.get(name);
      if (at === undefined) throw new Error(`interpret: fn ${func.name}: label "${name}" is not defined`);
      return at;
    };
    const lower = (insn: Insn, next: number): Step => {
      switch (insn.op) {
        case "mov": {
          const d = SLOT[insn.dst];
          const s = slot(insn.src);
          return (c) => {
            c.regs[d] = c.regs[s]!;
            return next;
          };
        }
        case "bin":
          return binary(insn.kind, SLOT[insn.dst], SLOT[insn.a], slot(insn.b), next);
        case "un": {
          const d = SLOT[insn.dst];
          const a = SLOT[insn.a];
          if (insn.kind === "neg")
            return (c) => {
              c.regs[d] = -c.regs[a]!;
              return next;
            };
          return (c) => {
            c.regs[d] = ~c.regs[a]!;
            return next;
          };
        }
        case "load":
          return load(insn.size, SLOT[insn.dst], insn.mem, next);
        case "store":
          return store(insn.size, slot(insn.src), insn.mem, next);
        case "addr": {
          const d = SLOT[insn.dst];
          const at = symbols.get(insn.symbol);
          if (at === undefined)
            throw new Error(`interpret: fn ${func.name}: symbol "${insn.symbol}" is not defined`);
          const s = slot(BigInt(at + insn.offset));
          return (c) => {
            c.regs[d] = c.regs[s]!;
            return next;
          };
        }
        case "jmp": {
          const t = target(insn.target);
          return () => t;
        }
        case "br":
          return branch(insn.cond, SLOT[insn.a], slot(insn.b), target(insn.target), next);
        case "call": {
          const callee = funcIndex.get(insn.fn);
          if (callee === undefined)
            throw new Error(`interpret: fn ${func.name}: function "${insn.fn}" is not defined`);
          return (c) => {
            c.callee = callee;
            return next;
          };
        }
        case "ret":
          return (c) => {
            c.returning = true;
            return next;
          };
        case "handoff":
          return (c) => {
            throw new Error(`handoff to machine code at 0x${c.regs[SLOT[insn.target]]!.toString(16)}`);
          };
        case "syscall": {
          const name = insn.name;
          return (c) => {
            const r = c.regs;
            r[0] = c.syscall(name, [r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!], c.memory);
            return next;
          };
        }
        case "label":
          throw new Error("interpret: labels are resolved before lowering");
      }
    };
    return {
      name: func.name,
      source: func,
      steps: origin.map((i, k) => lower(func.body[i]!, k + 1)),
      origin,
      frame: Math.ceil(func.frame / 16) * 16,
      saved: func.saves.map((r) => SLOT[r]),
    };
  };
  const funcs = program.funcs.map(compileFunc);
  const compiled = { funcs, funcIndex, symbols, dataEnd: Math.ceil(cursor / 4096) * 4096, constants };
  compiledPrograms.set(program, compiled);
  return compiled;
}

/**
 * The state of one interpreted process: memory laid out as data, heap, then stack, and the
 * registers. `run` starts the entry function like the kernel does; `call` runs a single function,
 * which is how pure IR code (parsers, lookups) is tested without a whole program around it.
 */
export class Machine {
  readonly memory: Memory;
  /** Address of each data symbol and function. */
  readonly symbols: Map<string, number>;
  /** Instructions executed by the last `run` or `call`. */
  steps = 0;
  private readonly compiled: Compiled;
  private readonly cpu: Cpu;
  private readonly stackTop: number;

  constructor(
    readonly program: Program,
    private readonly options: MachineOptions,
  ) {
    this.compiled = compile(program);
    this.symbols = this.compiled.symbols;
    const heapStart = this.compiled.dataEnd + 4096;
    const heapEnd = heapStart + (options.heapSize ?? 1 << 16);
    const size = heapEnd + (options.stackSize ?? 1 << 17) - DATA_BASE;
    this.memory = new Memory(DATA_BASE, size, heapStart, heapEnd);
    for (const d of program.data) if (d.bytes) this.memory.write(this.symbols.get(d.name)!, d.bytes);
    this.stackTop = DATA_BASE + size;
    const regs = new BigUint64Array(SP + 1 + this.compiled.constants.length);
    regs.set(this.compiled.constants, SP + 1);
    regs[SP] = BigInt(this.stackTop);
    this.cpu = { regs, memory: this.memory, syscall: options.syscall, callee: -1, returning: false };
  }

  /** The current value of a register. */
  reg(r: Reg): bigint {
    return this.cpu.regs[SLOT[r]]!;
  }

  /** The address of a data symbol or function; throws on an unknown name. */
  address(symbol: string): number {
    const at = this.symbols.get(symbol);
    if (at === undefined) throw new Error(`interpret: no symbol "${symbol}" in this program`);
    return at;
  }

  /** Starts the entry function with the initial stack the kernel builds; returns the exit code. */
  run(argv: string[] = ["speck"], envp: string[] = []): number {
    const regs = this.cpu.regs;
    regs[SP] = BigInt(this.stackTop);
    regs[0] = this.setUpInitialStack(argv, envp);
    try {
      this.execute(this.compiled.funcIndex.get(this.program.entry)!, false);
    } catch (error) {
      if (error instanceof Exit) return error.code;
      throw error;
    }
    throw new Error("interpret: the entry function returned");
  }

  /**
   * Calls one function with arguments in a0..a5 and returns a0 once it returns. Memory persists
   * between calls; an exit syscall inside ends the call by throwing `Exit`.
   */
  call(fn: string, args: readonly (bigint | number)[] = []): bigint {
    const index = this.compiled.funcIndex.get(fn);
    if (index === undefined) throw new Error(`interpret: no function "${fn}" in this program`);
    if (args.length > 6) throw new Error(`interpret: ${fn} takes at most 6 arguments, got ${args.length}`);
    const regs = this.cpu.regs;
    regs[SP] = BigInt(this.stackTop - CALL_GAP);
    args.forEach((a, i) => {
      regs[i] = BigInt(a);
    });
    this.execute(index, true);
    return regs[0]!;
  }

  private execute(start: number, returns: boolean): void {
    const { cpu, compiled } = this;
    const regs = cpu.regs;
    const maxSteps = this.options.maxSteps ?? 50_000_000;
    const maxDepth = this.options.maxDepth ?? 100_000;
    // The call stack as parallel arrays: caller function and resume index, then saved registers.
    const callers: number[] = [];
    const saved: bigint[] = [];
    let current = start;
    let func = compiled.funcs[current]!;
    let code = func.steps;
    let pc = 0;
    let steps = 0;
    const startSaved = func.saved.map((r) => regs[r]!);
    const stackLimit = BigInt(this.memory.heapEnd);
    /** Moves sp down by `bytes`, refusing to leave the stack (compared first: sp must not wrap). */
    const descend = (bytes: number): void => {
      if (regs[SP]! < stackLimit + BigInt(bytes)) throw new Error("stack overflow (raise stackSize)");
      regs[SP] -= BigInt(bytes);
    };
    try {
      descend(func.frame);
      for (;;) {
        if (pc >= code.length) throw new Error("runs off the end of the function");
        if (++steps > maxSteps) throw new Error(`more than ${maxSteps} steps (runaway program?)`);
        const next = code[pc]!(cpu);
        if (cpu.callee >= 0) {
          if (callers.length >= 2 * maxDepth) throw new Error(`call depth over ${maxDepth}`);
          callers.push(current, next);
          current = cpu.callee;
          cpu.callee = -1;
          func = compiled.funcs[current]!;
          for (const r of func.saved) saved.push(regs[r]!);
          code = func.steps;
          pc = 0;
          descend(func.frame + CALL_GAP);
        } else if (cpu.returning) {
          cpu.returning = false;
          if (callers.length === 0) {
            if (!returns) throw new Error("returns from the entry function");
            regs[SP] += BigInt(func.frame);
            func.saved.forEach((r, k) => {
              regs[r] = startSaved[k]!;
            });
            this.steps = steps;
            return;
          }
          regs[SP] += BigInt(func.frame + CALL_GAP);
          for (let k = func.saved.length - 1; k >= 0; k--) regs[func.saved[k]!] = saved.pop()!;
          pc = callers.pop()!;
          current = callers.pop()!;
          func = compiled.funcs[current]!;
          code = func.steps;
        } else {
          pc = next;
        }
      }
    } catch (error) {
      this.steps = steps;
      if (error instanceof Exit) throw error;
      const i = func.origin[pc];
      const where = i === undefined ? "" : `, insn ${i} "${formatInsn(func.source.body[i]!)}"`;
      throw new Error(`interpret: fn ${func.name}${where}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Writes argc, argv and envp the way the kernel does and returns the initial stack pointer. */
  private setUpInitialStack(argv: string[], envp: string[]): bigint {
    const encoder = new TextEncoder();
    let top = this.stackTop - 16;
    const pointers = (strings: string[]): number[] =>
      strings.map((s) => {
        const bytes = encoder.encode(`${s}\0`);
        top -= bytes.length;
        this.memory.write(top, bytes);
        return top;
      });
    const argvAt = pointers(argv);
    const envAt = pointers(envp);
    const words = [argv.length, ...argvAt, 0, ...envAt, 0, 0, 0];
    top = Math.floor((top - words.length * 8) / 16) * 16;
    words.forEach((w, i) => {
      this.memory.store(top + i * 8, 8, BigInt(w));
    });
    this.cpu.regs[SP] = BigInt(top);
    return BigInt(top);
  }
}

/** Runs `program` from its entry function until an exit syscall; throws on a fault or a runaway. */
export function interpret(program: Program, options: InterpretOptions): InterpretResult {
  const machine = new Machine(program, options);
  const exitCode = machine.run(options.argv, options.envp);
  return { exitCode, steps: machine.steps, memory: machine.memory, symbols: machine.symbols };
}
