// SHA-256 (FIPS 180-4) in the IR, over a context in memory: `sha256_init(ctx)`,
// `sha256_update(ctx, ptr, len)`, `sha256_byte(ctx, byte)` and `sha256_final(ctx, out)` (32 bytes,
// big-endian as the standard writes them). Written for size: one round body in a loop, the eight
// working variables rotated by moves; values are masked to 32 bits only where a shift reads them.

import type { FuncBuilder, ProgramBuilder } from "../../ir/builder.ts";
import type { Reg } from "../../ir/types.ts";

/** Context layout: hash state (8 native u32), bytes hashed so far, the block being filled, the schedule. */
export const CTX = { state: 0, count: 32, block: 40, schedule: 104 } as const;
export const CTX_BYTES = 360;

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

function words(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setUint32(i * 4, v, true);
  });
  return out;
}

/**
 * dst = rotr(x, r[0]) ^ rotr(x, r[1]) ^ (r[2] rotated, or shifted when `shiftLast`), for a clean
 * 32-bit x; bits above 31 of dst are garbage (callers add or mask). Clobbers t.
 */
function sigma(f: FuncBuilder, dst: Reg, x: Reg, t: Reg, r: readonly number[], shiftLast: boolean): void {
  f.shr(dst, x, r[0]!)
    .shl(t, x, 32 - r[0]!)
    .xor(dst, dst, t);
  f.shr(t, x, r[1]!)
    .xor(dst, dst, t)
    .shl(t, x, 32 - r[1]!)
    .xor(dst, dst, t);
  f.shr(t, x, r[2]!).xor(dst, dst, t);
  if (!shiftLast) f.shl(t, x, 32 - r[2]!).xor(dst, dst, t);
}

/** Emits `sha256_block(ctx)`: compresses the context's block into its state. */
function emitBlock(p: ProgramBuilder): void {
  p.rodata("sha256_k", words(K), 4);
  // frame: [0] end of the schedule, [8] ctx, [16] address of K minus address of the schedule
  p.func("sha256_block", { frame: 24, saves: ["s0", "s1", "s2", "s3", "s4", "s5"] }, (f) => {
    const load = f.newLabel("load");
    const expand = f.newLabel("expand");
    const round = f.newLabel("round");
    f.store(8, "a0", { base: "sp", offset: 8 });
    // W[0..15]: the block's big-endian words
    f.add("a1", "a0", CTX.block).add("a2", "a0", CTX.schedule).add("a5", "a1", 64);
    f.label(load);
    f.load(1, "a3", "a1").shl("a3", "a3", 24);
    f.load(1, "a4", { base: "a1", offset: 1 }).shl("a4", "a4", 16).or("a3", "a3", "a4");
    f.load(1, "a4", { base: "a1", offset: 2 }).shl("a4", "a4", 8).or("a3", "a3", "a4");
    f.load(1, "a4", { base: "a1", offset: 3 }).or("a3", "a3", "a4");
    f.store(4, "a3", "a2").add("a1", "a1", 4).add("a2", "a2", 4).br("ltu", "a1", "a5", load);
    // W[16..63] = σ1(W[i-2]) + W[i-7] + σ0(W[i-15]) + W[i-16]; a2 walks W[i]
    f.add("a5", "a0", CTX.schedule + 256);
    f.label(expand);
    f.load(4, "a1", { base: "a2", offset: -8 });
    sigma(f, "a3", "a1", "a4", [17, 19, 10], true);
    f.load(4, "a1", { base: "a2", offset: -60 });
    sigma(f, "s0", "a1", "a4", [7, 18, 3], true);
    f.add("a3", "a3", "s0");
    f.load(4, "a4", { base: "a2", offset: -28 }).add("a3", "a3", "a4");
    f.load(4, "a4", { base: "a2", offset: -64 }).add("a3", "a3", "a4");
    f.store(4, "a3", "a2").add("a2", "a2", 4).br("ltu", "a2", "a5", expand);
    // rounds: a..h in s0 s1 s2 s3 s4 s5 a0 a1; a2 walks W; temporaries a3 a4 a5
    f.store(8, "a5", { base: "sp", offset: 0 });
    f.add("a2", "a0", CTX.schedule).addr("a3", "sha256_k").sub("a3", "a3", "a2");
    f.store(8, "a3", { base: "sp", offset: 16 });
    const vars: Reg[] = ["s0", "s1", "s2", "s3", "s4", "s5", "a0", "a1"];
    f.mov("a5", "a0");
    vars.forEach((v, i) => {
      f.load(4, v, { base: "a5", offset: CTX.state + i * 4 });
    });
    const [a, b, c, d, e, g1, g2, h] = vars as [Reg, Reg, Reg, Reg, Reg, Reg, Reg, Reg];
    f.label(round);
    sigma(f, "a3", e, "a4", [6, 11, 25], false);
    f.add(h, h, "a3");
    f.xor("a3", g1, g2).and("a3", "a3", e).xor("a3", "a3", g2).add(h, h, "a3"); // Ch(e, f, g)
    f.load(4, "a3", "a2").add(h, h, "a3");
    f.load(8, "a3", { base: "sp", offset: 16 }).add("a3", "a3", "a2").load(4, "a3", "a3").add(h, h, "a3");
    f.add(d, d, h); // d + T1: the next e
    sigma(f, "a3", a, "a4", [2, 13, 22], false);
    f.add(h, h, "a3");
    f.or("a4", a, b).and("a4", "a4", c).and("a5", a, b).or("a4", "a4", "a5").add(h, h, "a4"); // Maj(a, b, c)
    f.and(h, h, 0xffffffff).and(d, d, 0xffffffff);
    // (a, b, c, d, e, f, g, h) = (T1 + T2, a, b, c, d + T1, e, f, g)
    f.mov("a3", h).mov(h, g2).mov(g2, g1).mov(g1, e).mov(e, d).mov(d, c).mov(c, b).mov(b, a).mov(a, "a3");
    f.add("a2", "a2", 4).load(8, "a3", { base: "sp", offset: 0 }).br("ltu", "a2", "a3", round);
    // state += a..h (store32 keeps the low 32 bits)
    f.load(8, "a2", { base: "sp", offset: 8 });
    vars.forEach((v, i) => {
      f.load(4, "a3", { base: "a2", offset: CTX.state + i * 4 })
        .add("a3", "a3", v)
        .store(4, "a3", { base: "a2", offset: CTX.state + i * 4 });
    });
    f.ret();
  });
}

