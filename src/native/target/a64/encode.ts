// Pure AArch64 instruction encoders, named by operand shape. Registers are numbers 0..30; 31 is sp
// or xzr depending on the form (each encoder's doc says which). Every encoder returns one 32-bit
// instruction word and throws when a value does not fit its form. Arm ARM, section C6 (A64 base).

export const SP = 31;
export const XZR = 31;
export const X8 = 8;
export const X16 = 16;
export const X17 = 17;
export const LR = 30;

function reg(r: number, name = "register"): number {
  if (!Number.isInteger(r) || r < 0 || r > 31) throw new Error(`a64: ${name} ${r} is outside 0..31`);
  return r;
}

function fits(value: number | bigint, lo: number | bigint, hi: number | bigint, what: string): void {
  const v = BigInt(value);
  if (v < BigInt(lo) || v > BigInt(hi)) throw new Error(`a64: ${what} ${value} is outside ${lo}..${hi}`);
}

const word = (w: number): number => w >>> 0;

/** movz/movk/movn Xd, #imm16, lsl #(16 * hw). */
export function moveWide(kind: "movz" | "movk" | "movn", rd: number, imm16: number, hw: number): number {
  fits(imm16, 0, 0xffff, "imm16");
  fits(hw, 0, 3, "shift slot");
  const base = { movn: 0x92800000, movz: 0xd2800000, movk: 0xf2800000 }[kind];
  return word(base | (hw << 21) | (imm16 << 5) | reg(rd));
}

/** `mov Xd, Xm` (orr Xd, xzr, Xm); neither may be sp. */
export function movReg(rd: number, rm: number): number {
  return word(0xaa0003e0 | (reg(rm) << 16) | reg(rd));
}

/** add/sub (immediate), 64-bit, optionally setting flags; rn and rd may be sp (31) unless flags are set (rd 31 = xzr). */
export function addSubImm(
  op: "add" | "sub" | "adds" | "subs",
  rd: number,
  rn: number,
  imm12: number,
  shift12 = false,
): number {
  fits(imm12, 0, 4095, "imm12");
  const base = { add: 0x91000000, adds: 0xb1000000, sub: 0xd1000000, subs: 0xf1000000 }[op];
  return word(base | (shift12 ? 1 << 22 : 0) | (imm12 << 10) | (reg(rn) << 5) | reg(rd));
}

/** Three-register data processing (31 is xzr): add, sub, subs (cmp), and, orr, eor, orn; rm may be shifted left. */
export function aluReg(
  op: "add" | "sub" | "subs" | "and" | "orr" | "eor" | "orn",
  rd: number,
  rn: number,
  rm: number,
  lsl = 0,
): number {
  fits(lsl, 0, 63, "shift");
  const base = {
    add: 0x8b000000,
    sub: 0xcb000000,
    subs: 0xeb000000,
    and: 0x8a000000,
    orr: 0xaa000000,
    eor: 0xca000000,
    orn: 0xaa200000,
  }[op];
  return word(base | (reg(rm) << 16) | (lsl << 10) | (reg(rn) << 5) | reg(rd));
}

/** madd/msub Xd, Xn, Xm, Xa (mul is madd with xzr). */
export function mulAdd(op: "madd" | "msub", rd: number, rn: number, rm: number, ra: number): number {
  const base = op === "madd" ? 0x9b000000 : 0x9b008000;
  return word(base | (reg(rm) << 16) | (reg(ra) << 10) | (reg(rn) << 5) | reg(rd));
}

/** Two-source ops: udiv, lslv, lsrv, asrv. */
export function dataProc2(op: "udiv" | "lslv" | "lsrv" | "asrv", rd: number, rn: number, rm: number): number {
  const base = { udiv: 0x9ac00800, lslv: 0x9ac02000, lsrv: 0x9ac02400, asrv: 0x9ac02800 }[op];
  return word(base | (reg(rm) << 16) | (reg(rn) << 5) | reg(rd));
}

/** Bitfield moves (ubfm/sbfm), 64-bit: the immediate shifts are aliases of these. */
export function bitfield(op: "ubfm" | "sbfm", rd: number, rn: number, immr: number, imms: number): number {
  fits(immr, 0, 63, "immr");
  fits(imms, 0, 63, "imms");
  const base = op === "ubfm" ? 0xd3400000 : 0x93400000;
  return word(base | (immr << 16) | (imms << 10) | (reg(rn) << 5) | reg(rd));
}

