// Jump threading over the laid-out items: a branch to a label whose code is just `b M` goes to M
// itself, and a `b` that nothing can reach any more (after a ret, b or exit, behind no label
// still referenced) is dropped.

import * as a from "./encode.ts";
import type { Item } from "./items.ts";

function ends(item: Item): boolean {
  if (item.kind === "word") return item.word === a.RET || item.final === true;
  return item.kind === "branch" && item.cond === null;
}

/** Retargets branches past labels that only jump on, then drops the code no label leads to. */
export function threadJumps(items: readonly Item[], functions: ReadonlySet<string>): Item[] {
  const onward = new Map<string, string>();
  items.forEach((item, i) => {
    if (item.kind !== "label" || functions.has(item.name)) return;
    let j = i + 1;
    while (items[j]?.kind === "label") j++;
    const next = items[j];
    if (next?.kind === "branch" && next.cond === null) onward.set(item.name, next.target);
  });
  const final = (label: string): string => {
    const seen = new Set<string>();
    let at = label;
    while (onward.has(at) && !seen.has(at)) {
      seen.add(at);
      at = onward.get(at)!;
    }
    return at;
  };
  const threaded = items.map((item) =>
    item.kind === "branch" || item.kind === "cbz" || item.kind === "tbz"
      ? { ...item, target: final(item.target) }
      : item,
  );
  const referenced = new Set<string>(functions);
  for (const item of threaded)
    if (item.kind === "branch" || item.kind === "cbz" || item.kind === "tbz" || item.kind === "call")
      referenced.add(item.target);
    else if (item.kind === "adr") referenced.add(item.symbol);
  const out: Item[] = [];
  let reachable = true;
  for (const item of threaded) {
    if (item.kind === "label") {
      reachable ||= referenced.has(item.name);
      out.push(item);
    } else if (reachable) {
      out.push(item);
      if (ends(item)) reachable = false;
    }
  }
  return out;
}
