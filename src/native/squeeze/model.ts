// The context model a squeezed executable is coded with, shared by the encoder (TypeScript, at
// build time) and the decoder (IR, at start-up); both must compute every value alike.
//
// Bits are coded one at a time, high bit first. Each model hashes a chosen set of the eight bytes
// before the current one (its mask: bit k is the byte k + 1 back) with the bits of the current
// byte seen so far, and keeps two counts per context: how often a 0 and a 1 followed it. The
// prediction adds every model's counts scaled by its weight (a shift), doubled where a context has
// only ever seen one value. That is the mixing of Crinkler-style compressors for 4 KiB demos:
// on a few KiB of code it codes as well as logistic mixing, with a decoder of a few hundred bytes.
// Counts live in one hash table of 4-byte slots (a 16-bit check of the hash, then the two counts);
// a slot whose check differs is taken over and its counts start from zero.

import type { Target } from "../target/types.ts";

export interface ContextModel {
  /** Which earlier bytes each model reads: bit k is the byte k + 1 positions back. */
  masks: readonly number[];
  /** Each model's weight, as a left shift of its counts. */
  weights: readonly number[];
}

/**
 * Models per target, chosen by a greedy search over masks and weights on the server's code
 * (scripts/squeeze-models.ts): x86-64's variable-length code wants the bytes right before; arm64's
 * 4-byte words also want the byte four back, the same field of the instruction before.
 */
export const MODELS: Record<Target["name"], ContextModel> = {
  x64: { masks: [0, 1, 2, 3, 5, 6, 9, 0x33, 4], weights: [0, 1, 0, 3, 2, 2, 2, 5, 0] },
  a64: { masks: [0, 3, 1, 4, 9, 0xa, 0x60, 5, 0x1b, 6], weights: [0, 2, 1, 0, 2, 1, 1, 2, 5, 1] },
};

/** log2 of the slots in the count table (4 MiB of memory while decoding). */
export const TABLE_BITS = 20;
/** Odd and below 2^31, so x86-64 multiplies by it as a sign-extended imm32. */
export const HASH_MULTIPLIER = 0x5bd1e995;
/** Probabilities have 16 bits; the coder renormalises below 2^24 (the range coder of LZMA). */
export const RANGE_TOP = 1 << 24;

/** The decoder's scratch memory: its state, then a record per model, then the count table. */
export const SCRATCH = {
  range: 0,
  code: 8,
  /** Each model's context hash for the current byte (8 bytes each), then its slot for the bit. */
  hashes: 16,
  table: 512,
  size: 512 + (4 << TABLE_BITS),
} as const;

/** A slot index and check for a context hash and the bits of the byte so far (`partial`, 1..255). */
function slotOf(hash: number, partial: number): { slot: number; check: number } {
  const mixed = Math.imul((hash + partial) | 0, HASH_MULTIPLIER) >>> 0;
  return { slot: mixed >>> (32 - TABLE_BITS), check: mixed & 0xffff };
}

/** The context hash of model `mask` for the byte at `at` in `bytes` (bytes before 0 read as 0). */
function contextHash(mask: number, bytes: Uint8Array, at: number): number {
  let hash = mask << 8;
  for (let k = 0; k < 8; k++)
    if (mask & (1 << k)) hash = Math.imul(hash + (bytes[at - 1 - k] ?? 0), HASH_MULTIPLIER);
  return hash;
}

/**
 * The counts and their predictions, as the decoder keeps them. `predict` reads (and claims) each
 * model's slot and returns P(bit = 1) in 16 bits, odd so neither value has an empty range; `update`
 * then counts the bit in the slots `predict` read.
 */
export class Predictor {
  private readonly table = new Uint8Array(4 << TABLE_BITS);
  private readonly hashes: number[];
  private readonly slots: number[];

  constructor(private readonly model: ContextModel) {
    this.hashes = model.masks.map(() => 0);
    this.slots = model.masks.map(() => 0);
  }

  /** Starts the byte at `at` in `bytes`. */
  startByte(bytes: Uint8Array, at: number): void {
    this.model.masks.forEach((mask, j) => {
      this.hashes[j] = contextHash(mask, bytes, at);
    });
  }

  predict(partial: number): number {
    const t = this.table;
    let zeros = 0;
    let ones = 0;
    this.model.weights.forEach((weight, j) => {
      const { slot, check } = slotOf(this.hashes[j]!, partial);
      const at = slot * 4;
      if ((t[at]! | (t[at + 1]! << 8)) !== check) {
        t[at] = check & 0xff;
        t[at + 1] = check >> 8;
        t[at + 2] = 0;
        t[at + 3] = 0;
      }
      this.slots[j] = at;
      const n0 = t[at + 2]!;
      const n1 = t[at + 3]!;
      const shift = weight + (n0 * n1 === 0 ? 1 : 0);
      zeros += n0 << shift;
      ones += n1 << shift;
    });
    return Math.floor(((ones * 2 + 1) * 32768) / (zeros + ones + 1)) | 1;
  }

  update(bit: number): void {
    const t = this.table;
    for (const at of this.slots) {
      t[at + 2 + bit] = (t[at + 2 + bit]! + 1) & 0xff;
      const other = t[at + 3 - bit]!;
      if (other > 1) t[at + 3 - bit] = (other >> 1) + 1;
    }
  }
}
