// Searches the context models of src/native/squeeze/model.ts for one target: greedily adds the mask
// and weight that shorten the coded server most, then re-tunes every weight, until nothing helps.
// Takes about a minute per model on one core. Run: node --import tsx scripts/squeeze-models.ts a64

import { link } from "../src/native/link.ts";
import { serverProgram } from "../src/native/server/index.ts";
import { compress } from "../src/native/squeeze/encode.ts";
import type { ContextModel } from "../src/native/squeeze/model.ts";
import { TARGETS } from "../src/native/target/index.ts";

const name = process.argv[2] as keyof typeof TARGETS;
const target = TARGETS[name];
if (!target) throw new Error("usage: scripts/squeeze-models.ts x64|a64");
const code = link(serverProgram(target), target, { optimize: true }).elf;
const WEIGHTS = [0, 1, 2, 3, 4, 5, 6];
const cost = (model: ContextModel) => compress([code], model).length;

let best: ContextModel = { masks: [0], weights: [0] };
let bestCost = cost(best);
for (;;) {
  let found: { model: ContextModel; cost: number } | null = null;
  for (let mask = 1; mask < 256; mask++) {
    if (best.masks.includes(mask)) continue;
    for (const weight of WEIGHTS) {
      const model = { masks: [...best.masks, mask], weights: [...best.weights, weight] };
      const c = cost(model);
      if (c < (found?.cost ?? bestCost)) found = { model, cost: c };
    }
  }
  if (!found) break;
  best = found.model;
  bestCost = found.cost;
  for (let j = 0; j < best.weights.length; j++)
    for (const weight of WEIGHTS) {
      const model = { masks: best.masks, weights: best.weights.map((w, k) => (k === j ? weight : w)) };
      const c = cost(model);
      if (c < bestCost) [best, bestCost] = [model, c];
    }
  const hex = best.masks.map((m) => `0x${m.toString(16)}`).join(", ");
  console.log(`${bestCost} bytes: masks [${hex}], weights [${best.weights.join(", ")}]`);
}
