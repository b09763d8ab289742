import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { validateConfig } from "../config/load.ts";
import type { SpeckConfigInput } from "../config/schema.ts";
import { isNormalisedPath } from "../pack/write.ts";
import { SiteError } from "./errors.ts";
import { type PlannedRoute, planRoutes, type RoutePlan } from "./routes.ts";

function plan(files: string[], options: SpeckConfigInput = {}): RoutePlan {
  return planRoutes([...files].sort(), validateConfig(options, "test", "/site"));
}

/** path → "file:NAME" or "308 LOCATION", for compact expectations. */
function table(p: RoutePlan, files: string[]): Record<string, string> {
  const sorted = [...files].sort();
  return Object.fromEntries(
    p.routes.map(([path, r]) => [
      path,
      r.kind === "file" ? `file:${sorted[r.file]}` : `${r.status} ${r.location}`,
    ]),
  );
}

test("planRoutes() with trailingSlash auto: folders get a slash, files are served where they are", () => {
  const files = ["index.html", "docs/index.html", "docs/a.html", "style.css"];
  assert.deepEqual(table(plan(files), files), {
    "/": "file:index.html",
    "/docs": "308 /docs/",
    "/docs/": "file:docs/index.html",
    "/docs/a.html": "file:docs/a.html",
    "/docs/index.html": "file:docs/index.html",
    "/index.html": "file:index.html",
    "/style.css": "file:style.css",
  });
});

test("planRoutes() with trailingSlash never: folders lose the slash", () => {
  const files = ["index.html", "docs/index.html"];
  assert.deepEqual(table(plan(files, { trailingSlash: "never" }), files), {
    "/": "file:index.html",
    "/docs": "file:docs/index.html",
    "/docs/": "308 /docs",
    "/docs/index.html": "file:docs/index.html",
    "/index.html": "file:index.html",
  });
});

test("planRoutes() with cleanUrls in every trailingSlash mode", () => {
  const files = ["index.html", "about.html", "docs/index.html", "logo.png"];
  assert.deepEqual(table(plan(files, { cleanUrls: true }), files), {
    "/": "file:index.html",
    "/about": "file:about.html",
    "/about.html": "308 /about",
    "/about/": "308 /about",
    "/docs": "308 /docs/",
    "/docs/": "file:docs/index.html",
    "/docs/index.html": "308 /docs/",
    "/index.html": "308 /",
    "/logo.png": "file:logo.png",
  });
  assert.deepEqual(table(plan(files, { cleanUrls: true, trailingSlash: "always" }), files), {
    "/": "file:index.html",
    "/about": "308 /about/",
    "/about.html": "308 /about/",
    "/about/": "file:about.html",
    "/docs": "308 /docs/",
    "/docs/": "file:docs/index.html",
    "/docs/index.html": "308 /docs/",
    "/index.html": "308 /",
    "/logo.png": "file:logo.png",
  });
  assert.deepEqual(table(plan(files, { cleanUrls: true, trailingSlash: "never" }), files), {
    "/": "file:index.html",
    "/about": "file:about.html",
    "/about.html": "308 /about",
    "/about/": "308 /about",
    "/docs": "file:docs/index.html",
    "/docs/": "308 /docs",
    "/docs/index.html": "308 /docs",
    "/index.html": "308 /",
    "/logo.png": "file:logo.png",
  });
});

test("planRoutes() picks the first index name present and serves the others as files", () => {
  const files = ["docs/default.htm", "docs/index.html"];
  const routes = table(plan(files, { index: ["default.htm", "index.html"] }), files);
  assert.equal(routes["/docs/"], "file:docs/default.htm");
  assert.equal(routes["/docs/index.html"], "file:docs/index.html");
});

test("planRoutes() percent-encodes generated Locations", () => {
  const files = ["café/index.html", "a b.html"];
  const routes = table(plan(files, { cleanUrls: true }), files);
  assert.equal(routes["/café"], "308 /caf%C3%A9/");
  assert.equal(routes["/a b.html"], "308 /a%20b");
  assert.equal(routes["/a b"], "file:a b.html");
});

