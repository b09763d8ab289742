import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { contentType, isCompressible, isFingerprinted } from "./content-type.ts";

test("contentType(): mime-db types, charset on text types, octet-stream otherwise", () => {
  const expected: Record<string, string> = {
    "a.html": "text/html; charset=utf-8",
    "a.css": "text/css; charset=utf-8",
    "a.js": "text/javascript; charset=utf-8",
    "a.mjs": "text/javascript; charset=utf-8",
    "a.json": "application/json; charset=utf-8",
    "a.webmanifest": "application/manifest+json; charset=utf-8",
    "a.xml": "application/xml; charset=utf-8",
    "feed.rss": "application/rss+xml; charset=utf-8",
    "a.svg": "image/svg+xml; charset=utf-8",
    "a.txt": "text/plain; charset=utf-8",
    "a.png": "image/png",
    "a.wasm": "application/wasm",
    "a.woff2": "font/woff2",
    "A.PNG": "image/png",
    README: "application/octet-stream",
    "a.unknownext": "application/octet-stream",
  };
  for (const [name, type] of Object.entries(expected)) assert.equal(contentType(`dir/${name}`), type, name);
});

test("contentType(): mimeTypes overrides by extension, case-insensitively, keeping a given charset", () => {
  const overrides = { md: "text/markdown", bin: "application/x-thing", txt: "text/plain; charset=latin1" };
  assert.equal(contentType("a.MD", overrides), "text/markdown; charset=utf-8");
  assert.equal(contentType("a.bin", overrides), "application/x-thing");
  assert.equal(contentType("a.txt", overrides), "text/plain; charset=latin1");
  assert.equal(contentType("a.html", overrides), "text/html; charset=utf-8");
});

test("isCompressible(): text, JSON, XML, SVG, wasm and raw fonts, not images, archives or woff2", () => {
  for (const name of [
    "a.html",
    "a.js",
    "a.json",
    "a.svg",
    "a.xml",
    "a.wasm",
    "a.ttf",
    "a.otf",
    "a.ico",
    "a.txt",
  ])
    assert.ok(isCompressible(contentType(name)), name);
  for (const name of [
    "a.png",
    "a.jpg",
    "a.webp",
    "a.woff2",
    "a.woff",
    "a.gz",
    "a.zip",
    "a.mp4",
    "a.unknownext",
  ])
    assert.ok(!isCompressible(contentType(name)), name);
});

test("isFingerprinted(): the names bundlers emit", () => {
  for (const name of [
    "assets/index-BdH3x9kA.js", // Vite
    "assets/index-B-dH3x9k.css", // Vite, base64url with a dash
    "assets/Home-BdHxykAq.js", // Vite, no digit
    "assets/index-BdH3x9kA.js.map",
    "static/js/main.3f2a9c1b.js", // CRA
    "static/js/787.a1b2c3d4.chunk.js",
    "app.4e5f6a7b8c9d0e1f2a3b.js", // webpack [contenthash]
    "chunk-5XBQ2KJN.js", // esbuild
    "_next/static/chunks/app.js", // Next
    "_astro/page.Cx1a2b3c.css", // Astro
    "_app/immutable/start.js", // SvelteKit
  ])
    assert.ok(isFingerprinted(name), name);
});

test("isFingerprinted(): names people write are not", () => {
  for (const name of [
    "index.html",
    "page-a1b2c3d4.html",
    "jquery-3.7.1.min.js",
    "my-component.js",
    "favicon-32x32.png",
    "android-chrome-512x512.png",
    "bootstrap.bundle.js",
    "report-20231015.pdf",
    "about-HomePage.js",
    "roboto-v30-latin-regular.woff2",
    "logo.svg",
  ])
    assert.ok(!isFingerprinted(name), name);
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z]{1,10}$/),
      fc.stringMatching(/^[a-z]{1,12}$/),
      fc.constantFrom("js", "css", "png"),
      (a, b, ext) => {
        assert.ok(!isFingerprinted(`${a}-${b}.${ext}`), "two lowercase words");
        assert.ok(!isFingerprinted(`${a}.${ext}`));
      },
    ),
  );
});

test("isFingerprinted(): any 8-character hash with a digit and a letter, after - or ., is recognised", () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z]{1,10}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{6}$/),
      fc.integer({ min: 0, max: 9 }),
      fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
      fc.nat(6),
      fc.constantFrom("-", "."),
      (name, rest, digit, letter, at, separator) => {
        const hash = rest.slice(0, at) + digit + letter + rest.slice(at);
        assert.ok(isFingerprinted(`assets/${name}${separator}${hash}.js`), hash);
      },
    ),
  );
});
