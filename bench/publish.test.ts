import assert from "node:assert/strict";
import { test } from "node:test";
import type { LoadResult } from "./load.ts";
import { charts, IMAGE_SECTION, renderSections, SERVER_SECTION } from "./publish.ts";
import type { Results } from "./results.ts";

const load = (requestsPerSecond: number): LoadResult => ({
  requestsPerSecond,
  p50: 1,
  p99: 2,
  requests: requestsPerSecond,
  errors: 0,
});

/** Two rounds per server; speck answers `speck90` requests per second on the 90 B file. */
function results(speck90: number): Results {
  const rates: Record<string, [number, number, number]> = {
    speck: [speck90, 20_000, 2_000],
    nginx: [10_000, 19_000, 2_000],
    h2o: [9_000, 10_000, 1_000],
    lighttpd: [9_500, 18_000, 2_500],
  };
  const cells = ["ka64-90B", "ka64-10KB", "ka64-300KB"];
  const files = ["90 B", "10 KB", "300 KB"];
  return {
    mode: "full",
    started: "2026-11-22T16:00:00.000Z",
    machine: { cpus: 2, model: "Test CPU", kernel: "6.0", loadBefore: 1, loadAfter: 1 },
    pinning: { server: "1", client: "0" },
    rounds: 2,
    duration: 2,
    versions: { speck: "abc", nginx: "1.22", h2o: "2.2", lighttpd: "1.4" },
    cells: cells.map((id, i) => ({
      id,
      title: `${files[i]}, 64`,
      file: files[i]!,
      tool: "wrk",
      connections: 64,
    })),
    load: Object.fromEntries(
      cells.map((id, i) => [
        id,
        Object.fromEntries(Object.entries(rates).map(([s, r]) => [s, [load(r[i]!), load(r[i]! * 1.1)]])),
      ]),
    ),
    probes: {},
    cpu: {},
    startup: { speck: [5, 6] },
    memory: {
      speck: {
        rest: { rss: 150 * 1024, anon: 30 * 1024 },
        idle: [{ connections: 10_000, open: 10_000, resident: { rss: 150 * 1024 + 640_000, anon: 670_000 } }],
      },
    },
    failures: [],
  };
}

test("renderSections() states each headline goal as met or not from the medians", () => {
  const met = renderSections(results(15_000))[SERVER_SECTION]!;
  assert.match(
    met,
    /\| 90 B \| 15\.8k \| 10\.5k \| 9\.45k \| 9\.97k \| 1\.50x \| 1\.67x \| 1\.58x \| [^|]+ \| yes \|/,
  );
  assert.match(met, /\| 300 KB \|[^\n]*\| \*\*no\*\* \|/);
  const missed = renderSections(results(12_000))[SERVER_SECTION]!;
  assert.match(missed, /\| 90 B \|[^\n]*\| 1\.20x \|[^\n]*\| \*\*no\*\* \|/);
  assert.match(met, /64 B per connection/);
  assert.match(renderSections(results(15_000))[IMAGE_SECTION]!, /^Not measured in this run/);
});

test("charts() draws the request chart from the same medians and skips what was not measured", () => {
  const svgs = charts(results(15_000));
  assert.deepEqual(Object.keys(svgs).sort(), [
    "memory.svg",
    "requests-by-connections.svg",
    "requests-by-size.svg",
  ]);
  assert.match(svgs["requests-by-size.svg"]!, /data-value="15750"/);
});