export function shiftImm(op: "lsl" | "lsr" | "asr", rd: number, rn: number, amount: number): number {
  fits(amount, 0, 63, "shift");
  if (op === "lsl") return bitfield("ubfm", rd, rn, (64 - amount) % 64, 63 - amount);
  return bitfield(op === "lsr" ? "ubfm" : "sbfm", rd, rn, amount, 63);
}

/**
 * The N:immr:imms field (13 bits) of a logical immediate: `value` repeats an element of 2, 4, ..., 64
 * bits that is a rotated run of ones. Null when it does not (0 and all ones never do).
 */
export function bitmaskImmediate(value: bigint): number | null {
  const v = BigInt.asUintN(64, value);
  if (v === 0n || v === (1n << 64n) - 1n) return null;
  let e = 64;
  while (e > 2) {
    const half = BigInt(e / 2);
    const mask = (1n << half) - 1n;
    if ((v & mask) !== ((v >> half) & mask)) break;
    e /= 2;
  }
  const element = v & ((1n << BigInt(e)) - 1n);
  const ones = element.toString(2).replaceAll("0", "").length;
  const run = (1n << BigInt(ones)) - 1n;
  const width = (1n << BigInt(e)) - 1n;
  for (let r = 0; r < e; r++) {
    const rotatedLeft = ((element << BigInt(r)) | (element >> BigInt(e - r))) & width;
    if (rotatedLeft !== run) continue;
    const imms = ((~(e - 1) << 1) & 0x3f) | (ones - 1);
    return ((e === 64 ? 1 : 0) << 12) | (r << 6) | imms;
  }
  return null;
}

/** and/orr/eor/ands Xd, Xn, #value for a value `bitmaskImmediate` accepts; rd may be sp except for ands (31 = xzr). */
export function logicalImm(
  op: "and" | "orr" | "eor" | "ands",
  rd: number,
  rn: number,
  value: bigint,
): number {
  const field = bitmaskImmediate(value);
  if (field === null) throw new Error(`a64: ${value} is not a logical immediate`);
  const base = { and: 0x92000000, orr: 0xb2000000, eor: 0xd2000000, ands: 0xf2000000 }[op];
  return word(base | (field << 10) | (reg(rn) << 5) | reg(rd));
}

export type Size = 1 | 2 | 4 | 8;
const SIZE_BITS: Record<Size, number> = { 1: 0, 2: 1, 4: 2, 8: 3 };

/** ldr/str with an unsigned offset scaled by the access size; rn may be sp. */
export function loadStoreScaled(load: boolean, size: Size, rt: number, rn: number, offset: number): number {
  if (offset % size !== 0) throw new Error(`a64: offset ${offset} is not a multiple of ${size}`);
  fits(offset / size, 0, 4095, "scaled offset");
  const base = (SIZE_BITS[size] << 30) | 0x39000000 | (load ? 1 << 22 : 0);
  return word(base | ((offset / size) << 10) | (reg(rn) << 5) | reg(rt));
}

/** ldur/stur with a signed 9-bit unscaled offset; rn may be sp. */
export function loadStoreUnscaled(load: boolean, size: Size, rt: number, rn: number, offset: number): number {
  fits(offset, -256, 255, "unscaled offset");
  const base = (SIZE_BITS[size] << 30) | 0x38000000 | (load ? 1 << 22 : 0);
  return word(base | ((offset & 0x1ff) << 12) | (reg(rn) << 5) | reg(rt));
}

/** ldr/str with a signed 9-bit offset that also updates rn: `[Xn, #offset]!` (pre) or `[Xn], #offset` (post). */
export function loadStoreIndexed(
  load: boolean,
  mode: "pre" | "post",
  size: Size,
  rt: number,
  rn: number,
  offset: number,
): number {
  fits(offset, -256, 255, "indexed offset");
  const base = (SIZE_BITS[size] << 30) | 0x38000000 | (load ? 1 << 22 : 0) | (mode === "pre" ? 0xc00 : 0x400);
  return word(base | ((offset & 0x1ff) << 12) | (reg(rn) << 5) | reg(rt));
}

/** ldr/str [Xn, Xm{, lsl #log2(size)}]; rn may be sp. */
export function loadStoreRegOffset(
  load: boolean,
  size: Size,
  rt: number,
  rn: number,
  rm: number,
  scaled: boolean,
): number {
  const base = (SIZE_BITS[size] << 30) | 0x38206800 | (load ? 1 << 22 : 0) | (scaled ? 1 << 12 : 0);
  return word(base | (reg(rm) << 16) | (reg(rn) << 5) | reg(rt));
}

