// Tail merging across the whole program: a run of instructions that ends in `ret`, `b` or an
// exit syscall and repeats the end of a run placed earlier (an epilogue, `mov x0, #0` and an
// epilogue, a restore and a tail call, an exit with its status) becomes one `b` into the earlier copy.

import * as a from "./encode.ts";
import { type Item, itemKey } from "./items.ts";

/** Longest run end compared; longer repeats are rare and the keys grow with the square. */
const LONGEST = 16;

function ends(item: Item): boolean {
  if (item.kind === "word") return item.word === a.RET || item.final === true;
  return item.kind === "branch" && item.cond === null;
}

/** Keys of the last 1, 2, ... items of `out` after `runStart`: keys[k - 1] names the last k. */
function runKeys(out: readonly Item[], runStart: number): string[] {
  const keys: string[] = [];
  let key = "";
  for (let k = 1; k <= Math.min(LONGEST, out.length - runStart); k++) {
    key = `${itemKey(out[out.length - k]!)}|${key}`;
    keys.push(key);
  }
  return keys;
}

/** Replaces each repeated run end of two or more instructions with a branch to its first copy. */
export function mergeTails(items: readonly Item[]): Item[] {
  const out: Item[] = [];
  /** Where each run end seen so far starts in `out`, by the keys of its items. */
  const seen = new Map<string, number>();
  const labels = new Map<number, string>();
  let runStart = 0;
  for (const item of items) {
    out.push(item);
    if (item.kind === "label") runStart = out.length;
    if (!ends(item)) continue;
    // Replace the longest known run end, then try again with the branch that replaced it.
    for (;;) {
      const keys = runKeys(out, runStart);
      let k = keys.length;
      while (k >= 2 && !seen.has(keys[k - 1]!)) k--;
      if (k < 2) {
        keys.forEach((key, i) => {
          if (i >= 1 && !seen.has(key)) seen.set(key, out.length - 1 - i);
        });
        break;
      }
      const at = seen.get(keys[k - 1]!)!;
      out.length -= k;
      let name = labels.get(at);
      if (!name) {
        name = `%tail${labels.size}`;
        labels.set(at, name);
      }
      out.push({ kind: "branch", cond: null, target: name });
    }
    runStart = out.length;
  }
  return out.flatMap((item, i) => {
    const name = labels.get(i);
    return name ? [{ kind: "label", name } as const, item] : [item];
  });
}
