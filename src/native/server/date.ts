// IMF-fixdate in the IR: `fmt_date` writes "Sun, 06 Nov 1994 08:49:37 GMT" for a time in seconds, and
// `parse_date` reads one back (docs/http-semantics.md, "Dates"), by the same integer arithmetic as
// src/pack/http-date.ts, so the native and preview servers agree on every input.

import type { ProgramBuilder } from "../ir/builder.ts";

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

/** Emits `put2(value < 100, out)`: two ASCII digits, dividing by multiplying (v * 205 >> 11 = v / 10). */
function emitPut2(p: ProgramBuilder): void {
  p.func("put2", {}, (f) => {
    f.mul("a2", "a0", 205).shr("a2", "a2", 11);
    f.mul("a3", "a2", 10).sub("a3", "a0", "a3");
    f.add("a2", "a2", 48).add("a3", "a3", 48);
    f.store(1, "a2", "a1").store(1, "a3", { base: "a1", offset: 1 }).ret();
  });
}

/**
 * Emits `fmt_date(seconds, out)`: the date of a time in seconds into the DATE_LENGTH bytes at out,
 * which hold an IMF-fixdate already (the Date line starts as a template): only the names and the
 * digits change, the spaces, colons and " GMT" stay.
 */
export function emitFormatDate(p: ProgramBuilder): void {
  if (p.has("fmt_date")) return;
  emitNames(p);
  if (!p.has("put2")) emitPut2(p);
  p.func("fmt_date", { frame: 16, saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a1");
    f.udiv("s1", "a0", 86400).urem("s2", "a0", 86400); // s1 days, s2 seconds of the day
    // weekday: 1970-01-01 was a Thursday (4)
    f.add("a2", "s1", 4)
      .urem("a2", "a2", 7)
      .addr("a3", "day_names")
      .load(4, "a2", { base: "a3", index: "a2", scale: 4 });
    f.store(4, "a2", "s0"); // "Sun,"
    // civil date from days (proleptic Gregorian, days >= 0)
    f.add("a0", "s1", 719468).udiv("a1", "a0", 146097); // a0 z, a1 era
    f.mul("a2", "a1", 146097).sub("a2", "a0", "a2"); // a2 doe
    f.udiv("a3", "a2", 1460).sub("a3", "a2", "a3").udiv("a4", "a2", 36524).add("a3", "a3", "a4");
    f.udiv("a4", "a2", 146096).sub("a3", "a3", "a4").udiv("a3", "a3", 365); // a3 yoe
    f.mul("s3", "a1", 400).add("s3", "s3", "a3"); // s3 year (before the Jan/Feb correction)
    f.mul("a4", "a3", 365)
      .shr("a5", "a3", 2)
      .add("a4", "a4", "a5")
      .udiv("a5", "a3", 100)
      .sub("a4", "a4", "a5");
    f.sub("a2", "a2", "a4"); // a2 doy
    f.mul("a4", "a2", 5).add("a4", "a4", 2).udiv("a4", "a4", 153); // a4 mp
    f.mul("a5", "a4", 153).add("a5", "a5", 2).udiv("a5", "a5", 5).sub("a2", "a2", "a5").add("a2", "a2", 1); // a2 day
    f.store(8, "a4", { base: "sp", offset: 0 }); // mp
    f.mov("a0", "a2").add("a1", "s0", 5).call("put2");
    // month index: mp < 10 ? mp + 2 : mp - 10 (0-based), and March-based years roll over in Jan/Feb
    f.load(8, "a4", { base: "sp", offset: 0 }).add("a4", "a4", 2).br("ltu", "a4", 12, "month");
    f.sub("a4", "a4", 12).add("s3", "s3", 1);
    f.label("month").addr("a3", "month_names").load(4, "a2", { base: "a3", index: "a4", scale: 4 });
    f.store(4, "a2", { base: "s0", offset: 8 }); // "Nov "
    f.mul("a0", "s3", 5243)
      .shr("a0", "a0", 19)
      .store(8, "a0", { base: "sp", offset: 8 })
      .add("a1", "s0", 12)
      .call("put2");
    f.load(8, "a0", { base: "sp", offset: 8 })
      .mul("a0", "a0", 100)
      .sub("a0", "s3", "a0")
      .add("a1", "s0", 14)
      .call("put2");
    f.udiv("a0", "s2", 3600).add("a1", "s0", 17).call("put2");
    f.urem("a0", "s2", 3600).udiv("a0", "a0", 60).add("a1", "s0", 20).call("put2");
    f.urem("a0", "s2", 60).add("a1", "s0", 23).call("put2").ret();
  });
}

