// IMF-fixdate (RFC 9110, section 5.6.7): the only date format speck writes or honours. Parsing is
// spelled out in integer arithmetic (docs/http-semantics.md, "Dates") so the native server computes
// the very same seconds for every input, including odd ones such as 31 Feb.

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Sun, 06 Nov 1994 08:49:37 GMT` for a time in seconds since the epoch. */
export function formatHttpDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${String(
    d.getUTCFullYear(),
  ).padStart(4, "0")} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

/** Days from 1970-01-01 to the first day of `month` (1-12) of `year` (proleptic Gregorian). */
export function daysToMonth(year: number, month: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5);
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/**
 * Seconds since the epoch of an IMF-fixdate, or null when the text is not one. The day name is
 * checked for spelling only; day 01-31, hour 00-23, minute 00-59 and second 00-60 are accepted in
 * any month and counted forward (31 Feb is 2 or 3 Mar), as the native server does.
 */
export function parseHttpDate(text: string): number | null {
  const m = /^([A-Z][a-z]{2}), (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/.exec(text);
  if (!m || !DAYS.includes(m[1]!)) return null;
  const month = MONTHS.indexOf(m[3]!) + 1;
  const [day, year, hour, minute, second] = [m[2], m[4], m[5], m[6], m[7]].map(Number) as number[];
  if (month === 0 || day! < 1 || day! > 31 || hour! > 23 || minute! > 59 || second! > 60) return null;
  return (daysToMonth(year!, month) + day! - 1) * 86400 + hour! * 3600 + minute! * 60 + second!;
}
