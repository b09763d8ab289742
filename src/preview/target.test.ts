import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { normaliseTarget } from "./target.ts";

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString("latin1"));

test("normaliseTarget() follows docs/http-semantics.md section 4.1", () => {
  const cases: [string, string | null, string?][] = [
    ["/", "/"],
    ["/a/b", "/a/b"],
    ["//a//b//", "/a/b/"],
    ["/a/./b", "/a/b"],
    ["/a/../b", "/b"],
    ["/a/..", "/"],
    ["/a/b/..", "/a/"],
    ["/docs/.", "/docs/"],
    ["/..", null],
    ["/a/../..", null],
    ["/%2e%2E/x", null],
    ["/%2e", "/"],
    ["/a/%2e%2e/b", "/b"],
    ["/a%2Fb", null],
    ["/a%2fb", null],
    ["/%00", null],
    ["/%zz", null],
    ["/%4", null],
    ["/%4?1", null],
    ["/%41?x", "/A", "x"],
    ["/a?", "/a", ""],
    ["/a?b?c", "/a", "b?c"],
    ["/a#b", "/a#b"],
    ["http://h/x?y", "/x", "y"],
    ["HTTPS://h", "/"],
    ["http://h?q", "/", "q"],
    ["http://h//a/../b", "/b"],
    ["*", null],
    ["example.com:443", null],
    ["a/b", null],
    ["/caf%C3%A9", "/caf\xc3\xa9"],
    ["/a%5Cb", "/a\\b"],
    ["/%3F", "/?"],
    ["/.a", "/.a"],
    ["/...", "/..."],
    ["/a/b/../../..", null],
  ];
  for (const [raw, path, query] of cases) {
    const got = normaliseTarget(bytes(raw));
    if (path === null) {
      assert.equal(got, null, raw);
      continue;
    }
    assert.ok(got, raw);
    assert.equal(text(got.path), path, raw);
    assert.equal(text(got.query), query, raw);
  }
});

/** Percent-encodes what a request-target cannot carry raw, plus "%" itself. */
function toTarget(path: Uint8Array): Uint8Array {
  let out = "";
  for (const b of path)
    out +=
      b > 0x20 && b < 0x7f && b !== 0x25 && b !== 0x3f
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, "0")}`;
  return bytes(out);
}

const targetByte = fc.constantFrom(..."/./../a%2e%41%2F%00%zz?b-_~é".split(""));

test("normalisation is idempotent and its result is normalised", () => {
  fc.assert(
    fc.property(fc.array(targetByte, { maxLength: 30 }), (parts) => {
      const raw = bytes(`/${parts.join("")}`);
      const first = normaliseTarget(raw);
      if (!first) return;
      const again = normaliseTarget(toTarget(first.path));
      assert.ok(again, text(first.path));
      assert.deepEqual(again.path, first.path);
      const path = text(first.path)!;
      assert.ok(path.startsWith("/") && !path.includes("//"), path);
      assert.ok(!path.split("/").some((s) => s === "." || s === ".."), path);
    }),
    { numRuns: 2000 },
  );
});

test("normaliseTarget() never throws on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
      normaliseTarget(raw);
    }),
    { numRuns: 2000 },
  );
});