/**
 * What parse_date expects at each of the 29 positions: NAME for the letters and punctuation of the
 * day and month names (checked as whole words: "Sun," and "Nov "), DIGIT for a digit, LAST + k for
 * the last digit of field k (the digits since the previous field: its value goes to date_fields[k]),
 * any other byte for itself.
 */
const NAME = 0;
const DIGIT = 1;
const LAST = 2;
const FIELD = { day: 0, year: 1, hour: 2, minute: 3, second: 4 } as const;
const DATE_PATTERN = Uint8Array.from([
  ...[NAME, NAME, NAME, NAME],
  32,
  ...[DIGIT, LAST + FIELD.day],
  32,
  ...[NAME, NAME, NAME, NAME],
  ...[DIGIT, DIGIT, DIGIT, LAST + FIELD.year],
  32,
  ...[DIGIT, LAST + FIELD.hour],
  58,
  ...[DIGIT, LAST + FIELD.minute],
  58,
  ...[DIGIT, LAST + FIELD.second],
  ...new TextEncoder().encode(" GMT"),
]);

/** Emits `parse_date(ptr, len)`: seconds since the epoch, or NOT_A_DATE. */
export function emitParseDate(p: ProgramBuilder): void {
  if (p.has("parse_date")) return;
  emitNames(p);
  p.rodata("date_pattern", DATE_PATTERN);
  p.bss("date_fields", 8 * Object.keys(FIELD).length, 8);
  const field = (k: keyof typeof FIELD) => ({ base: "a3" as const, offset: 8 * FIELD[k] });
  p.func("parse_date", { saves: ["s0", "s1"] }, (f) => {
    const bad = "bad";
    f.br("ne", "a1", DATE_LENGTH, bad).mov("s0", "a0");
    // day name with its comma: one of the seven
    f.load(4, "a2", "s0").addr("a3", "day_names").mov("a4", 0);
    f.label("dayname").load(4, "a5", { base: "a3", index: "a4", scale: 4 }).br("eq", "a5", "a2", "dayok");
    f.add("a4", "a4", 1).br("ltu", "a4", 7, "dayname").jmp(bad);
    f.label("dayok");
    // month name with its space: index 0..11 → s1 = month 1..12
    f.load(4, "a2", { base: "s0", offset: 8 }).addr("a3", "month_names").mov("s1", 0);
    f.label("monthname")
      .load(4, "a5", { base: "a3", index: "s1", scale: 4 })
      .add("s1", "s1", 1)
      .br("eq", "a5", "a2", "monthok");
    f.br("ltu", "s1", 12, "monthname").jmp(bad);
    f.label("monthok");
    // every other position by the pattern: a4 position, a5 the digits of the current field
    f.addr("a0", "date_pattern").addr("a3", "date_fields").mov("a4", 0).mov("a5", 0);
    f.label("scan").load(1, "a1", { base: "a0", index: "a4" }).load(1, "a2", { base: "s0", index: "a4" });
    f.br("gtu", "a1", LAST + 4, "literal").br("eq", "a1", NAME, "next");
    f.sub("a2", "a2", 48).br("gtu", "a2", 9, bad).mul("a5", "a5", 10).add("a5", "a5", "a2");
    f.br("eq", "a1", DIGIT, "next");
    f.store(8, "a5", { base: "a3", index: "a1", scale: 8, offset: -8 * LAST })
      .mov("a5", 0)
      .jmp("next");
    f.label("literal").br("ne", "a2", "a1", bad);
    f.label("next").add("a4", "a4", 1).br("ltu", "a4", DATE_LENGTH, "scan");
    // days from civil: y -= m <= 2; era = y / 400 (y may be -1 for year 0000 Jan/Feb)
    f.load(8, "a2", field("year"));
    f.br("gtu", "s1", 2, "march");
    f.sub("a2", "a2", 1);
    f.add("s1", "s1", 12);
    f.label("march").sub("s1", "s1", 3); // months since March, 0..11
    f.add("a2", "a2", 400); // keep the year positive: one extra era, removed below
    f.udiv("a4", "a2", 400).mul("a0", "a4", 400).sub("a0", "a2", "a0"); // a4 era, a0 yoe
    f.mul("a5", "s1", 153).add("a5", "a5", 2).udiv("a5", "a5", 5); // day of year of the month start
    f.mul("s1", "a0", 365)
      .shr("a1", "a0", 2)
      .add("s1", "s1", "a1")
      .udiv("a1", "a0", 100)
      .sub("s1", "s1", "a1");
    f.add("s1", "s1", "a5")
      .mul("a4", "a4", 146097)
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
