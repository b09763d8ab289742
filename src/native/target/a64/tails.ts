// Tail merging across the whole program: a run of instructions that ends in `ret`, `b` or an
// exit syscall and repeats the end of a run placed earlier (an epilogue, `mov x0, #0` and an
// epilogue, a restore and a tail call, an exit with its status) becomes one `b` into the earlier
// copy. A run that falls into a label counts as ending in a `b` to it.

import * as a from "./encode.ts";
import { type Item, itemKey } from "./items.ts";

/** Longest run end compared; longer repeats are rare and the keys grow with the square. */
const LONGEST = 16;

function ends(item: Item): boolean {
  if (item.kind === "word") return item.word === a.RET || item.final === true;
  return item.kind === "branch" && item.cond === null;
}

/**
 * Keys of the last 1, 2, ... items of `out` after `runStart`, followed by `virtual` when given
 * (the key of a `b` the run falls through as): keys[k - 1] names the last k, virtual included.
 */
function runKeys(out: readonly Item[], runStart: number, virtual?: string): string[] {
  const keys: string[] = [];
  let key = virtual === undefined ? "" : `${virtual}|`;
  if (virtual !== undefined) keys.push(key);
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
  const branchTo = (at: number): Item => {
    let name = labels.get(at);
    if (!name) {
      name = `%tail${labels.size}`;
      labels.set(at, name);
    }
    return { kind: "branch", cond: null, target: name };
  };
  /**
   * Ends the run that started at `runStart`: in a terminal (the last item of `out`), or falling
   * into label `into`. Replaces the longest known end (then tries again with the branch that
   * replaced it) or records every end of the run.
   */
  const settle = (runStart: number, into?: string) => {
    let virtual = into === undefined ? undefined : itemKey({ kind: "branch", cond: null, target: into });
    for (;;) {
      const keys = runKeys(out, runStart, virtual);
      const extra = virtual === undefined ? 0 : 1;
      // A branch is worth it when it replaces two instructions or more.
      let k = keys.length;
      while (k - extra >= 2 && !seen.has(keys[k - 1]!)) k--;
      if (k - extra < 2) {
        keys.forEach((key, i) => {
          if (i - extra >= 0 && i >= 1 && !seen.has(key)) seen.set(key, out.length - 1 - i + extra);
        });
        return;
      }
      const at = seen.get(keys[k - 1]!)!;
      out.length -= k - extra;
      out.push(branchTo(at));
      virtual = undefined;
    }
  };
  let runStart = 0;
  for (const item of items) {
    if (item.kind === "label") {
      const last = out[out.length - 1];
      if (out.length > runStart && last && !ends(last)) settle(runStart, item.name);
      out.push(item);
      runStart = out.length;
      continue;
    }
    out.push(item);
    if (!ends(item)) continue;
    settle(runStart);
    runStart = out.length;
  }
  return out.flatMap((item, i) => {
    const name = labels.get(i);
    return name ? [{ kind: "label", name } as const, item] : [item];
  });
}
