// The decoder in IR: `unsqueeze(scratch, chunks, stream)` writes every chunk back from the range-
// coded stream, computing the same predictions as the encoder (model.ts). `chunks` is a list of
// (address u32, length u32) ending with address 0, no length 0; `scratch` is SCRATCH.size zeroed
// bytes.

import type { ProgramBuilder } from "../ir/builder.ts";
import { type ContextModel, HASH_MULTIPLIER, RANGE_TOP, SCRATCH, TABLE_BITS } from "./model.ts";

export function emitUnsqueeze(p: ProgramBuilder, model: ContextModel): void {
  const models = model.masks.length;
  const at = (offset: number) => ({ base: "s3" as const, offset });
  const hashOf = { base: "s3" as const, index: "a0" as const, scale: 8 as const, offset: SCRATCH.hashes };
  const slotOf = { ...hashOf, offset: SCRATCH.hashes + 8 * models };
  p.rodata("squeeze_masks", Uint8Array.from(model.masks));
  p.rodata("squeeze_weights", Uint8Array.from(model.weights));
  // s0: where the next byte goes; s1: the end of its chunk; s2: its bits so far, behind a leading
  // 1; s3: the scratch memory; s4: the next chunk; s5: the next byte of the stream.
  p.func("unsqueeze", { saves: ["s0", "s1", "s2", "s3", "s4", "s5"] }, (f) => {
    f.mov("s3", "a0").mov("s4", "a1").mov("s5", "a2");
    f.mov("a0", 0xffffffff).store(8, "a0", at(SCRATCH.range));
    f.load(4, "a0", "s5").add("s5", "s5", 4).store(8, "a0", at(SCRATCH.code));

    f.label("chunk").load(4, "s0", "s4").br("eq", "s0", 0, "done");
    f.load(4, "s1", { base: "s4", offset: 4 }).add("s1", "s1", "s0").add("s4", "s4", 8);

    // Each model's hash of the earlier bytes its mask picks.
    f.label("byte").mov("s2", 1).mov("a0", 0);
    f.label("model").addr("a1", "squeeze_masks").load(1, "a1", { base: "a1", index: "a0" });
    f.shl("a2", "a1", 8).mov("a3", "s0");
    f.label("back").br("eq", "a1", 0, "hashed").and("a4", "a1", 1).shr("a1", "a1", 1).sub("a3", "a3", 1);
    f.br("eq", "a4", 0, "back").load(1, "a4", "a3").add("a2", "a2", "a4").mul("a2", "a2", HASH_MULTIPLIER);
    f.jmp("back");
    f.label("hashed").store(8, "a2", hashOf).add("a0", "a0", 1).br("ne", "a0", models, "model");

    // P(1) in a2 from every model's slot (claimed when its check differs): a1 sums the scaled
    // counts of zeros, a2 of ones.
    f.label("bit").mov("a1", 0).mov("a2", 0).mov("a0", 0);
    f.label("predict").load(8, "a4", hashOf).add("a4", "a4", "s2").mul("a4", "a4", HASH_MULTIPLIER);
    f.shr("a5", "a4", 32 - TABLE_BITS)
      .and("a5", "a5", (1 << TABLE_BITS) - 1)
      .shl("a5", "a5", 2);
    f.add("a5", "a5", "s3").add("a5", "a5", SCRATCH.table).store(8, "a5", slotOf);
    f.and("a4", "a4", 0xffff).load(2, "a3", "a5").br("eq", "a3", "a4", "claimed").store(4, "a4", "a5");
    f.label("claimed").load(1, "a3", { base: "a5", offset: 2 }).load(1, "a4", { base: "a5", offset: 3 });
    f.addr("a5", "squeeze_weights").load(1, "a5", { base: "a5", index: "a0" });
    f.br("eq", "a3", 0, "sure").br("ne", "a4", 0, "scaled");
    f.label("sure").add("a5", "a5", 1);
    f.label("scaled").shl("a3", "a3", "a5").add("a1", "a1", "a3").shl("a4", "a4", "a5").add("a2", "a2", "a4");
    f.add("a0", "a0", 1).br("ne", "a0", models, "predict");
    f.add("a1", "a1", "a2").add("a1", "a1", 1).shl("a2", "a2", 1).add("a2", "a2", 1).shl("a2", "a2", 15);
    f.udiv("a2", "a2", "a1").or("a2", "a2", 1);

    // The bit, into a4, and the coder's renormalisation.
    f.load(8, "a0", at(SCRATCH.range)).load(8, "a1", at(SCRATCH.code));
    f.shr("a3", "a0", 16).mul("a3", "a3", "a2").mov("a4", 1).br("ltu", "a1", "a3", "one");
    f.sub("a1", "a1", "a3").sub("a3", "a0", "a3").mov("a4", 0);
    f.label("one").mov("a0", "a3");
    f.label("normalise").br("geu", "a0", RANGE_TOP, "normal");
    f.shl("a0", "a0", 8).shl("a1", "a1", 8).load(1, "a3", "s5").add("s5", "s5", 1).or("a1", "a1", "a3");
    f.jmp("normalise");
    f.label("normal").store(8, "a0", at(SCRATCH.range)).store(8, "a1", at(SCRATCH.code));

    // Count the bit in every slot read: its own count up, the other one halved (kept above 1).
    f.mov("a0", 0);
    f.label("update").load(8, "a3", slotOf).add("a5", "a3", "a4").load(1, "a1", { base: "a5", offset: 2 });
    f.add("a1", "a1", 1).store(1, "a1", { base: "a5", offset: 2 });
    f.sub("a5", "a3", "a4").load(1, "a1", { base: "a5", offset: 3 }).br("leu", "a1", 1, "kept");
    f.shr("a1", "a1", 1).add("a1", "a1", 1).store(1, "a1", { base: "a5", offset: 3 });
    f.label("kept").add("a0", "a0", 1).br("ne", "a0", models, "update");

    f.shl("s2", "s2", 1).or("s2", "s2", "a4").br("ltu", "s2", 256, "bit");
    f.store(1, "s2", "s0").add("s0", "s0", 1).br("ltu", "s0", "s1", "byte").jmp("chunk");
    f.label("done").ret();
  });
}
