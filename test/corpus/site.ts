// A small site built in code as a PackInput, covering every kind of route the corpus exercises.

import { ERROR_STATUSES, type PackInput, type Resource } from "../../src/pack/model.ts";

const text = new TextEncoder();

function page(body: string, type: string, etag: string, extra: Partial<Resource> = {}): Resource {
  return {
    kind: "resource",
    headers: [
      ["Content-Type", type],
      ["Cache-Control", "no-cache"],
      ["X-Content-Type-Options", "nosniff"],
    ],
    lastModified: 1_700_000_000,
    variants: [{ encoding: "identity", body: text.encode(body), etag: `"${etag}"` }],
    ...extra,
  };
}

const LONG = "speck ".repeat(400);

export const CORPUS_SITE: PackInput = {
  routes: [
    { path: "/", response: page("<!doctype html><h1>home</h1>\n", "text/html; charset=utf-8", "home") },
    {
      path: "/about",
      response: page("<!doctype html><h1>about</h1>\n", "text/html; charset=utf-8", "about"),
    },
    { path: "/about.html", response: { kind: "redirect", status: 308, location: "/about", headers: [] } },
    { path: "/docs/", response: page("<!doctype html><h1>docs</h1>\n", "text/html; charset=utf-8", "docs") },
    { path: "/docs", response: { kind: "redirect", status: 308, location: "/docs/", headers: [] } },
    { path: "/empty.txt", response: page("", "text/plain; charset=utf-8", "empty") },
    { path: "/café.txt", response: page("accents\n", "text/plain; charset=utf-8", "cafe") },
    {
      path: "/long.txt",
      response: {
        kind: "resource",
        headers: [["Content-Type", "text/plain; charset=utf-8"]],
        lastModified: 1_700_000_000,
        variants: [
          { encoding: "identity", body: text.encode(LONG), etag: '"long"' },
          { encoding: "gzip", body: text.encode("GZIP-BODY"), etag: '"long-gz"' },
          { encoding: "br", body: text.encode("BR-BODY"), etag: '"long-br"' },
        ],
      },
    },
    {
      path: "/gz-only.js",
      response: {
        kind: "resource",
        headers: [["Content-Type", "text/javascript; charset=utf-8"]],
        variants: [
          { encoding: "identity", body: text.encode("console.log('identity');\n".repeat(20)), etag: '"js"' },
          { encoding: "gzip", body: text.encode("GZ"), etag: '"js-gz"' },
        ],
      },
    },
    {
      path: "/br-only.css",
      response: {
        kind: "resource",
        headers: [["Content-Type", "text/css; charset=utf-8"]],
        variants: [
          { encoding: "identity", body: text.encode("p { color: black }\n".repeat(20)), etag: '"css"' },
          { encoding: "br", body: text.encode("BR-CSS"), etag: '"css-br"' },
        ],
      },
    },
    {
      path: "/search",
      response: { kind: "redirect", status: 302, location: "/find?src=old", headers: [] },
    },
    {
      path: "/old",
      response: { kind: "redirect", status: 301, location: "https://example.com/new", headers: [] },
    },
  ],
  prefixRedirects: [{ prefix: "/blog/", status: 302, target: "/news/", headers: [] }],
  spa: page("<!doctype html><div id=app></div>\n", "text/html; charset=utf-8", "spa"),
  errors: Object.fromEntries(
    ERROR_STATUSES.map((status) => [
      status,
      page(`<!doctype html><title>${status}</title><h1>${status}</h1>\n`, "text/html; charset=utf-8", "", {
        lastModified: undefined,
        variants: [
          {
            encoding: "identity",
            body: text.encode(`<!doctype html><title>${status}</title><h1>${status}</h1>\n`),
          },
        ],
        headers:
          status === 405
            ? [
                ["Content-Type", "text/html; charset=utf-8"],
                ["Allow", "GET, HEAD"],
              ]
            : [["Content-Type", "text/html; charset=utf-8"]],
      }),
    ]),
  ) as PackInput["errors"],
};