/** Emits the SHA-256 functions (once per program). */
export function emitSha256(p: ProgramBuilder): void {
  if (p.has("sha256_init")) return;
  emitBlock(p);
  p.rodata("sha256_iv", words(IV), 8);
  p.func("sha256_init", {}, (f) => {
    f.addr("a1", "sha256_iv");
    for (let i = 0; i < 32; i += 8)
      f.load(8, "a2", { base: "a1", offset: i }).store(8, "a2", { base: "a0", offset: i });
    f.store(8, 0, { base: "a0", offset: CTX.count }).ret();
  });
  // sha256_byte(ctx, byte): appends one byte, compressing when the block is full
  p.func("sha256_byte", {}, (f) => {
    const done = f.newLabel("done");
    f.load(8, "a2", { base: "a0", offset: CTX.count }).and("a3", "a2", 63).add("a3", "a3", "a0");
    f.store(1, "a1", { base: "a3", offset: CTX.block });
    f.add("a2", "a2", 1).store(8, "a2", { base: "a0", offset: CTX.count });
    f.and("a2", "a2", 63).br("ne", "a2", 0, done).call("sha256_block");
    f.label(done).ret();
  });
  p.func("sha256_update", { saves: ["s0", "s1", "s2"] }, (f) => {
    const loop = f.newLabel("loop");
    const done = f.newLabel("done");
    f.mov("s0", "a0").mov("s1", "a1").add("s2", "a1", "a2");
    f.label(loop).br("geu", "s1", "s2", done);
    f.mov("a0", "s0").load(1, "a1", "s1").call("sha256_byte").add("s1", "s1", 1).jmp(loop);
    f.label(done).ret();
  });
  // sha256_final(ctx, out): 0x80, zeros to 56 mod 64, the bit count big-endian, then the digest
  p.func("sha256_final", { saves: ["s0", "s1", "s2"] }, (f) => {
    const pad = f.newLabel("pad");
    const length = f.newLabel("length");
    const out = f.newLabel("out");
    f.mov("s0", "a0").mov("s1", "a1");
    f.load(8, "s2", { base: "a0", offset: CTX.count }).shl("s2", "s2", 3);
    f.mov("a1", 0x80).call("sha256_byte");
    f.label(pad)
      .load(8, "a2", { base: "s0", offset: CTX.count })
      .and("a2", "a2", 63)
      .br("eq", "a2", 56, length);
    f.mov("a0", "s0").mov("a1", 0).call("sha256_byte").jmp(pad);
    f.label(length).mov("a0", "s0").shr("a1", "s2", 56).call("sha256_byte");
    f.shl("s2", "s2", 8).load(8, "a2", { base: "s0", offset: CTX.count }).and("a2", "a2", 63);
    f.br("ne", "a2", 0, length);
    // digest: each state word big-endian; s2 counts bytes
    f.label(out).and("a2", "s2", 0x1c).add("a2", "a2", "s0").load(4, "a2", "a2");
    f.and("a3", "s2", 3).xor("a3", "a3", 3).shl("a3", "a3", 3).shr("a2", "a2", "a3");
    f.add("a3", "s1", "s2").store(1, "a2", "a3");
    f.add("s2", "s2", 1).br("ltu", "s2", 32, out).ret();
  });
}
