// IMF-fixdate in the IR: `fmt_date` writes "Sun, 06 Nov 1994 08:49:37 GMT" for a time in seconds, and
// `parse_date` reads one back (docs/http-semantics.md, "Dates"), by the same integer arithmetic as
// src/pack/http-date.ts, so the native and preview servers agree on every input.

import type { FuncBuilder, ProgramBuilder } from "../ir/builder.ts";

export const DATE_LENGTH = 29;
/** parse_date's answer for text that is not an IMF-fixdate: below every real date (signed). */
export const NOT_A_DATE = -(1n << 63n);

const DAY_NAMES = "SunMonTueWedThuFriSat";
const MONTH_NAMES = "JanFebMarAprMayJunJulAugSepOctNovDec";

/** Names as 4-byte little-endian words (3 letters and a zero), so one masked load compares a name. */
function nameWords(names: string): Uint8Array {
  const out = new Uint8Array((names.length / 3) * 4);
  for (let i = 0; i < names.length / 3; i++)
    out.set(new TextEncoder().encode(names.slice(i * 3, i * 3 + 3)), i * 4);
  return out;
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

/** Emits `fmt_date(seconds, out)`, writing DATE_LENGTH bytes at out. */
export function emitFormatDate(p: ProgramBuilder): void {
  if (p.has("fmt_date")) return;
  p.rodata("day_names", nameWords(DAY_NAMES), 4);
  p.rodata("month_names", nameWords(MONTH_NAMES), 4);
  if (!p.has("put2")) emitPut2(p);
  p.func("fmt_date", { frame: 16, saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a1");
    f.udiv("s1", "a0", 86400).urem("s2", "a0", 86400); // s1 days, s2 seconds of the day
    // weekday: 1970-01-01 was a Thursday (4)
    f.add("a2", "s1", 4)
      .urem("a2", "a2", 7)
      .addr("a3", "day_names")
      .load(4, "a2", { base: "a3", index: "a2", scale: 4 });
    f.store(4, "a2", "s0").store(2, 0x202c, { base: "s0", offset: 3 }); // "Sun" ", "
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
    f.store(1, 32, { base: "s0", offset: 7 });
    // month index: mp < 10 ? mp + 2 : mp - 10 (0-based), and March-based years roll over in Jan/Feb
    f.load(8, "a4", { base: "sp", offset: 0 }).add("a4", "a4", 2).br("ltu", "a4", 12, "month");
    f.sub("a4", "a4", 12).add("s3", "s3", 1);
    f.label("month").addr("a3", "month_names").load(4, "a2", { base: "a3", index: "a4", scale: 4 });
    f.store(4, "a2", { base: "s0", offset: 8 }).store(1, 32, { base: "s0", offset: 11 });
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
    f.store(1, 32, { base: "s0", offset: 16 });
    f.udiv("a0", "s2", 3600).add("a1", "s0", 17).call("put2");
    f.store(1, 58, { base: "s0", offset: 19 });
    f.urem("a0", "s2", 3600).udiv("a0", "a0", 60).add("a1", "s0", 20).call("put2");
    f.store(1, 58, { base: "s0", offset: 22 });
    f.urem("a0", "s2", 60).add("a1", "s0", 23).call("put2");
    f.store(4, 0x544d4720, { base: "s0", offset: 25 }); // " GMT"
    f.ret();
  });
}

/** Reads two ASCII digits at [base + offset] into dst, branching to `bad` if either is not a digit. */
function twoDigits(f: FuncBuilder, dst: "a2" | "a3", base: "s0", offset: number, bad: string): void {
  f.load(1, dst, { base, offset }).sub(dst, dst, 48).br("gtu", dst, 9, bad);
  f.load(1, "a4", { base, offset: offset + 1 })
    .sub("a4", "a4", 48)
    .br("gtu", "a4", 9, bad);
  f.mul(dst, dst, 10).add(dst, dst, "a4");
}

/** Emits `parse_date(ptr, len)`: seconds since the epoch, or NOT_A_DATE. */
export function emitParseDate(p: ProgramBuilder): void {
  if (p.has("parse_date")) return;
  if (!p.has("day_names")) {
    p.rodata("day_names", nameWords(DAY_NAMES), 4);
    p.rodata("month_names", nameWords(MONTH_NAMES), 4);
  }
  p.func("parse_date", { saves: ["s0", "s1", "s2"] }, (f) => {
    const bad = "bad";
    f.br("ne", "a1", DATE_LENGTH, bad).mov("s0", "a0");
    // fixed punctuation: ", " at 3, " " at 7, 11, 16, ":" at 19, 22, " GMT" at 25
    f.load(2, "a2", { base: "s0", offset: 3 }).br("ne", "a2", 0x202c, bad);
    for (const at of [7, 11, 16]) f.load(1, "a2", { base: "s0", offset: at }).br("ne", "a2", 32, bad);
    for (const at of [19, 22]) f.load(1, "a2", { base: "s0", offset: at }).br("ne", "a2", 58, bad);
    f.load(4, "a2", { base: "s0", offset: 25 }).br("ne", "a2", 0x544d4720, bad);
    // day name: one of the seven
    f.load(4, "a2", "s0").and("a2", "a2", 0xffffff).addr("a3", "day_names").mov("a4", 0);
    f.label("dayname").load(4, "a5", { base: "a3", index: "a4", scale: 4 }).br("eq", "a5", "a2", "dayok");
    f.add("a4", "a4", 1).br("ltu", "a4", 7, "dayname").jmp(bad);
    f.label("dayok");
    // month: index 0..11 → s1 = month 1..12
    f.load(4, "a2", { base: "s0", offset: 8 })
      .and("a2", "a2", 0xffffff)
      .addr("a3", "month_names")
      .mov("s1", 0);
    f.label("monthname")
      .load(4, "a5", { base: "a3", index: "s1", scale: 4 })
      .add("s1", "s1", 1)
      .br("eq", "a5", "a2", "monthok");
    f.br("ltu", "s1", 12, "monthname").jmp(bad);
    f.label("monthok");
    // year: four digits → s2
    twoDigits(f, "a2", "s0", 12, bad);
    twoDigits(f, "a3", "s0", 14, bad);
    f.mul("s2", "a2", 100).add("s2", "s2", "a3");
    // days from civil: y -= m <= 2; era = y / 400 (y may be -1 for year 0000 Jan/Feb)
    f.br("gtu", "s1", 2, "march");
    f.sub("s2", "s2", 1);
    f.add("s1", "s1", 12);
    f.label("march").sub("s1", "s1", 3); // months since March, 0..11
    f.add("s2", "s2", 400); // keep the year positive: one extra era, removed below
    f.udiv("a2", "s2", 400).mul("a3", "a2", 400).sub("a3", "s2", "a3"); // a2 era, a3 yoe
    f.mul("a5", "s1", 153).add("a5", "a5", 2).udiv("a5", "a5", 5); // day of year of the month start
    f.mul("s1", "a3", 365)
      .shr("a4", "a3", 2)
      .add("s1", "s1", "a4")
      .udiv("a4", "a3", 100)
      .sub("s1", "s1", "a4");
    f.add("s1", "s1", "a5")
      .mul("a2", "a2", 146097)
      .add("s1", "s1", "a2")
      .sub("s1", "s1", 719468 + 146097);
    // day of month 01-31 → days; then time of day
    twoDigits(f, "a2", "s0", 5, bad);
    f.sub("a2", "a2", 1).br("gtu", "a2", 30, bad).add("s1", "s1", "a2").mul("s1", "s1", 86400);
    twoDigits(f, "a2", "s0", 17, bad);
    f.br("gtu", "a2", 23, bad).mul("a2", "a2", 3600).add("s1", "s1", "a2");
    twoDigits(f, "a2", "s0", 20, bad);
    f.br("gtu", "a2", 59, bad).mul("a2", "a2", 60).add("s1", "s1", "a2");
    twoDigits(f, "a2", "s0", 23, bad);
    f.br("gtu", "a2", 60, bad).add("a0", "s1", "a2").ret();
    f.label(bad).mov("a0", NOT_A_DATE).ret();
  });
}
