import assert from "node:assert/strict";
import { test } from "node:test";
import { type BarChart, barChart, compact } from "./svg.ts";

const chart: BarChart = {
  title: "Requests <per> second & more",
  unit: "requests per second",
  groups: ["90 B", "10 KB"],
  series: ["speck", "nginx", "h2o"],
  values: [
    [90_000, 45_000, 30_000],
    [60_000, null, 15_000],
  ],
  highlight: "speck",
};

/** Checks that every tag closes in order and the text has no stray markup characters. */
function assertWellFormed(svg: string): void {
  const open: string[] = [];
  const tag = /<(\/?)([a-z]+)([^<>]*?)(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    assert.doesNotMatch(svg.slice(last, m.index), /[<>]|&(?!(lt|gt|amp|quot);)/, "stray markup in text");
    last = tag.lastIndex;
    const [, closing, name, attributes, selfClosing] = m;
    assert.doesNotMatch(attributes!, /[<>]/);
    if (selfClosing) continue;
    if (closing) assert.equal(open.pop(), name, `</${name}> closes the wrong element`);
    else open.push(name!);
  }
  assert.deepEqual(open, [], "unclosed elements");
}

const bars = (svg: string) =>
  [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"[^>]*data-value="([\d.e+]+)"/g)].map((m) => ({
    width: Number(m[1]),
    value: Number(m[2]),
  }));

test("barChart() writes a well-formed SVG document with escaped text", () => {
  const svg = barChart(chart);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
  assert.match(svg, /<\/svg>\n$/);
  assertWellFormed(svg);
  assert.match(svg, /Requests &lt;per&gt; second &amp; more/);
  assert.match(svg, /not measured/);
});

test("barChart() draws linear bars proportional to their values", () => {
  const drawn = bars(barChart(chart));
  assert.equal(drawn.length, 5);
  const perUnit = drawn[0]!.width / drawn[0]!.value;
  for (const bar of drawn) assert.ok(Math.abs(bar.width - bar.value * perUnit) < 0.2, JSON.stringify(bar));
  assert.ok(drawn[0]!.width > drawn[1]!.width);
});

test("barChart() on a log scale makes each decade the same length", () => {
  const svg = barChart({
    title: "Image size",
    unit: "bytes",
    groups: ["image"],
    series: ["a", "b", "c"],
    values: [[1_000, 10_000, 100_000]],
    scale: "log",
  });
  assertWellFormed(svg);
  const [a, b, c] = bars(svg).map((bar) => bar.width);
  assert.ok(Math.abs(c! - b! - (b! - a!)) < 0.2, `${a} ${b} ${c}`);
  assert.ok(a! > 0);
  assert.match(svg, /log scale/);
});

test("barChart() is deterministic and changes when a value changes", () => {
  assert.equal(barChart(chart), barChart(structuredClone(chart)));
  const other = { ...chart, values: [[90_001, 45_000, 30_000], chart.values[1]!] };
  assert.notEqual(barChart(other), barChart(chart));
});

test("compact() shortens large numbers", () => {
  assert.equal(compact(950), "950");
  assert.equal(compact(12_345), "12.3k");
  assert.equal(compact(4_560_000), "4.56M");
  assert.equal(compact(1.5), "1.5");
});

test("barChart() per group scales each group to its own largest value, without an axis", () => {
  const svg = barChart({
    ...chart,
    scale: "per-group",
    values: [
      [100, 50, 25],
      [2, 1, null],
    ],
  });
  assertWellFormed(svg);
  const drawn = bars(svg);
  assert.equal(drawn[0]!.width, drawn[3]!.width);
  assert.ok(Math.abs(drawn[1]!.width - drawn[4]!.width) < 0.2);
  assert.doesNotMatch(svg, /class="grid"/);
});
