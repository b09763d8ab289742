// Stack frames on arm64: the saved registers sit at the bottom of the frame, so the first pair is
// stored with the pre-indexed `stp` that also moves sp, and reloaded with the post-indexed `ldp`
// that frees the whole frame; the IR's locals live above them.

import * as a from "./encode.ts";

export interface Frame {
  /** Bytes sp moves down: a multiple of 16. */
  size: number;
  /** Hardware registers stored at [sp, sp + 8 * saved.length). */
  saved: number[];
  /** Where the IR's [sp + 0] is: just above the saved registers. */
  localsAt: number;
}

/** The frame of a function with `locals` bytes of IR frame that stores `saved` (s-registers, then x30). */
export function frameLayout(locals: number, saved: number[]): Frame {
  const localsAt = saved.length * 8;
  return { size: Math.ceil((localsAt + Math.ceil(locals / 8) * 8) / 16) * 16, saved, localsAt };
}

/** add or sub sp, sp, #size in one or two immediates (frames are at most 1 MiB). */
function moveSp(grow: boolean, size: number): number[] {
  if (size === 0) return [];
  const op = grow ? "sub" : "add";
  const out: number[] = [];
  if (size >= 4096) out.push(a.addSubImm(op, a.SP, a.SP, size >> 12, true));
  if (size % 4096 !== 0) out.push(a.addSubImm(op, a.SP, a.SP, size % 4096));
  return out;
}

/** Whether the first store and the last load can move sp themselves: ldp reaches 504 bytes up, ldr 255. */
function indexedFits(frame: Frame): boolean {
  return frame.saved.length > 0 && frame.size <= (frame.saved.length >= 2 ? 504 : 255);
}

/** Stores (or loads) the saved registers after the first `from`, in pairs at their offsets. */
function pairsFrom(frame: Frame, from: number, load: boolean): number[] {
  const out: number[] = [];
  for (let i = from; i < frame.saved.length; i += 2) {
    const second = frame.saved[i + 1];
    out.push(
      second === undefined
        ? a.loadStoreScaled(load, 8, frame.saved[i]!, a.SP, i * 8)
        : a.pair(load, "offset", frame.saved[i]!, second, a.SP, i * 8),
    );
  }
  return out;
}

/** The instructions that make the frame and save the registers. */
export function prologue(frame: Frame): number[] {
  if (!indexedFits(frame)) return [...moveSp(true, frame.size), ...pairsFrom(frame, 0, false)];
  const [first, second] = frame.saved as [number, number | undefined];
  const push =
    second === undefined
      ? a.loadStoreIndexed(false, "pre", 8, first, a.SP, -frame.size)
      : a.pair(false, "pre", first, second, a.SP, -frame.size);
  return [push, ...pairsFrom(frame, 2, false)];
}

/** The instructions that restore the saved registers and free the frame (the `ret` is not included). */
export function restore(frame: Frame): number[] {
  if (!indexedFits(frame)) return [...pairsFrom(frame, 0, true), ...moveSp(false, frame.size)];
  const [first, second] = frame.saved as [number, number | undefined];
  const pop =
    second === undefined
      ? a.loadStoreIndexed(true, "post", 8, first, a.SP, frame.size)
      : a.pair(true, "post", first, second, a.SP, frame.size);
  return [...pairsFrom(frame, 2, true), pop];
}