test("planRoutes() reports conflicts with both origins", () => {
  assert.throws(
    () => plan(["a.html", "a/index.html"], { cleanUrls: true }),
    /\/a is claimed twice: by a\.html .* and by a\/index\.html|\/a\/? is claimed twice: by a/,
  );
  assert.throws(
    () => plan(["about", "about.html"], { cleanUrls: true }),
    /\/about is claimed twice: by about and by about\.html/,
  );
  assert.throws(
    () => plan(["old.html"], { redirects: [{ source: "/old.html", destination: "/new" }] }),
    /redirects\[0\] \(\/old\.html\) shadows old\.html; remove the file or the rule/,
  );
  assert.throws(
    () =>
      plan([], {
        redirects: [
          { source: "/x", destination: "/y" },
          { source: "/x", destination: "/z" },
        ],
      }),
    /\/x is claimed twice: by redirects\[0\] \(\/x\) and by redirects\[1\] \(\/x\)/,
  );
  assert.throws(
    () =>
      plan([], {
        redirects: [
          { source: "/x/*", destination: "/y/:splat" },
          { source: "/x/*", destination: "/z/:splat" },
        ],
      }),
    /\/x\/ is claimed twice/,
  );
});

test("planRoutes(): a user redirect replaces a generated one", () => {
  const files = ["docs/index.html"];
  const routes = table(
    plan(files, { redirects: [{ source: "/docs", destination: "/guide/", status: 301 }] }),
    files,
  );
  assert.equal(routes["/docs"], "301 /guide/");
});

test("planRoutes(): prefix rules keep their splat, sort longest first, cover their bare path, and warn about files", () => {
  const files = ["blog/index.html", "index.html"];
  const p = plan(files, {
    redirects: [
      { source: "/blog/*", destination: "/news/:splat" },
      { source: "/old/2020/*", destination: "https://example.com/archive/:splat", status: 302 },
      { source: "/old/*", destination: "/new/:splat", status: 301 },
    ],
  });
  assert.deepEqual(
    p.prefixRedirects.map((r) => [r.prefix, r.target, r.status]),
    [
      ["/old/2020/", "https://example.com/archive/", 302],
      ["/blog/", "/news/", 308],
      ["/old/", "/new/", 301],
    ],
  );
  const routes = table(p, files);
  assert.equal(routes["/blog"], "308 /blog/", "the folder's own redirect wins");
  assert.equal(routes["/old"], "301 /new/");
  assert.equal(routes["/old/2020"], "302 https://example.com/archive/");
  assert.equal(p.warnings.length, 1);
  assert.match(
    p.warnings[0]!,
    /redirects\[0\] \(\/blog\/\*\) does not apply to 2 path\(s\) the site serves, e.g. \/blog\//,
  );
});

test("planRoutes() refuses malformed redirect rules with the rule named", () => {
  const bad: [SpeckConfigInput["redirects"], RegExp][] = [
    [
      [{ source: "/x/*", destination: "/y" }],
      /redirects\[0\] \(\/x\/\*\): a prefix rule's destination must end with ":splat"/,
    ],
    [[{ source: "/x", destination: "/y/:splat" }], /":splat" needs a source ending in "\/\*"/],
    [[{ source: "/a/*/b", destination: "/y" }], /"\*" may only end the source/],
    [[{ source: "/a/../b", destination: "/y" }], /is not a normalised path/],
    [[{ source: "//a", destination: "/y" }], /is not a normalised path/],
    [[{ source: "/a%20b", destination: "/y" }], /write the source "\/a%20b" decoded/],
    [[{ source: "/a", destination: "y" }], /must be a path starting with "\/" or an http\(s\):\/\/ URL/],
    [[{ source: "/a", destination: "//evil.example" }], /must be a path starting with "\/"/],
    [[{ source: "/a", destination: "/b\r\nSet-Cookie: x=1" }], /contains a control character/],
    [[{ source: "/a", destination: "https://exa mple.com/" }], /is not a valid URL/],
  ];
  for (const [redirects, expected] of bad) assert.throws(() => plan([], { redirects }), expected);
  const encoded = table(plan([], { redirects: [{ source: "/é", destination: "/über uns" }] }), []);
  assert.equal(encoded["/é"], "308 /%C3%BCber%20uns");
});

