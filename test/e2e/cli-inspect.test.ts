// `speck inspect`: the server's bytes per IR function for each platform, and a pack's sizes and
// routes; wrong use is one line and exit code 2.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildServer } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const work = mkdtempSync(join(tmpdir(), "speck-inspect-"));
after(() => rmSync(work, { recursive: true, force: true }));

const speck = (...args: string[]) => spawnSync(process.execPath, [SPECK, ...args], { encoding: "utf8" });

test("inspect --server --json: every function of both servers, adding up to the code size", () => {
  const result = speck("inspect", "--server", "--json");
  assert.equal(result.status, 0, result.stderr);
  const reports = JSON.parse(result.stdout);
  assert.deepEqual(
    reports.map((r: { platform: string }) => r.platform),
    ["linux/amd64", "linux/arm64/v8"],
  );
  for (const [report, target] of [
    [reports[0], TARGETS.x64],
    [reports[1], TARGETS.a64],
  ] as const) {
    const built = buildServer(target);
    assert.equal(report.squeezed.total, built.elf.length);
    assert.equal(report.sizes.total, built.linked.elf.length);
    assert.equal(
      report.squeezed.headers + report.squeezed.decoder + report.squeezed.stream,
      report.squeezed.total,
    );
    const names = report.sizes.functions.map((f: { name: string }) => f.name);
    assert.ok(names.includes("_start") && names.includes("log_request"), names.join());
    const sum = report.sizes.functions.reduce((n: number, f: { size: number }) => n + f.size, 0);
    assert.ok(
      sum <= report.sizes.text && sum > report.sizes.text - 16 * names.length,
      `${sum} vs ${report.sizes.text}`,
    );
    const sizes = report.sizes.functions.map((f: { size: number }) => f.size);
    assert.deepEqual(
      sizes,
      [...sizes].sort((a, b) => b - a),
      "largest first",
    );
  }
});

test("inspect --server --features and --feature-costs: what each access feature adds to the server", () => {
  const one = speck("inspect", "--server", "--platform", "linux/amd64", "--features", "ip,auth", "--json");
  assert.equal(one.status, 0, one.stderr);
  const [report] = JSON.parse(one.stdout);
  assert.deepEqual(report.features, ["ip", "auth"]);
  assert.equal(report.squeezed.total, buildServer(TARGETS.x64, { features: ["ip", "auth"] }).elf.length);
  assert.ok(report.sizes.functions.some((f: { name: string }) => f.name === "basic_check"));
  const table = speck("inspect", "--server", "--feature-costs", "--platform", "linux/amd64");
  assert.equal(table.status, 0, table.stderr);
  const lines = table.stdout.trim().split("\n");
  assert.deepEqual(lines.slice(0, 2), ["| access features | linux/amd64 |", "|---|---:|"]);
  const plain = buildServer(TARGETS.x64).elf.length;
  assert.equal(lines[2], `| no access rules | ${plain} |`);
  assert.equal(lines.length, 10);
  for (const line of lines.slice(3)) {
    const [, total, extra] = /^\| .* \(`[a-zA-Z,]+`\) \| (\d+) \(\+(\d+)\) \|$/.exec(line) ?? [];
    assert.ok(Number(extra) > 0 && Number(total) - Number(extra) === plain, line);
  }
  const bad = speck("inspect", "--server", "--features", "ip,magic");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /"magic" is not an access feature/);
});

test("inspect FILE.pack: sizes and routes; wrong use is one line and exit 2", () => {
  const pack = join(work, "docs.pack");
  assert.equal(speck("pack", join(import.meta.dirname, "../../examples/docs"), "-o", pack).status, 0);
  const text = speck("inspect", pack);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /docs\.pack: \d+ bytes, \d+ routes\n/);
  assert.match(text.stdout, /\n {4}\/guide\/install\n/);
  const json = JSON.parse(speck("inspect", pack, "--json").stdout);
  assert.ok(json.paths.includes("/reference/cli"));
  for (const args of [[], ["--server", pack], [join(work, "missing.pack")], [SPECK]]) {
    const bad = speck("inspect", ...args);
    assert.equal(bad.status, 2, args.join(" "));
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.match(bad.stderr, /^speck: /);
  }
});
