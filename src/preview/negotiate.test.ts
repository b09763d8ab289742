import assert from "node:assert/strict";
import { test } from "node:test";
import type { PackVariant } from "../pack/read.ts";
import { chooseVariant, evaluateRange, ifRangeHolds, noneMatchHits, notModifiedSince } from "./negotiate.ts";

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const variant = {} as PackVariant;
const ALL = [variant, variant, variant];
const NAMES = ["identity", "gzip", "br"];

test("chooseVariant() weighs Accept-Encoding as section 5.1 says", () => {
  const cases: [string[], (PackVariant | undefined)[], string][] = [
    [[], ALL, "identity"],
    [[""], ALL, "identity"],
    [["gzip, deflate, br"], ALL, "br"],
    [["gzip"], ALL, "gzip"],
    [["GZIP"], ALL, "gzip"],
    [["br;q=0.5, gzip;q=0.8"], ALL, "gzip"],
    [["br;q=0.8, gzip;q=0.8"], ALL, "br"],
    [["br;q=0, *"], ALL, "gzip"],
    [["*"], ALL, "br"],
    [["*;q=0"], ALL, "identity"],
    [["identity;q=0"], ALL, "identity"],
    [["gzip;q=0.1, identity;q=0.9"], ALL, "identity"],
    [["gzip;q=0.001"], ALL, "gzip"],
    [["br;q=2, gzip"], ALL, "gzip"],
    [["br;q=1.001, gzip"], ALL, "gzip"],
    [["br;q=1.000"], ALL, "br"],
    [["br;q=0.", "gzip;q=0.5"], ALL, "gzip"],
    [["br;q=0.5555, gzip;q=0.1"], ALL, "gzip"],
    [["br ; q=0.9 ; level=1, gzip;q=0.5"], ALL, "br"],
    [["br;Q=0"], ALL, "identity"],
    [["br;q = 1, gzip;q=0.1"], ALL, "gzip"],
    [["br foo, gzip;q=0.1"], ALL, "gzip"],
    [["br;q=0.1", "br;q=0.9, gzip;q=0.5"], ALL, "br"],
    [["gzip", "br"], ALL, "br"],
    [["br"], [variant, variant, undefined], "identity"],
    [["br, gzip"], [variant, variant, undefined], "gzip"],
    [["zstd, deflate"], ALL, "identity"],
    [[",,, ,br,"], ALL, "br"],
    [["br;q=0, gzip;q=0, identity;q=0"], ALL, "identity"],
  ];
  for (const [values, variants, expected] of cases)
    assert.equal(NAMES[chooseVariant(values.map(bytes), variants)], expected, JSON.stringify(values));
});

test("noneMatchHits() reads lists, weak tags and * (section 5.2)", () => {
  const etag = bytes('"abc"');
  const cases: [string[], boolean][] = [
    [['"abc"'], true],
    [['W/"abc"'], true],
    [['"x", "abc"'], true],
    [['"x",W/"abc"'], true],
    [['"x"', '"abc"'], true],
    [["*"], true],
    [['"x", *'], true],
    [['"ABC"'], false],
    [["abc"], false],
    [['w/"abc"'], false],
    [['"x" junk, "abc"'], false],
    [['"abc'], false],
    [[""], false],
  ];
  for (const [values, expected] of cases)
    assert.equal(noneMatchHits(values.map(bytes), etag), expected, JSON.stringify(values));
  assert.equal(noneMatchHits([bytes('""')], new Uint8Array()), false);
  assert.equal(noneMatchHits([bytes("*")], new Uint8Array()), true);
});

test("If-Modified-Since matches only the exact Last-Modified text", () => {
  const lm = bytes("Sun, 06 Nov 1994 08:49:37 GMT");
  assert.equal(notModifiedSince(bytes("Sun, 06 Nov 1994 08:49:37 GMT"), lm), true);
  assert.equal(notModifiedSince(bytes("Sun, 06 Nov 1994 08:49:38 GMT"), lm), false);
  assert.equal(notModifiedSince(bytes("Sun, 06 Nov 1994 08:49:36 GMT"), lm), false);
  assert.equal(notModifiedSince(bytes("Sun, 06 Nov 1994 08:49:37 GM"), lm), false);
  assert.equal(notModifiedSince(bytes("Sunday, 06-Nov-94 08:49:37 GMT"), lm), false);
  assert.equal(notModifiedSince(bytes("Sun, 06 Nov 1994 08:49:37 GMT"), new Uint8Array()), false);
  assert.equal(notModifiedSince(new Uint8Array(), new Uint8Array()), false);
});

test("ifRangeHolds() compares ETags strongly and dates exactly", () => {
  const etag = bytes('"abc"');
  const date = bytes("Sun, 06 Nov 1994 08:49:37 GMT");
  assert.equal(ifRangeHolds(bytes('"abc"'), etag, date), true);
  assert.equal(ifRangeHolds(bytes('W/"abc"'), etag, date), false);
  assert.equal(ifRangeHolds(bytes('"abd"'), etag, date), false);
  assert.equal(ifRangeHolds(bytes("Sun, 06 Nov 1994 08:49:37 GMT"), etag, date), true);
  assert.equal(ifRangeHolds(bytes("Sun, 06 Nov 1994 08:49:38 GMT"), etag, date), false);
  assert.equal(ifRangeHolds(bytes("Sun, 06 Nov 1994 08:49:37 GMT"), etag, new Uint8Array()), false);
  assert.equal(ifRangeHolds(bytes('"abc"'), new Uint8Array(), date), false);
});

test("evaluateRange() covers section 5.3 for a 100-byte body", () => {
  const cases: [string, string][] = [
    ["bytes=0-9", "0-9"],
    ["BYTES=0-9", "0-9"],
    ["bytes= 0-9 ", "0-9"],
    ["bytes=90-", "90-99"],
    ["bytes=90-1000", "90-99"],
    ["bytes=-10", "90-99"],
    ["bytes=-1000", "0-99"],
    ["bytes=99-99", "99-99"],
    ["bytes=100-", "416"],
    ["bytes=100-200", "416"],
    ["bytes=-0", "416"],
    ["bytes=9-1", "none"],
    ["bytes=0-1,5-6", "none"],
    ["bytes=0-1,", "none"],
    ["bytes=", "none"],
    ["bytes=-", "none"],
    ["bytes=5", "none"],
    ["bytes=a-b", "none"],
    ["bytes=0 - 9", "none"],
    ["bytes=1234567890123456-", "none"],
    ["bytes=123456789012345-", "416"],
    ["items=0-1", "none"],
    ["bytes 0-1", "none"],
  ];
  const show = (r: ReturnType<typeof evaluateRange>) =>
    r.kind === "range" ? `${r.start}-${r.end}` : r.kind === "unsatisfiable" ? "416" : "none";
  for (const [value, expected] of cases)
    assert.equal(show(evaluateRange(bytes(value), 100)), expected, value);
  assert.equal(show(evaluateRange(bytes("bytes=-5"), 0)), "416");
  assert.equal(show(evaluateRange(bytes("bytes=0-"), 0)), "416");
});