// Random sites: a few names, folders, extensions; every option combination.
const segment = fc.constantFrom("a", "b", "index", "docs", "c d", "é");
const extension = fc.constantFrom(".html", ".css", ".png", "");
const filePath = fc
  .tuple(fc.array(segment, { maxLength: 2 }), segment, extension)
  .map(([dirs, name, ext]) => [...dirs, name + ext].join("/"));
const fileSet = fc.uniqueArray(filePath, { minLength: 1, maxLength: 8 }).filter((files) =>
  // a name cannot be both a file and a folder
  files.every((f) => !files.some((g) => g.startsWith(`${f}/`))),
);
const routingOptions = fc.record({
  cleanUrls: fc.boolean(),
  trailingSlash: fc.constantFrom("auto" as const, "always" as const, "never" as const),
});

test("random sites: every file is reachable in at most one redirect, and redirects land on files", () => {
  fc.assert(
    fc.property(fileSet, routingOptions, (files, options) => {
      let p: RoutePlan;
      try {
        p = plan(files, options);
      } catch (error) {
        assert.ok(error instanceof SiteError);
        assert.match(error.message, /^\/.* is claimed twice: by .+ and by .+$/);
        return;
      }
      const sorted = [...files].sort();
      const routes = new Map<string, PlannedRoute>(p.routes);
      for (const [path, route] of p.routes) {
        assert.ok(isNormalisedPath(path), path);
        if (route.kind === "redirect") {
          assert.match(route.location, /^[\x21-\x7e]+$/);
          const target = routes.get(decodeURIComponent(route.location));
          assert.equal(target?.kind, "file", `${path} → ${route.location} lands on a file`);
        }
      }
      sorted.forEach((file, i) => {
        const first = routes.get(`/${file}`);
        assert.ok(first, `/${file} has a route`);
        const final = first.kind === "redirect" ? routes.get(decodeURIComponent(first.location)) : first;
        assert.ok(final?.kind === "file", `/${file} reaches a file`);
        // a file's own path serves the file itself unless it is an index or a clean page
        if (first.kind === "file") assert.equal(first.file, i);
      });
      for (const [path, route] of p.routes) {
        if (route.kind !== "file" || path === "/" || path === `/${sorted[route.file]}`) continue;
        // canonical page URLs follow the trailingSlash mode
        if (options.trailingSlash === "never") assert.ok(!path.endsWith("/"), path);
        if (options.trailingSlash === "always") assert.ok(path.endsWith("/"), path);
        if (options.trailingSlash === "auto")
          assert.equal(path.endsWith("/"), sorted[route.file]!.endsWith("/index.html"), path);
      }
    }),
    { numRuns: 500 },
  );
});

test("planRoutes() warns about exact redirects to paths the site does not serve", () => {
  const files = ["guide/install.html", "index.html"];
  const redirects = [
    { source: "/start", destination: "/guide/install.html" },
    { source: "/typo", destination: "/guide/instal.html?x=1" },
    { source: "/far", destination: "https://example.com/" },
    { source: "/old/*", destination: "/guide/:splat" },
    { source: "/covered", destination: "/old/thing" },
    { source: "/page", destination: "/client/route" },
  ];
  const warnings = plan(files, { redirects }).warnings;
  assert.deepEqual(warnings, [
    "redirects[1] (/typo) leads to /guide/instal.html?x=1, which the site does not serve (/typo will end in a 404)",
    "redirects[5] (/page) leads to /client/route, which the site does not serve (/page will end in a 404)",
  ]);
  assert.deepEqual(
    plan(files, { redirects, spa: "index.html" }).warnings,
    [warnings[0]],
    "the SPA serves page paths",
  );
});
