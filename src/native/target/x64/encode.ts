// Pure x86-64 instruction encoders, named by operand shape. Registers are hardware numbers
// (rax 0 … r15 15); each encoder returns the instruction's bytes and throws when a value does not
// fit its form. Intel SDM vol. 2, chapter 2 (REX, ModRM, SIB) and the opcode tables.

/** Hardware numbers of the registers the encoder and lowering name directly. */
export const RAX = 0;
export const RCX = 1;
export const RDX = 2;
export const RSP = 4;
export const RBP = 5;
export const R11 = 11;

/** Intel names of the 64-bit registers by hardware number. */
export const REG_NAMES = [
  "rax",
  "rcx",
  "rdx",
  "rbx",
  "rsp",
  "rbp",
  "rsi",
  "rdi",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
] as const;

/** A memory operand: base register + optional index register × scale + 32-bit displacement. */
export interface X64Mem {
  base: number;
  index?: number;
  scale?: 1 | 2 | 4 | 8;
  disp: number;
}

/** Whether a value fits a sign-extended 8-bit field. */
export const isInt8 = (v: bigint | number): boolean => BigInt(v) >= -128n && BigInt(v) <= 127n;
/** Whether a value fits a sign-extended 32-bit field. */
export const isInt32 = (v: bigint | number): boolean => BigInt(v) >= -(1n << 31n) && BigInt(v) < 1n << 31n;
/** Whether a value fits an unsigned (zero-extended) 32-bit field. */
export const isUint32 = (v: bigint | number): boolean => BigInt(v) >= 0n && BigInt(v) < 1n << 32n;

