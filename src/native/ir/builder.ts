// The builder API: IR programs written in TypeScript that read like structured assembly.
// A FuncBuilder appends instructions; ProgramBuilder collects functions and data into a Program.

import type {
  ArgReg,
  Base,
  BinOp,
  Cond,
  Data,
  Func,
  Insn,
  Mem,
  Program,
  Reg,
  SavedReg,
  Size,
  Src,
  UnOp,
} from "./types.ts";

/** A memory operand written as `{ base, offset }`, `{ base, index, scale }` or a bare base register. */
export type MemLike = Mem | Base | { base: Base; index?: Reg; scale?: Size; offset?: number };

function toMem(mem: MemLike): Mem {
  if (typeof mem === "string") return { base: mem, offset: 0 };
  const result: Mem = { base: mem.base, offset: mem.offset ?? 0 };
  if (mem.index !== undefined) result.index = mem.index;
  if (mem.scale !== undefined) result.scale = mem.scale;
  return result;
}

/** Appends the instructions of one function; labels are local to it. */
export class FuncBuilder {
  readonly body: Insn[] = [];
  private labelCount = 0;

  constructor(readonly name: string) {}

  /** A label name no other `newLabel` call in this function returns. */
  newLabel(hint = "L"): string {
    this.labelCount += 1;
    return `.${hint}${this.labelCount}`;
  }

  emit(insn: Insn): this {
    this.body.push(insn);
    return this;
  }

  mov(dst: Reg, src: Src | number): this {
    return this.emit({ op: "mov", dst, src: imm(src) });
  }
  bin(kind: BinOp, dst: Reg, a: Reg, b: Src | number): this {
    return this.emit({ op: "bin", kind, dst, a, b: imm(b) });
  }
  add(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("add", dst, a, b);
  }
  sub(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("sub", dst, a, b);
  }
  mul(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("mul", dst, a, b);
  }
  udiv(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("udiv", dst, a, b);
  }
  urem(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("urem", dst, a, b);
  }
  and(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("and", dst, a, b);
  }
  or(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("or", dst, a, b);
  }
  xor(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("xor", dst, a, b);
  }
  shl(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("shl", dst, a, b);
  }
  shr(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("shr", dst, a, b);
  }
  sar(dst: Reg, a: Reg, b: Src | number): this {
    return this.bin("sar", dst, a, b);
  }
  un(kind: UnOp, dst: Reg, a: Reg): this {
    return this.emit({ op: "un", kind, dst, a });
  }
  neg(dst: Reg, a: Reg): this {
    return this.un("neg", dst, a);
  }
  not(dst: Reg, a: Reg): this {
    return this.un("not", dst, a);
  }
  load(size: Size, dst: Reg, mem: MemLike): this {
    return this.emit({ op: "load", size, dst, mem: toMem(mem) });
  }
  store(size: Size, src: Src | number, mem: MemLike): this {
    return this.emit({ op: "store", size, src: imm(src), mem: toMem(mem) });
  }
  addr(dst: Reg, symbol: string, offset = 0): this {
    return this.emit({ op: "addr", dst, symbol, offset });
  }
  label(name: string): this {
    return this.emit({ op: "label", name });
  }
  jmp(target: string): this {
    return this.emit({ op: "jmp", target });
  }
  br(cond: Cond, a: Reg, b: Src | number, target: string): this {
    return this.emit({ op: "br", cond, a, b: imm(b), target });
  }
  call(fn: string): this {
    return this.emit({ op: "call", fn });
  }
  ret(): this {
    return this.emit({ op: "ret" });
  }
  syscall(name: string): this {
    return this.emit({ op: "syscall", name });
  }
  handoff(target: ArgReg): this {
    return this.emit({ op: "handoff", target });
  }
}

function imm(value: Src | number): Src {
  return typeof value === "number" ? BigInt(value) : value;
}

export interface FuncOptions {
  frame?: number;
  saves?: SavedReg[];
}

/** Collects functions and data; `build` checks names are unique and returns the Program. */
export class ProgramBuilder {
  private readonly funcs: Func[] = [];
  private readonly items: Data[] = [];

  func(name: string, options: FuncOptions, body: (f: FuncBuilder) => void): this {
    const builder = new FuncBuilder(name);
    body(builder);
    this.funcs.push({ name, frame: options.frame ?? 0, saves: options.saves ?? [], body: builder.body });
    return this;
  }

  has(name: string): boolean {
    return this.funcs.some((f) => f.name === name) || this.items.some((d) => d.name === name);
  }

  rodata(name: string, bytes: Uint8Array | string, align = 1): this {
    const content = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    this.items.push({ name, kind: "rodata", align, bytes: content, size: content.length });
    return this;
  }

  data(name: string, bytes: Uint8Array, align = 8): this {
    this.items.push({ name, kind: "data", align, bytes, size: bytes.length });
    return this;
  }

  bss(name: string, size: number, align = 8): this {
    this.items.push({ name, kind: "bss", align, size });
    return this;
  }

  build(entry: string): Program {
    const seen = new Set<string>();
    for (const name of [...this.funcs.map((f) => f.name), ...this.items.map((d) => d.name)]) {
      if (seen.has(name)) throw new Error(`program: the name "${name}" is defined twice`);
      seen.add(name);
    }
    if (!this.funcs.some((f) => f.name === entry))
      throw new Error(`program: entry function "${entry}" is not defined`);
    return { entry, funcs: [...this.funcs], data: [...this.items] };
  }
}
