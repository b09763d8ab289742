// IMF-fixdate in the IR: `fmt_date` writes "Sun, 06 Nov 1994 08:49:37 GMT" for a time in seconds, and
// `parse_date` reads one back (docs/http-semantics.md, "Dates"), by the same integer arithmetic as
// src/pack/http-date.ts, so the native and preview servers agree on every input.

import type { ProgramBuilder } from "../ir/builder.ts";
import { emitDecimal } from "./decimal.ts";

export const DATE_LENGTH = 29;
/** parse_date's answer for text that is not an IMF-fixdate: below every real date (signed). */
export const NOT_A_DATE = -(1n << 63n);

const DAY_NAMES = "SunMonTueWedThuFriSat";
const MONTH_NAMES = "JanFebMarAprMayJunJulAugSepOctNovDec";

/**
 * Names as 4-byte little-endian words, each with the byte that follows it in a date (day names a
 * comma, month names a space), so one load compares a name and its punctuation.
 */
function nameWords(names: string, after: string): Uint8Array {
  const out = new Uint8Array((names.length / 3) * 4);
  for (let i = 0; i < names.length / 3; i++)
    out.set(new TextEncoder().encode(names.slice(i * 3, i * 3 + 3) + after), i * 4);
  return out;
}

function emitNames(p: ProgramBuilder): void {
  if (p.has("day_names")) return;
  p.rodata("day_names", nameWords(DAY_NAMES, ","), 4);
  p.rodata("month_names", nameWords(MONTH_NAMES, " "), 4);
}

/**
 * Emits `fmt_date(seconds, out)`: the date of a time in seconds into the DATE_LENGTH bytes at out,
 * which hold an IMF-fixdate already (the Date line starts as a template): only the names and the
 * digits change, the spaces, colons and " GMT" stay.
 */
export function emitFormatDate(p: ProgramBuilder): void {
  if (p.has("fmt_date")) return;
  emitNames(p);
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

/**
 * The two-digit fields of an IMF-fixdate, in the order parse_date stores them in date_fields: where
 * the digits are, and where the separator before them is and what it is ("Sun, 06 Nov 1994
 * 08:49:37 GMT": day, the year's two halves, hour, minute, second). The names are words of their
 * own and " GMT" one compare.
 */
const DATE_FIELDS = [
  [5, 4, 32],
  [12, 7, 32],
  [14, 11, 32],
  [17, 16, 32],
  [20, 19, 58],
  [23, 22, 58],
] as const;
const FIELD = { day: 0, century: 1, year: 2, hour: 3, minute: 4, second: 5 } as const;

/** Emits `parse_date(ptr, len)`: seconds since the epoch, or NOT_A_DATE. */
export function emitParseDate(p: ProgramBuilder): void {
  if (p.has("parse_date")) return;
  emitNames(p);
  p.rodata("date_parts", Uint8Array.from(DATE_FIELDS.flat()));
  p.bss("date_fields", 8 * DATE_FIELDS.length, 8);
  const field = (k: keyof typeof FIELD) => ({ base: "a3" as const, offset: 8 * FIELD[k] });
  p.func("parse_date", { saves: ["s0", "s1"] }, (f) => {
    const bad = "bad";
    f.br("ne", "a1", DATE_LENGTH, bad).mov("s0", "a0");
    // (registers are chosen so the busiest need no REX prefix on x86-64: a0..a2 are rdi rsi rdx)
    // day name with its comma: one of the seven
    f.load(4, "a2", "s0").addr("a1", "day_names").mov("a0", 0);
    f.label("dayname").load(4, "a5", { base: "a1", index: "a0", scale: 4 }).br("eq", "a5", "a2", "dayok");
    f.add("a0", "a0", 1).br("ltu", "a0", 7, "dayname").jmp(bad);
    f.label("dayok");
    // month name with its space: index 0..11 → s1 = month 1..12
    f.load(4, "a2", { base: "s0", offset: 8 }).addr("a1", "month_names").mov("s1", 0);
    f.label("monthname")
      .load(4, "a0", { base: "a1", index: "s1", scale: 4 })
      .add("s1", "s1", 1)
      .br("eq", "a0", "a2", "monthok");
    f.br("ltu", "s1", 12, "monthname").jmp(bad);
    f.label("monthok").load(4, "a2", { base: "s0", offset: 25 }).br("ne", "a2", 0x544d4720, bad); // " GMT"
    // the two-digit fields, each after its separator: a5 walks date_parts, a4 date_fields
    f.addr("a5", "date_parts").addr("a3", "date_fields").mov("a4", "a3");
    f.label("part").load(1, "a1", { base: "a5", offset: 1 }).load(1, "a1", { base: "s0", index: "a1" });
    f.load(1, "a2", { base: "a5", offset: 2 }).br("ne", "a1", "a2", bad);
    f.load(1, "a0", "a5")
      .add("a0", "a0", "s0")
      .load(1, "a1", "a0")
      .sub("a1", "a1", 48)
      .br("gtu", "a1", 9, bad);
    f.load(1, "a2", { base: "a0", offset: 1 }).sub("a2", "a2", 48).br("gtu", "a2", 9, bad);
    f.mul("a1", "a1", 10).add("a1", "a1", "a2").store(8, "a1", "a4");
    f.add("a5", "a5", 3)
      .add("a4", "a4", 8)
      .add("a0", "a3", 8 * DATE_FIELDS.length)
      .br("ne", "a4", "a0", "part");
    // days from civil: y -= m <= 2; era = y / 400 (y may be -1 for year 0000 Jan/Feb)
    f.load(8, "a0", field("century")).mul("a0", "a0", 100).load(8, "a1", field("year")).add("a0", "a0", "a1");
    f.br("gtu", "s1", 2, "march");
    f.sub("a0", "a0", 1);
    f.add("s1", "s1", 12);
    f.label("march").sub("s1", "s1", 3); // months since March, 0..11
    f.add("a0", "a0", 400); // keep the year positive: one extra era, removed below
    f.udiv("a4", "a0", 400).urem("a5", "a0", 400); // a4 era, a5 year of the era
    f.mul("s1", "s1", 153).add("s1", "s1", 2).udiv("s1", "s1", 5); // day of year of the month start
    f.mul("a0", "a5", 365).add("s1", "s1", "a0").shr("a0", "a5", 2).add("s1", "s1", "a0");
    f.udiv("a0", "a5", 100).sub("s1", "s1", "a0");
    f.mul("a4", "a4", 146097)
      .add("s1", "s1", "a4")
      .sub("s1", "s1", 719468 + 146097);
    // day of month 01-31 → days; then time of day
    f.load(8, "a2", field("day"));
    f.sub("a2", "a2", 1).br("gtu", "a2", 30, bad).add("s1", "s1", "a2").mul("s1", "s1", 86400);
    f.load(8, "a2", field("hour")).br("gtu", "a2", 23, bad).mul("a2", "a2", 3600).add("s1", "s1", "a2");
    f.load(8, "a2", field("minute")).br("gtu", "a2", 59, bad).mul("a2", "a2", 60).add("s1", "s1", "a2");
    f.load(8, "a2", field("second")).br("gtu", "a2", 60, bad).add("a0", "s1", "a2").ret();
    f.label(bad).mov("a0", NOT_A_DATE).ret();
  });
}