function le(value: bigint | number, bytes: number): number[] {
  let v = BigInt.asUintN(bytes * 8, BigInt(value));
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

/** REX prefix when needed: W for 64-bit operands, R/X/B for registers 8..15, or forced (byte regs). */
function rex(w: boolean, reg: number, index: number, base: number, force = false): number[] {
  const value = (w ? 8 : 0) | ((reg >> 3) << 2) | ((index >> 3) << 1) | (base >> 3);
  return value !== 0 || force ? [0x40 | value] : [];
}

function modrmReg(reg: number, rm: number): number[] {
  return [0xc0 | ((reg & 7) << 3) | (rm & 7)];
}

/** ModRM, SIB and displacement for a memory operand, with the rsp/r12 and rbp/r13 special cases. */
function modrmMem(reg: number, m: X64Mem): number[] {
  if (!isInt32(m.disp)) throw new Error(`x64: displacement ${m.disp} does not fit 32 bits`);
  const needsDisp = m.disp !== 0 || (m.base & 7) === RBP;
  const mod = !needsDisp ? 0 : isInt8(m.disp) ? 1 : 2;
  const disp = mod === 0 ? [] : mod === 1 ? le(m.disp, 1) : le(m.disp, 4);
  if (m.index === undefined) {
    if ((m.base & 7) === RSP) return [(mod << 6) | ((reg & 7) << 3) | 4, 0x24, ...disp];
    return [(mod << 6) | ((reg & 7) << 3) | (m.base & 7), ...disp];
  }
  if (m.index === RSP) throw new Error("x64: rsp cannot be an index register");
  const ss = { 1: 0, 2: 1, 4: 2, 8: 3 }[m.scale ?? 1];
  return [(mod << 6) | ((reg & 7) << 3) | 4, (ss << 6) | ((m.index & 7) << 3) | (m.base & 7), ...disp];
}

function memRex(w: boolean, reg: number, m: X64Mem, force = false): number[] {
  return rex(w, reg, m.index ?? 0, m.base, force);
}

/** `mov dst, src` (64-bit, the 89 /r form GNU as picks). */
export function movRegReg(dst: number, src: number): number[] {
  return [...rex(true, src, 0, dst), 0x89, ...modrmReg(src, dst)];
}

/** `mov r32, r32`: copies the low half and zeroes the upper 32 bits. */
export function movReg32Reg32(dst: number, src: number): number[] {
  return [...rex(false, src, 0, dst), 0x89, ...modrmReg(src, dst)];
}

/** `movzx r32, r8` (zero-extends a register's low byte; sil/dil/spl/bpl need a REX prefix). */
export function movzxReg8(dst: number, src: number): number[] {
  return [...rex(false, dst, 0, src, src >= 4 && src <= 7), 0x0f, 0xb6, ...modrmReg(dst, src)];
}

/** `movzx r32, r16`. */
export function movzxReg16(dst: number, src: number): number[] {
  return [...rex(false, dst, 0, src), 0x0f, 0xb7, ...modrmReg(dst, src)];
}

/** `xchg rax, r64` (90+r): two bytes where a move from rax whose value is dead takes three. */
export function xchgRax(reg: number): number[] {
  if (reg === RAX) throw new Error("x64: xchg rax, rax is nop, not an exchange");
  return [...rex(true, 0, 0, reg), 0x90 + (reg & 7)];
}

/** `xchg eax, r32` (90+r, one byte for the low registers): both upper halves become zero. */
export function xchgEax(reg: number): number[] {
  if (reg === RAX) throw new Error("x64: xchg eax, eax is nop, not an exchange");
  return [...rex(false, 0, 0, reg), 0x90 + (reg & 7)];
}

/** `mov r32, imm32`: zero-extends, so it loads any value in [0, 2^32). */
export function movReg32Imm(dst: number, value: bigint): number[] {
  if (!isUint32(value)) throw new Error(`x64: ${value} does not fit mov r32, imm32`);
  return [...rex(false, 0, 0, dst), 0xb8 + (dst & 7), ...le(value, 4)];
}

/** `mov r8, imm8` (B0+r) for al, cl, dl and bl: replaces only the low byte. */
export function movLowByteImm(reg: number, value: bigint): number[] {
  if (reg > 3) throw new Error("x64: mov r8, imm8 is only encoded for al, cl, dl and bl");
  if (value < 0n || value > 255n) throw new Error(`x64: ${value} does not fit an unsigned imm8`);
  return [0xb0 + reg, Number(value)];
}

/** `mov r64, imm32` sign-extended (C7 /0). */
export function movRegImm32(dst: number, value: bigint): number[] {
  if (!isInt32(value)) throw new Error(`x64: ${value} does not fit a sign-extended imm32`);
  return [...rex(true, 0, 0, dst), 0xc7, ...modrmReg(0, dst), ...le(value, 4)];
}

/** `movabs r64, imm64`. */
export function movRegImm64(dst: number, value: bigint): number[] {
  return [...rex(true, 0, 0, dst), 0xb8 + (dst & 7), ...le(value, 8)];
}

/** `xor r32, r32`: the shortest zero. */
export function zeroReg(dst: number): number[] {
  return [...rex(false, dst, 0, dst), 0x31, ...modrmReg(dst, dst)];
}

/** `push imm8`, sign-extended to 64 bits. */
export function pushImm8(value: bigint): number[] {
  if (!isInt8(value)) throw new Error(`x64: ${value} does not fit push imm8`);
  return [0x6a, ...le(value, 1)];
}

/** `push imm32`, sign-extended to 64 bits: with a `pop` one byte shorter than `mov r64, imm32`. */
export function pushImm32(value: bigint): number[] {
  if (!isInt32(value)) throw new Error(`x64: ${value} does not fit push imm32`);
  return [0x68, ...le(value, 4)];
}

/** `push r64`. */
export function pushReg(reg: number): number[] {
  return [...rex(false, 0, 0, reg), 0x50 + (reg & 7)];
}

/** `jmp r64`. */
export function jmpReg(reg: number): number[] {
  return [...rex(false, 0, 0, reg), 0xff, 0xe0 + (reg & 7)];
}

/** `pop r64`. */
export function popReg(reg: number): number[] {
  return [...rex(false, 0, 0, reg), 0x58 + (reg & 7)];
}

/** ALU operations sharing the classic encodings: opcode for `op r/m64, r64` and the /digit for imm forms. */
export const ALU = {
  add: { rm: 0x01, digit: 0, rax: 0x05 },
  or: { rm: 0x09, digit: 1, rax: 0x0d },
  and: { rm: 0x21, digit: 4, rax: 0x25 },
  sub: { rm: 0x29, digit: 5, rax: 0x2d },
  xor: { rm: 0x31, digit: 6, rax: 0x35 },
  cmp: { rm: 0x39, digit: 7, rax: 0x3d },
} as const;
export type AluOp = keyof typeof ALU;

/** `op r64, r64` (add, or, and, sub, xor, cmp). */
export function aluRegReg(op: AluOp, dst: number, src: number): number[] {
  return [...rex(true, src, 0, dst), ALU[op].rm, ...modrmReg(src, dst)];
}

/** `op r64, qword ptr [mem]` (add, or, and, sub, xor, cmp: the r, r/m opcodes, two above the r/m, r ones). */
export function aluRegMem(op: AluOp, dst: number, m: X64Mem): number[] {
  return [...memRex(true, dst, m), ALU[op].rm + 2, ...modrmMem(dst, m)];
}

/**
 * `op size ptr [mem], imm` (add, or, and, sub, xor, cmp): `value` fits the access size as a signed
 * or unsigned pattern; dword and qword take the sign-extended imm8 form when it fits, a qword's
 * immediate is a sign-extended imm32.
 */
export function aluMemImm(op: AluOp, size: 1 | 4 | 8, m: X64Mem, value: bigint): number[] {
  if (op === "cmp") return cmpMemImm(size, m, value);
  const bits = size * 8;
  const fits = size === 8 ? isInt32(value) : value >= -(1n << BigInt(bits - 1)) && value < 1n << BigInt(bits);
  if (!fits) throw new Error(`x64: ${value} does not fit a ${bits}-bit operation`);
  const digit = ALU[op].digit;
  if (size === 1) return [...memRex(false, 0, m), 0x80, ...modrmMem(digit, m), ...le(value, 1)];
  const imm = BigInt.asIntN(32, value);
  if (isInt8(imm)) return [...memRex(size === 8, 0, m), 0x83, ...modrmMem(digit, m), ...le(imm, 1)];
  return [...memRex(size === 8, 0, m), 0x81, ...modrmMem(digit, m), ...le(imm, 4)];
}

/** `op size ptr [mem], reg` (the r/m, r opcodes; byte forms one below). */
export function aluMemReg(op: AluOp, size: 1 | 4 | 8, m: X64Mem, reg: number): number[] {
  const force = size === 1 && reg >= 4 && reg <= 7;
  return [...memRex(size === 8, reg, m, force), ALU[op].rm - (size === 1 ? 1 : 0), ...modrmMem(reg, m)];
}

/** `inc/dec size ptr [mem]` (FE /0, /1 for bytes; FF otherwise). */
export function incDecMem(op: "inc" | "dec", size: 1 | 4 | 8, m: X64Mem): number[] {
  return [...memRex(size === 8, 0, m), size === 1 ? 0xfe : 0xff, ...modrmMem(op === "inc" ? 0 : 1, m)];
}

/** `op r64, imm` with the shortest of imm8, the rax short form and imm32 (as GNU as chooses). */
export function aluRegImm(op: AluOp, dst: number, value: bigint): number[] {
  if (isInt8(value)) return [...rex(true, 0, 0, dst), 0x83, ...modrmReg(ALU[op].digit, dst), ...le(value, 1)];
  if (!isInt32(value)) throw new Error(`x64: ${value} does not fit a sign-extended imm32`);
  if (dst === RAX) return [0x48, ALU[op].rax, ...le(value, 4)];
  return [...rex(true, 0, 0, dst), 0x81, ...modrmReg(ALU[op].digit, dst), ...le(value, 4)];
}

/**
 * `op r32, imm` with the upper half zeroed: `and` with a mask in [0, 2^32) is the 64-bit `and`
 * without the REX.W byte and without the imm32's sign extension.
 */
export function aluReg32Imm(op: AluOp, dst: number, value: bigint): number[] {
  if (!isUint32(value) && !isInt32(value)) throw new Error(`x64: ${value} does not fit imm32`);
  const imm = BigInt.asIntN(32, value);
  if (isInt8(imm)) return [...rex(false, 0, 0, dst), 0x83, ...modrmReg(ALU[op].digit, dst), ...le(imm, 1)];
  if (dst === RAX) return [ALU[op].rax, ...le(imm, 4)];
  return [...rex(false, 0, 0, dst), 0x81, ...modrmReg(ALU[op].digit, dst), ...le(imm, 4)];
}

/** `inc r64` / `dec r64` (FF /0, FF /1): one byte shorter than adding ±1. */
export function incDecReg(op: "inc" | "dec", reg: number): number[] {
  return [...rex(true, 0, 0, reg), 0xff, ...modrmReg(op === "inc" ? 0 : 1, reg)];
}

/** `inc r32` / `dec r32`: the upper half becomes zero. */
export function incDecReg32(op: "inc" | "dec", reg: number): number[] {
  return [...rex(false, 0, 0, reg), 0xff, ...modrmReg(op === "inc" ? 0 : 1, reg)];
}

/** `op r32, r32` (the upper halves of both are ignored; a result is zero-extended). */
export function aluReg32Reg(op: AluOp, dst: number, src: number): number[] {
  return [...rex(false, src, 0, dst), ALU[op].rm, ...modrmReg(src, dst)];
}

/** `test r32, r32`. */
export function testReg32(a: number, b: number): number[] {
  return [...rex(false, b, 0, a), 0x85, ...modrmReg(b, a)];
}

/** `test r64, r64`. */
export function testRegReg(a: number, b: number): number[] {
  return [...rex(true, b, 0, a), 0x85, ...modrmReg(b, a)];
}

/** `test r8, imm8` (F6 /0 ib; A8 ib for al): ZF tells whether the low byte shares a bit with the mask. */
export function testReg8Imm(reg: number, mask: bigint): number[] {
  if (mask < 0n || mask > 255n) throw new Error(`x64: ${mask} does not fit an unsigned imm8`);
  if (reg === RAX) return [0xa8, Number(mask)];
  return [...rex(false, 0, 0, reg, reg >= 4 && reg <= 7), 0xf6, ...modrmReg(0, reg), Number(mask)];
}

/** `test byte ptr [mem], imm8` (F6 /0 ib). */
export function testMem8Imm(m: X64Mem, mask: bigint): number[] {
  if (mask < 0n || mask > 255n) throw new Error(`x64: ${mask} does not fit an unsigned imm8`);
  return [...memRex(false, 0, m), 0xf6, ...modrmMem(0, m), Number(mask)];
}

/** `imul dst, src` (0F AF). */
export function imulRegReg(dst: number, src: number): number[] {
  return [...rex(true, dst, 0, src), 0x0f, 0xaf, ...modrmReg(dst, src)];
}

/** `imul dst, src, imm` (6B ib or 69 id). */
export function imulRegRegImm(dst: number, src: number, value: bigint): number[] {
  if (isInt8(value)) return [...rex(true, dst, 0, src), 0x6b, ...modrmReg(dst, src), ...le(value, 1)];
  if (!isInt32(value)) throw new Error(`x64: ${value} does not fit a sign-extended imm32`);
  return [...rex(true, dst, 0, src), 0x69, ...modrmReg(dst, src), ...le(value, 4)];
}

/** `imul r32, r32` (0F AF): the low 32 bits of the product, zero-extended. */
export function imulReg32Reg(dst: number, src: number): number[] {
  return [...rex(false, dst, 0, src), 0x0f, 0xaf, ...modrmReg(dst, src)];
}

/** `imul r32, r32, imm` (6B ib or 69 id). */
export function imulReg32RegImm(dst: number, src: number, value: bigint): number[] {
  if (isInt8(value)) return [...rex(false, dst, 0, src), 0x6b, ...modrmReg(dst, src), ...le(value, 1)];
  if (!isInt32(value)) throw new Error(`x64: ${value} does not fit a sign-extended imm32`);
  return [...rex(false, dst, 0, src), 0x69, ...modrmReg(dst, src), ...le(value, 4)];
}

/** The /digit of the shift group (C1, D1, D3) by IR shift kind. */
export const SHIFT = { shl: 4, shr: 5, sar: 7 } as const;
export type ShiftOp = keyof typeof SHIFT;

/** `shl/shr/sar r64, imm` (D1 for 1, C1 ib otherwise). */
export function shiftRegImm(op: ShiftOp, dst: number, count: number): number[] {
  if (count < 0 || count > 63) throw new Error(`x64: shift count ${count} is outside 0..63`);
  if (count === 1) return [...rex(true, 0, 0, dst), 0xd1, ...modrmReg(SHIFT[op], dst)];
  return [...rex(true, 0, 0, dst), 0xc1, ...modrmReg(SHIFT[op], dst), count];
}

/** `shl/shr/sar r32, imm`: counts are taken mod 32, so only 0..31 are accepted. */
export function shiftReg32Imm(op: ShiftOp, dst: number, count: number): number[] {
  if (count < 0 || count > 31) throw new Error(`x64: shift count ${count} is outside 0..31`);
  if (count === 1) return [...rex(false, 0, 0, dst), 0xd1, ...modrmReg(SHIFT[op], dst)];
  return [...rex(false, 0, 0, dst), 0xc1, ...modrmReg(SHIFT[op], dst), count];
}

/** `shl/shr/sar r64, cl`. */
export function shiftRegCl(op: ShiftOp, dst: number): number[] {
  return [...rex(true, 0, 0, dst), 0xd3, ...modrmReg(SHIFT[op], dst)];
}

/** Group-3 unary ops on r64: not /2, neg /3, div /6. */
export function unaryReg(op: "not" | "neg" | "div", reg: number): number[] {
  return [...rex(true, 0, 0, reg), 0xf7, ...modrmReg({ not: 2, neg: 3, div: 6 }[op], reg)];
}

/** Group-3 unary ops on r32 (the upper half becomes zero; `div` divides edx:eax). */
export function unaryReg32(op: "not" | "neg" | "div", reg: number): number[] {
  return [...rex(false, 0, 0, reg), 0xf7, ...modrmReg({ not: 2, neg: 3, div: 6 }[op], reg)];
}

/** Zero-extending loads: movzx r32, byte/word; mov r32, dword; mov r64, qword. */
export function load(size: 1 | 2 | 4 | 8, dst: number, m: X64Mem): number[] {
  switch (size) {
    case 1:
      return [...memRex(false, dst, m), 0x0f, 0xb6, ...modrmMem(dst, m)];
    case 2:
      return [...memRex(false, dst, m), 0x0f, 0xb7, ...modrmMem(dst, m)];
    case 4:
      return [...memRex(false, dst, m), 0x8b, ...modrmMem(dst, m)];
    case 8:
      return [...memRex(true, dst, m), 0x8b, ...modrmMem(dst, m)];
  }
}

/** Stores of the low 1, 2, 4 or 8 bytes of a register. */
export function storeReg(size: 1 | 2 | 4 | 8, src: number, m: X64Mem): number[] {
  switch (size) {
    case 1:
      // spl, bpl, sil and dil exist only with a REX prefix.
      return [...memRex(false, src, m, src >= 4 && src <= 7), 0x88, ...modrmMem(src, m)];
    case 2:
      return [0x66, ...memRex(false, src, m), 0x89, ...modrmMem(src, m)];
    case 4:
      return [...memRex(false, src, m), 0x89, ...modrmMem(src, m)];
    case 8:
      return [...memRex(true, src, m), 0x89, ...modrmMem(src, m)];
  }
}

/** Stores of an immediate (a qword store takes a sign-extended imm32). */
export function storeImm(size: 1 | 2 | 4 | 8, value: bigint, m: X64Mem): number[] {
  switch (size) {
    case 1:
      return [...memRex(false, 0, m), 0xc6, ...modrmMem(0, m), ...le(value, 1)];
    case 2:
      return [0x66, ...memRex(false, 0, m), 0xc7, ...modrmMem(0, m), ...le(value, 2)];
    case 4:
      return [...memRex(false, 0, m), 0xc7, ...modrmMem(0, m), ...le(value, 4)];
    case 8:
      if (!isInt32(value)) throw new Error(`x64: ${value} does not fit a sign-extended imm32`);
      return [...memRex(true, 0, m), 0xc7, ...modrmMem(0, m), ...le(value, 4)];
  }
}

/**
 * `cmp size ptr [mem], imm`: `value` is the immediate's bit pattern at the access size; word and
 * dword compares take the sign-extended imm8 form when the pattern allows, like GNU as.
 */
export function cmpMemImm(size: 1 | 2 | 4 | 8, m: X64Mem, value: bigint): number[] {
  const bits = size * 8;
  const fits = size === 8 ? isInt32(value) : value >= -(1n << BigInt(bits - 1)) && value < 1n << BigInt(bits);
  if (!fits) throw new Error(`x64: ${value} does not fit a ${bits}-bit compare`);
  const imm = BigInt.asIntN(Math.min(bits, 32), value);
  const prefix = size === 2 ? [0x66] : [];
  if (size === 1) return [...memRex(false, 0, m), 0x80, ...modrmMem(7, m), ...le(imm, 1)];
  if (isInt8(imm)) return [...prefix, ...memRex(size === 8, 0, m), 0x83, ...modrmMem(7, m), ...le(imm, 1)];
  return [...prefix, ...memRex(size === 8, 0, m), 0x81, ...modrmMem(7, m), ...le(imm, size === 2 ? 2 : 4)];
}

/** `cmp size ptr [mem], reg`: flags of the memory operand minus the register's low `size` bytes. */
export function cmpMemReg(size: 1 | 2 | 4 | 8, m: X64Mem, reg: number): number[] {
  const prefix = size === 2 ? [0x66] : [];
  const force = size === 1 && reg >= 4 && reg <= 7;
  return [...prefix, ...memRex(size === 8, reg, m, force), size === 1 ? 0x38 : 0x39, ...modrmMem(reg, m)];
}

/** `lea r64, [mem]`. */
export function leaRegMem(dst: number, m: X64Mem): number[] {
  return [...memRex(true, dst, m), 0x8d, ...modrmMem(dst, m)];
}

/** `lea r32, [mem]`: the low 32 bits of the 64-bit address, zero-extended. */
export function leaReg32Mem(dst: number, m: X64Mem): number[] {
  return [...memRex(false, dst, m), 0x8d, ...modrmMem(dst, m)];
}

/** `lea r64, [rip + disp32]`; the displacement is the last 4 bytes. */
export function leaRipRel(dst: number, disp: number): number[] {
  return [...rex(true, dst, 0, 0), 0x8d, 0x05 | ((dst & 7) << 3), ...le(disp, 4)];
}

/** Condition codes (the low nibble of Jcc) by IR condition. */
export const CC = {
  eq: 4,
  ne: 5,
  lt: 0xc,
  le: 0xe,
  gt: 0xf,
  ge: 0xd,
  ltu: 2,
  leu: 6,
  gtu: 7,
  geu: 3,
} as const;

/** `jcc rel8`; `rel` counts from the end of the 2-byte instruction. */
export function jccShort(cc: number, rel: number): number[] {
  if (!isInt8(rel)) throw new Error(`x64: branch displacement ${rel} does not fit rel8`);
  return [0x70 + cc, ...le(rel, 1)];
}

/** `jcc rel32`; `rel` counts from the end of the 6-byte instruction. */
export function jccNear(cc: number, rel: number): number[] {
  return [0x0f, 0x80 + cc, ...le(rel, 4)];
}

/** `jmp rel8`; `rel` counts from the end of the 2-byte instruction. */
export function jmpShort(rel: number): number[] {
  if (!isInt8(rel)) throw new Error(`x64: jump displacement ${rel} does not fit rel8`);
  return [0xeb, ...le(rel, 1)];
}

/** `jmp rel32`; `rel` counts from the end of the 5-byte instruction. */
export function jmpNear(rel: number): number[] {
  return [0xe9, ...le(rel, 4)];
}

/** `call rel32`; `rel` counts from the end of the 5-byte instruction. */
export function callNear(rel: number): number[] {
  return [0xe8, ...le(rel, 4)];
}

/** `ret` and `syscall`. */
export const RET = [0xc3];
export const SYSCALL = [0x0f, 0x05];
