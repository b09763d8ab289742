import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { canonicalJson } from "./json.ts";

test("canonicalJson() sorts keys at every level and is compact", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 0, y: null }], c: "x" } }),
    '{"a":{"c":"x","d":[3,{"y":null,"z":0}]},"b":1}',
  );
});

test("canonicalJson() sorts keys by UTF-8 bytes, not UTF-16 code units", () => {
  // U+FF5E sorts before U+1F600 in UTF-8 but after it in UTF-16 (surrogates are 0xD83D...).
  assert.equal(canonicalJson({ "\u{1F600}": 1, "\uFF5E": 2 }), '{"\uFF5E":2,"\u{1F600}":1}');
});

test("canonicalJson() leaves out undefined members and rejects what JSON cannot hold", () => {
  assert.equal(canonicalJson({ a: undefined, b: [] }), '{"b":[]}');
  assert.throws(() => canonicalJson({ a: Number.NaN }), /cannot hold NaN/);
  assert.throws(() => canonicalJson({ a: new Date(0) }), /cannot hold object/);
  assert.throws(() => canonicalJson({ a: 1n }), /cannot hold bigint/);
});

test("canonicalJson() does not depend on insertion order and parses back to the same value", () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
      const reversed = Object.fromEntries(Object.entries(object).reverse());
      const text = canonicalJson(object);
      assert.equal(canonicalJson(reversed), text);
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(object)));
    }),
    { numRuns: 200 },
  );
});
