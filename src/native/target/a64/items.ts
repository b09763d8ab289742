// What lowering produces before layout: fixed instruction words, labels, and instructions whose
// PC-relative field is only known once every item has its place.

export type Item =
  /** `final`: control never goes on to the next item (an exit syscall's svc). */
  | { kind: "word"; word: number; final?: boolean }
  | { kind: "label"; name: string }
  /** b.cond, or b when cond is null; the target is a "func.label" or a function (tail calls). */
  | { kind: "branch"; cond: number | null; target: string }
  | { kind: "cbz"; nonZero: boolean; reg: number; target: string }
  /** tbz/tbnz reach 32 KiB; a far one becomes the opposite test over a b (decided at layout). */
  | { kind: "tbz"; nonZero: boolean; reg: number; bit: number; target: string; far: boolean }
  | { kind: "call"; target: string }
  | { kind: "adr"; dst: number; symbol: string; offset: number };

/** A string equal for two items exactly when they do the same wherever they are placed. */
export function itemKey(item: Item): string {
  switch (item.kind) {
    case "word":
      return `w${item.word}${item.final ? "!" : ""}`;
    case "label":
      return `:${item.name}`;
    case "branch":
      return `b${item.cond ?? ""} ${item.target}`;
    case "cbz":
      return `z${item.nonZero ? 1 : 0}${item.reg} ${item.target}`;
    case "tbz":
      return `t${item.nonZero ? 1 : 0}${item.reg}/${item.bit} ${item.target}`;
    case "call":
      return `c ${item.target}`;
    case "adr":
      return `a${item.dst} ${item.symbol}+${item.offset}`;
  }
}
