import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ProgramBuilder } from "../ir/builder.ts";
import { Machine } from "../ir/interpret.ts";
import { buildServer } from "../server/index.ts";
import { TARGETS } from "../target/index.ts";
import { emitUnsqueeze } from "./decoder.ts";
import { compress } from "./encode.ts";
import { type ContextModel, MODELS, SCRATCH } from "./model.ts";

/** Decodes `stream` with the IR decoder in the interpreter into chunks of the given lengths. */
function unsqueezeInterpreted(model: ContextModel, stream: Uint8Array, lengths: number[]): Uint8Array[] {
  const p = new ProgramBuilder();
  emitUnsqueeze(p, model);
  p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
  const total = lengths.reduce((n, l) => n + l, 0);
  const m = new Machine(p.build("main"), {
    syscall: () => 0n,
    heapSize: SCRATCH.size + total + 16 * lengths.length + stream.length + 3 * 4096,
    maxSteps: 1e9,
  });
  const scratch = m.memory.allocate(SCRATCH.size);
  // Each chunk behind eight zero bytes, as the decoder's history expects.
  const outputs = lengths.map((length) => m.memory.allocate(length + 8, 8) + 8);
  const table = m.memory.allocate(lengths.length * 8 + 4, 4);
  lengths.forEach((length, i) => {
    m.memory.store(table + i * 8, 4, BigInt(outputs[i]!));
    m.memory.store(table + i * 8 + 4, 4, BigInt(length));
  });
  const source = m.memory.allocate(stream.length, 1);
  m.memory.write(source, stream);
  m.call("unsqueeze", [scratch, table, source]);
  return outputs.map((at, i) => m.memory.read(at, lengths[i]!));
}

test("the IR decoder gives back what the encoder coded: random chunks, both models", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...Object.values(MODELS)),
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 3 }),
      (model, chunks) => {
        const decoded = unsqueezeInterpreted(
          model,
          compress(chunks, model),
          chunks.map((c) => c.length),
        );
        assert.deepEqual(decoded, chunks);
      },
    ),
    { numRuns: 40 },
  );
});

test("the IR decoder gives back machine code and long runs, where the counts grow and wrap", () => {
  const code = buildServer(TARGETS.a64).linked.elf.subarray(0, 3000);
  const runs = new Uint8Array(2000).map((_, i) => (i < 1500 ? 0 : i % 3));
  for (const model of Object.values(MODELS)) {
    const decoded = unsqueezeInterpreted(model, compress([code, runs], model), [code.length, runs.length]);
    assert.deepEqual(decoded, [code, runs]);
  }
});

test("squeezing codes each server in about six tenths of its bytes, the same bytes every time", () => {
  for (const target of Object.values(TARGETS)) {
    const first = buildServer(target);
    const again = buildServer(target);
    assert.deepEqual(again.elf, first.elf);
    const ratio = first.elf.length / first.linked.elf.length;
    assert.ok(ratio < 0.7, `${target.name}: ${first.elf.length} of ${first.linked.elf.length} bytes`);
    assert.equal(first.squeezed.headers + first.squeezed.decoder + first.squeezed.stream, first.elf.length);
  }
});
