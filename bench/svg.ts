// Writes the benchmark charts as small deterministic SVG: horizontal bars grouped by a category
// (file size, connection count, image), one bar per series (server) in each group, on a linear or a
// logarithmic axis. Same input, same bytes, so the committed charts only change when the numbers do.

/**
 * A grouped bar chart: `values[g][s]` is series `s` in group `g`; null draws "not measured". A group
 * named "" gets no heading.
 */
export interface BarChart {
  title: string;
  /** Axis unit, e.g. "requests per second". */
  unit: string;
  groups: readonly string[];
  series: readonly string[];
  values: readonly (readonly (number | null)[])[];
  /**
   * "log" for values spanning decades (image sizes); "per-group" scales each group's bars to its own
   * largest value (for groups of different magnitudes, e.g. requests/s of 90 B and of 5 MB files),
   * without an axis. Default "linear".
   */
  scale?: "linear" | "log" | "per-group";
  /** Label for a value; default compact (12.3k, 4.5M). */
  format?: (value: number) => string;
  /** Series whose names start with this are drawn in the accent colour. */
  highlight?: string;
}

const WIDTH = 760;
/** Room right of the longest bar for its value label. */
const VALUE_ROOM = 70;
const ROW = 16;
const BAR = 12;
const GROUP_GAP = 10;
const TOP = 44;
const ACCENT = "#d9480f";
const PALETTE = ["#1c7ed6", "#37b24d", "#f59f00", "#7048e8", "#0ca678", "#868e96", "#e64980", "#495057"];

/** Compact label: 950, 12.3k, 4.56M, 1.2G. */
export function compact(value: number): string {
  const units: [number, string][] = [
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  for (const [size, suffix] of units) {
    if (Math.abs(value) >= size) return `${trim(value / size)}${suffix}`;
  }
  return trim(value);
}

function trim(value: number): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return String(Number(value.toFixed(digits)));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

const coordinate = (x: number) => String(Math.round(x * 10) / 10);

/** Ticks of a linear axis: 1, 2 or 5 times a power of ten, from 0 to at least `max`. */
function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  const ticks: number[] = [];
  for (let t = 0; t < max + step; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Ticks of a log axis: every power of ten from below the smallest value (strictly, so it shows) to above the largest. */
function logTicks(min: number, max: number): number[] {
  const low = Math.ceil(Math.log10(min)) - 1;
  const high = Math.max(low + 1, Math.ceil(Math.log10(max)));
  const ticks: number[] = [];
  for (let e = low; e <= high; e++) ticks.push(10 ** e);
  return ticks;
}

/** Renders `chart` as an SVG document. */
export function barChart(chart: BarChart): string {
  const format = chart.format ?? compact;
  const present = chart.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const log = chart.scale === "log";
  const perGroup = chart.scale === "per-group";
  const positive = present.filter((v) => v > 0);
  const ticks = log
    ? logTicks(positive.length ? Math.min(...positive) : 1, Math.max(...positive, 10))
    : linearTicks(Math.max(0, ...present));
  const low = ticks[0]!;
  const high = ticks.at(-1)!;
  // labels are right-aligned against the bars; about 6.5 px per character at 11 px
  const labelWidth = Math.max(60, ...chart.series.map((name) => Math.ceil(name.length * 6.5)));
  const plotLeft = labelWidth + 10;
  const plotWidth = WIDTH - plotLeft - VALUE_ROOM;
  const length = (value: number, groupMax: number): number => {
    if (perGroup) return groupMax > 0 ? (value / groupMax) * plotWidth : 0;
    if (log) {
      if (value <= low) return 0;
      return ((Math.log10(value) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * plotWidth;
    }
    return (value / high) * plotWidth;
  };

  const body: string[] = [];
  let y = TOP;
  chart.groups.forEach((group, g) => {
    const row = chart.values[g] ?? [];
    const groupMax = Math.max(0, ...row.filter((v): v is number => v !== null && Number.isFinite(v)));
    if (group) {
      body.push(`<text x="4" y="${y + 11}" class="group">${escapeXml(group)}</text>`);
      y += ROW;
    }
    chart.series.forEach((name, s) => {
      const value = row[s] ?? null;
      const colour =
        chart.highlight && name.startsWith(chart.highlight) ? ACCENT : PALETTE[s % PALETTE.length]!;
      body.push(`<text x="${labelWidth}" y="${y + 10}" text-anchor="end">${escapeXml(name)}</text>`);
      if (value === null || !Number.isFinite(value)) {
        body.push(`<text x="${plotLeft + 4}" y="${y + 10}" class="none">not measured</text>`);
      } else {
        const width = length(value, groupMax);
        body.push(
          `<rect x="${plotLeft}" y="${y}" width="${coordinate(width)}" height="${BAR}" fill="${colour}" data-value="${value}"/>`,
          `<text x="${coordinate(plotLeft + width + 4)}" y="${y + 10}">${escapeXml(format(value))}</text>`,
        );
      }
      y += ROW;
    });
    y += GROUP_GAP;
  });
  const bottom = y;
  const axis = perGroup
    ? []
    : ticks.map((tick) => {
        const x = coordinate(plotLeft + length(tick, 0));
        return `<line x1="${x}" y1="${TOP - 4}" x2="${x}" y2="${bottom}" class="grid"/><text x="${x}" y="${bottom + 14}" text-anchor="middle">${escapeXml(format(tick))}</text>`;
      });
  const note = log ? " (log scale)" : perGroup ? " (bars scaled to the largest in each group)" : "";
  const height = bottom + 40;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">
<style>.title{font-size:14px;font-weight:bold}.group{font-weight:bold}.grid{stroke:#dee2e6}.none{fill:#868e96;font-style:italic}</style>
<rect width="${WIDTH}" height="${height}" fill="#fff"/>
<text x="4" y="18" class="title">${escapeXml(chart.title)}</text>
${axis.join("\n")}
${body.join("\n")}
<text x="${plotLeft + plotWidth / 2}" y="${bottom + 30}" text-anchor="middle">${escapeXml(chart.unit)}${note}</text>
</svg>
`;
}
