// IMF-fixdate in the IR: `fmt_date` writes "Sun, 06 Nov 1994 08:49:37 GMT" for a time in seconds
// (docs/http-semantics.md, "Dates"), the Date line of every response.

import type { ProgramBuilder } from "../ir/builder.ts";
import { emitDecimal } from "./decimal.ts";

export const DATE_LENGTH = 29;

const DAY_NAMES = "SunMonTueWedThuFriSat";
const MONTH_NAMES = "JanFebMarAprMayJunJulAugSepOctNovDec";

/**
 * Names as 4-byte little-endian words, each with the byte that follows it in a date (day names a
 * comma, month names a space), so one store writes a name and its punctuation.
 */
function nameWords(names: string, after: string): Uint8Array {
  const out = new Uint8Array((names.length / 3) * 4);
  for (let i = 0; i < names.length / 3; i++)
    out.set(new TextEncoder().encode(names.slice(i * 3, i * 3 + 3) + after), i * 4);
  return out;
}

/**
 * Emits `fmt_date(seconds, out)`: the date of a time in seconds into the DATE_LENGTH bytes at out,
 * which hold an IMF-fixdate already (the Date line starts as a template): only the names and the
 * digits change, the spaces, colons and " GMT" stay.
 */
export function emitFormatDate(p: ProgramBuilder): void {
  if (p.has("fmt_date")) return;
  p.rodata("day_names", nameWords(DAY_NAMES, ","), 4);
  p.rodata("month_names", nameWords(MONTH_NAMES, " "), 4);
  emitDecimal(p);
  p.rodata("month_days", Uint8Array.from([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]));
  p.func("fmt_date", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a1");
    f.udiv("s1", "a0", 86400).urem("s2", "a0", 86400); // s1 days, s2 seconds of the day
    // weekday: 1970-01-01 was a Thursday (4)
    f.add("a3", "s1", 4)
      .urem("a3", "a3", 7)
      .addr("a4", "day_names")
      .load(4, "a3", { base: "a4", index: "a3", scale: 4 })
      .store(4, "a3", "s0"); // "Sun,"
    // year: whole 400-year eras first (146097 days each), then one year at a time; this runs once a
    // second, so a loop of at most 400 turns is cheaper in bytes than the division-only formula
    f.udiv("a1", "s1", 146097).urem("s1", "s1", 146097);
    f.mul("a1", "a1", 400).add("a1", "a1", 1970); // a1 year, s1 days into it
    f.label("year").mov("a3", 365).and("a0", "a1", 3).br("ne", "a0", 0, "common");
    f.urem("a0", "a1", 100).br("ne", "a0", 0, "leap");
    f.urem("a0", "a1", 400).br("ne", "a0", 0, "common");
    f.label("leap").mov("a3", 366);
    f.label("common").br("ltu", "s1", "a3", "month");
    f.sub("s1", "s1", "a3").add("a1", "a1", 1).jmp("year");
    // month: a5 index, February 28 or 29 days (a3 - 337)
    f.label("month").addr("a4", "month_days").mov("a5", 0);
    f.label("days").load(1, "a0", { base: "a4", index: "a5" }).br("ne", "a5", 1, "length");
    f.sub("a0", "a3", 365 - 28);
    f.label("length").br("ltu", "s1", "a0", "found");
    f.sub("s1", "s1", "a0").add("a5", "a5", 1).jmp("days");
    f.label("found").addr("a4", "month_names").load(4, "a4", { base: "a4", index: "a5", scale: 4 });
    f.store(4, "a4", { base: "s0", offset: 8 }); // "Nov "
    f.add("a0", "s1", 1).mov("s1", "a1").add("a1", "s0", 5).mov("a2", 2).call("decimal");
    f.mov("a0", "s1").add("a1", "s0", 12).mov("a2", 4).call("decimal");
    // seconds, minutes, hours from the right: each the rest of a division by 60
    f.mov("s1", 23);
    f.label("time").urem("a0", "s2", 60).add("a1", "s0", "s1").mov("a2", 2).call("decimal");
    f.udiv("s2", "s2", 60).sub("s1", "s1", 3).br("ne", "s1", 14, "time");
    f.ret();
  });
}