/**
 * stp/ldp of two 64-bit (or, with size 4, 32-bit zero-extending) registers at [Xn, #offset]
 * (signed, scaled by the size), plain, pre- or post-indexed; rn may be sp, rt and rt2 xzr.
 */
export function pair(
  load: boolean,
  mode: "offset" | "pre" | "post",
  rt: number,
  rt2: number,
  rn: number,
  offset: number,
  size: 4 | 8 = 8,
): number {
  if (offset % size !== 0) throw new Error(`a64: pair offset ${offset} is not a multiple of ${size}`);
  fits(offset / size, -64, 63, `pair offset / ${size}`);
  const modeBits =
    { post: 0x28800000, offset: 0x29000000, pre: 0x29800000 }[mode] | (size === 8 ? 1 << 31 : 0);
  return word(
    modeBits |
      (load ? 1 << 22 : 0) |
      (((offset / size) & 0x7f) << 15) |
      (reg(rt2) << 10) |
      (reg(rn) << 5) |
      reg(rt),
  );
}

/**
 * ccmp/ccmn Xn, (Xm or #imm5), #nzcv, cond: compare when `cond` holds on the current flags, else
 * set the flags to `nzcv`. `b` is a register number, or a constant 0..31 when `immediate`.
 */
export function condCompare(
  op: "ccmp" | "ccmn",
  rn: number,
  b: number,
  immediate: boolean,
  nzcv: number,
  cond: number,
): number {
  fits(nzcv, 0, 15, "nzcv");
  fits(cond, 0, 15, "condition");
  if (immediate) fits(b, 0, 31, "imm5");
  else reg(b);
  const base = (op === "ccmp" ? 0xfa400000 : 0xba400000) | (immediate ? 0x800 : 0);
  return word(base | (b << 16) | (cond << 12) | (reg(rn) << 5) | nzcv);
}

/** csel/csinc/csinv Xd, Xn, Xm, cond: Xd = cond ? Xn : Xm (plus one, or inverted); 31 is xzr. */
export function condSelect(
  op: "csel" | "csinc" | "csinv",
  rd: number,
  rn: number,
  rm: number,
  cond: number,
): number {
  fits(cond, 0, 15, "condition");
  const base = { csel: 0x9a800000, csinc: 0x9a800400, csinv: 0xda800000 }[op];
  return word(base | (reg(rm) << 16) | (cond << 12) | (reg(rn) << 5) | reg(rd));
}

/** Condition codes by IR condition. */
export const COND = { eq: 0, ne: 1, geu: 2, ltu: 3, gtu: 8, leu: 9, ge: 10, lt: 11, gt: 12, le: 13 } as const;

function branchOffset(offset: number, bits: number): number {
  if (offset % 4 !== 0) throw new Error(`a64: branch offset ${offset} is not a multiple of 4`);
  const limit = 2 ** (bits - 1);
  fits(offset / 4, -limit, limit - 1, `branch offset / 4 (${bits} bits)`);
  return (offset / 4) & (2 ** bits - 1);
}

export function bCond(cond: number, offset: number): number {
  return word(0x54000000 | (branchOffset(offset, 19) << 5) | cond);
}

export function cbz(nonZero: boolean, rt: number, offset: number): number {
  return word((nonZero ? 0xb5000000 : 0xb4000000) | (branchOffset(offset, 19) << 5) | reg(rt));
}

/** tbz/tbnz Xt, #bit: branch (±32 KiB) when the bit is zero, or nonzero. */
export function tbz(nonZero: boolean, rt: number, bit: number, offset: number): number {
  fits(bit, 0, 63, "bit");
  const b5 = bit >> 5;
  return word(
    (b5 << 31) |
      (nonZero ? 0x37000000 : 0x36000000) |
      ((bit & 31) << 19) |
      (branchOffset(offset, 14) << 5) |
      reg(rt),
  );
}

export function b(offset: number): number {
  return word(0x14000000 | branchOffset(offset, 26));
}

export function bl(offset: number): number {
  return word(0x94000000 | branchOffset(offset, 26));
}

/** adr Xd, pc + offset (±1 MiB). */
export function adr(rd: number, offset: number): number {
  fits(offset, -(1 << 20), (1 << 20) - 1, "adr offset");
  const imm = offset & 0x1fffff;
  return word(0x10000000 | ((imm & 3) << 29) | ((imm >> 2) << 5) | reg(rd));
}

export const RET = 0xd65f03c0;
export const SVC0 = 0xd4000001;

/** br Xn: jump to the address in a register. */
export function br(rn: number): number {
  return word(0xd61f0000 | (reg(rn) << 5));
}
