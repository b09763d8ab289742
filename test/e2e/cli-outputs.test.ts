// The commands' outputs written inside the site folder (`speck build . -o site.tar` in dist/) are
// not part of the next build's site: building again gives the same bytes, and nothing serves them.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readPack } from "../../src/pack/read.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const work = mkdtempSync(join(tmpdir(), "speck-outputs-"));
after(() => rmSync(work, { recursive: true, force: true }));
const site = join(work, "site");
cpSync(join(import.meta.dirname, "../../examples/hello"), site, { recursive: true });

function speck(...args: string[]): void {
  const result = spawnSync(process.execPath, [SPECK, ...args], {
    cwd: site,
    encoding: "utf8",
    env: { ...process.env, SOURCE_DATE_EPOCH: "1767225600" },
  });
  assert.equal(result.status, 0, result.stderr);
}

test("speck build . -o site.tar inside the site, twice: the same image, without the first one in it", () => {
  speck("build", ".", "-o", "site.tar", "-t", "hello:1");
  const first = readFileSync(join(site, "site.tar"));
  speck("build", ".", "-o", "site.tar", "-t", "hello:1");
  assert.ok(readFileSync(join(site, "site.tar")).equals(first), "the second image differs from the first");
});

test("speck pack . -o out/ inside the site, twice: the same pack, which does not serve the folder", () => {
  speck("pack", ".", "-o", "out/");
  const first = readFileSync(join(site, "out/site.pack"));
  speck("pack", ".", "-o", "out/");
  assert.ok(readFileSync(join(site, "out/site.pack")).equals(first));
  const paths = readPack(first)
    .routes()
    .map((route) => route.path);
  assert.ok(paths.includes("/") && !paths.some((path) => path.startsWith("/out")), paths.join(" "));
});
