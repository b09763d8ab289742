import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { encodePath, locationFor } from "./url.ts";

test("encodePath() gives printable ASCII that decodes back to the path", () => {
  assert.equal(encodePath("/café/a b/100%"), "/caf%C3%A9/a%20b/100%25");
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), (text) => {
      const path = `/${text}`;
      const encoded = encodePath(path);
      assert.match(encoded, /^[A-Za-z0-9\-._~/%]+$/);
      assert.equal(decodeURIComponent(encoded), path);
    }),
  );
});

test("locationFor() keeps ASCII destinations, encodes the rest, and refuses the unsafe", () => {
  assert.equal(locationFor("/new?x=1#top", "r"), "/new?x=1#top");
  assert.equal(locationFor("https://example.com/a/:splat", "r"), "https://example.com/a/:splat");
  assert.equal(locationFor("https://bücher.example/ü", "r"), "https://xn--bcher-kva.example/%C3%BC");
  assert.throws(
    () => locationFor("javascript:alert(1)", "redirects[3] (/x)"),
    /^Error: redirects\[3\] \(\/x\): the destination/,
  );
  assert.throws(() => locationFor("/a\nb", "r"), /control character/);
});
