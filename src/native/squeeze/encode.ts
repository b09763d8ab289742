// The encoder: each chunk's bytes through the context model into one range-coded stream, which
// `unsqueeze` (decoder.ts) turns back into the same bytes.

import { type ContextModel, Predictor, RANGE_TOP } from "./model.ts";

/** LZMA's range encoder: `low` may carry into bytes already counted, which `cache` holds back. */
class RangeEncoder {
  private low = 0;
  private range = 0xffffffff;
  private cache = 0;
  private pending = 1;
  readonly out: number[] = [];

  /** Codes `bit` with P(1) = `p` / 65536. */
  encode(bit: number, p: number): void {
    const bound = (this.range >>> 16) * p;
    if (bit) this.range = bound;
    else {
      this.low += bound;
      this.range -= bound;
    }
    while (this.range < RANGE_TOP) {
      this.range = (this.range << 8) >>> 0;
      this.shiftLow();
    }
  }

  /**
   * The stream without LZMA's first byte, always 0, and with the next four, the decoder's first
   * code, little-endian: it reads them as one word.
   */
  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return Uint8Array.from([...this.out.slice(1, 5).reverse(), ...this.out.slice(5)]);
  }

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= 0x100000000) {
      const carry = this.low >= 0x100000000 ? 1 : 0;
      let byte = this.cache;
      for (; this.pending > 0; this.pending--) {
        this.out.push((byte + carry) & 0xff);
        byte = 0xff;
      }
      this.cache = Math.floor(this.low / 0x1000000) & 0xff;
    }
    this.pending++;
    this.low = (this.low % 0x1000000) * 256;
  }
}

/** Codes `chunks` in order (the model starts each with eight zero bytes of history). */
export function compress(chunks: readonly Uint8Array[], model: ContextModel): Uint8Array {
  const predictor = new Predictor(model);
  const coder = new RangeEncoder();
  for (const bytes of chunks)
    for (let at = 0; at < bytes.length; at++) {
      predictor.startByte(bytes, at);
      let partial = 1;
      for (let k = 7; k >= 0; k--) {
        const bit = (bytes[at]! >> k) & 1;
        coder.encode(bit, predictor.predict(partial));
        predictor.update(bit);
        partial = (partial << 1) | bit;
      }
    }
  return coder.finish();
}
