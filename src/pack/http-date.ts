// IMF-fixdate (RFC 9110, section 5.6.7): the only date format speck writes or honours.

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Sun, 06 Nov 1994 08:49:37 GMT` for a time in seconds since the epoch. */
export function formatHttpDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(
    d.getUTCHours(),
  )}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

/** Seconds since the epoch of an exact IMF-fixdate, or null for anything else. */
export function parseHttpDate(text: string): number | null {
  const m =
    /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat), (\d\d) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/.exec(
      text,
    );
  if (!m) return null;
  const [day, month, year, hour, minute, second] = [
    Number(m[2]),
    MONTHS.indexOf(m[3]!),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
    Number(m[7]),
  ];
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  return Date.UTC(year, month, day, hour, minute, second) / 1000;
}
