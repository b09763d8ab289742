import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { validateConfig } from "../config/load.ts";
import type { SpeckConfigInput } from "../config/schema.ts";
import { applyRules, compileHeaderRules, defaultHeaders, RESERVED_HEADERS } from "./headers.ts";

const rules = (headers: SpeckConfigInput["headers"]) =>
  compileHeaderRules(validateConfig({ headers }, "test", "/").headers);

test("defaultHeaders(): type, immutable caching for fingerprinted names, no-cache otherwise, nosniff", () => {
  assert.deepEqual(defaultHeaders("index.html", "text/html; charset=utf-8"), [
    ["Content-Type", "text/html; charset=utf-8"],
    ["Cache-Control", "no-cache"],
    ["X-Content-Type-Options", "nosniff"],
  ]);
  assert.equal(
    new Map(defaultHeaders("assets/index-BdH3x9kA.js", "text/javascript")).get("Cache-Control"),
    "public, max-age=31536000, immutable",
  );
});

test("applyRules(): later rules replace earlier values case-insensitively, and add new headers", () => {
  const compiled = rules([
    { source: "/assets/**", headers: { "Cache-Control": "max-age=60", "X-One": "1" } },
    { source: "/**/*.css", headers: { "cache-control": "max-age=120" } },
    { source: "/other/**", headers: { "X-Never": "x" } },
  ]);
  const headers = applyRules(defaultHeaders("assets/a.css", "text/css"), compiled, ["/assets/a.css"]);
  assert.deepEqual(headers, [
    ["Content-Type", "text/css"],
    ["X-Content-Type-Options", "nosniff"],
    ["X-One", "1"],
    ["cache-control", "max-age=120"],
  ]);
});

test("applyRules(): a rule applies when any URL of the response matches", () => {
  const compiled = rules([{ source: "/about", headers: { "X-Page": "about" } }]);
  assert.deepEqual(applyRules([], compiled, ["/about.html", "/about"]), [["X-Page", "about"]]);
  assert.deepEqual(applyRules([], compiled, ["/about.html"]), []);
  const dotted = rules([{ source: "/**", headers: { "X-All": "1" } }]);
  assert.deepEqual(
    applyRules([], dotted, ["/.well-known/security.txt"]),
    [["X-All", "1"]],
    "globs match dot folders",
  );
});

test("compileHeaderRules() names the rule of a bad header", () => {
  assert.throws(
    () => rules([{ source: "/**", headers: { "X-Bad": "a\r\nSet-Cookie: x" } }]),
    /^Error: headers\[0\] \(\/\*\*\): the value of X-Bad contains a control character/,
  );
  assert.throws(
    () => rules([{ source: "/x", headers: { "Bad Name": "x" } }]),
    /headers\[0\] \(\/x\): header name "Bad Name" is not a valid token/,
  );
  assert.throws(() => rules([{ source: "/x", headers: { "X-Ok": "\0" } }]), /control character/);
  assert.doesNotThrow(() => rules([{ source: "/x", headers: { "X-Tab": "a\tb" } }]), "HTAB is allowed");
  for (const name of RESERVED_HEADERS)
    for (const spelling of [name, name.toLowerCase(), name.toUpperCase()])
      assert.throws(
        () =>
          rules([
            { source: "/a", headers: { "X-Ok": "1" } },
            { source: "/b", headers: { [spelling]: "1" } },
          ]),
        new RegExp(
          `^Error: headers\\[1\\] \\(/b\\): ${spelling} is set by speck itself and cannot be configured$`,
        ),
      );
});

test("compileHeaderRules() refuses every value with a control character other than tab", () => {
  fc.assert(
    fc.property(
      fc.string(),
      fc.integer({ min: 0, max: 0x1f }).filter((c) => c !== 9),
      fc.string(),
      (before, code, after) => {
        assert.throws(
          () => rules([{ source: "/", headers: { "X-A": before + String.fromCharCode(code) + after } }]),
          /control character/,
        );
      },
    ),
  );
});

test("applyRules(): for random rule lists, each header takes the value of the last matching rule that sets it", () => {
  const name = fc.constantFrom("X-A", "x-a", "X-B", "Cache-Control", "cache-control");
  const rule = fc.record({
    source: fc.constantFrom("/**", "/a/**", "/b/**", "/**/*.css", "/a/x.css"),
    headers: fc.dictionary(name, fc.stringMatching(/^[a-z0-9=, ]{0,8}$/), { maxKeys: 3 }),
  });
  fc.assert(
    fc.property(
      fc.array(rule, { maxLength: 6 }),
      fc.constantFrom("/a/x.css", "/b/y.js", "/c.html"),
      (list, path) => {
        const headers = applyRules(defaultHeaders(path.slice(1), "text/css"), rules(list), [path]);
        const lower = headers.map(([n]) => n.toLowerCase());
        assert.equal(new Set(lower).size, lower.length, "each header once");
        for (const header of ["x-a", "x-b", "cache-control"]) {
          let expected = header === "cache-control" ? "no-cache" : undefined;
          for (const r of list)
            if (compileHeaderRules([r])[0]!.matches(path))
              for (const [n, v] of Object.entries(r.headers))
                if (n.toLowerCase() === header) expected = v.trim();
          assert.equal(headers.find(([n]) => n.toLowerCase() === header)?.[1], expected, header);
        }
      },
    ),
  );
});
