import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { validateConfig } from "../config/load.ts";
import type { SpeckConfigInput } from "../config/schema.ts";
import type { PackInput, Redirect, Resource } from "../pack/model.ts";
import { compileSite } from "./compile.ts";
import { contentType, isFingerprinted } from "./content-type.ts";
import { scanSite } from "./scan.ts";

const work = mkdtempSync(join(tmpdir(), "speck-site-"));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

function site(files: Record<string, string | Buffer>): string {
  const root = join(work, `site${counter++}`);
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  mkdirSync(root, { recursive: true });
  return root;
}

async function compile(
  root: string,
  config: SpeckConfigInput = {},
  cacheDir: string | null = null,
): Promise<PackInput> {
  return (await compileSite(validateConfig(config, "test", root), { cacheDir })).input;
}

function route(input: PackInput, path: string): Resource | Redirect | undefined {
  return input.routes.find((r) => r.path === path)?.response;
}

function location(input: PackInput, path: string): string | undefined {
  const r = route(input, path);
  return r?.kind === "redirect" ? r.location : undefined;
}

const HTML = "<!doctype html><p>page</p>";

test("directory indexes: trailingSlash auto and always add the slash, never drops it", async () => {
  const root = site({ "index.html": HTML, "docs/index.html": HTML, "docs/a.html": HTML });
  const auto = await compile(root);
  assert.equal(route(auto, "/")?.kind, "resource");
  assert.equal(route(auto, "/docs/")?.kind, "resource");
  assert.equal(location(auto, "/docs"), "/docs/");
  assert.equal(route(auto, "/docs/index.html")?.kind, "resource");
  assert.equal(route(auto, "/docs/a.html")?.kind, "resource");
  const never = await compile(root, { trailingSlash: "never" });
  assert.equal(route(never, "/docs")?.kind, "resource");
  assert.equal(location(never, "/docs/"), "/docs");
});

test("clean URLs serve /a from a.html and redirect /a.html and /a/ to it", async () => {
  const root = site({ "index.html": HTML, "about.html": HTML, "docs/index.html": HTML });
  const input = await compile(root, { cleanUrls: true });
  assert.equal(route(input, "/about")?.kind, "resource");
  assert.equal(location(input, "/about.html"), "/about");
  assert.equal(location(input, "/about/"), "/about");
  assert.equal(location(input, "/docs/index.html"), "/docs/");
  const always = await compile(root, { cleanUrls: true, trailingSlash: "always" });
  assert.equal(route(always, "/about/")?.kind, "resource");
  assert.equal(location(always, "/about"), "/about/");
});

test("conflicts name both sides", async () => {
  const root = site({ "a.html": HTML, "a/index.html": HTML });
  await assert.rejects(
    compile(root, { cleanUrls: true }),
    /\/a is claimed twice: by a\/index\.html .* and by a\.html/,
  );
  const shadow = site({ "old.html": HTML });
  await assert.rejects(
    compile(shadow, { redirects: [{ source: "/old.html", destination: "/new" }] }),
    /redirects\[0\] \(\/old\.html\) shadows old\.html/,
  );
});

test("redirects: exact rules become routes, prefix rules keep their splat", async () => {
  const root = site({ "index.html": HTML });
  const input = await compile(root, {
    redirects: [
      { source: "/old", destination: "https://example.com/new", status: 301 },
      { source: "/blog/*", destination: "/news/:splat" },
      { source: "/blog/2020/*", destination: "/archive/:splat", status: 302 },
    ],
  });
  const old = route(input, "/old") as Redirect;
  assert.deepEqual([old.status, old.location], [301, "https://example.com/new"]);
  assert.deepEqual(
    input.prefixRedirects.map((p) => [p.prefix, p.target, p.status]),
    [
      ["/blog/2020/", "/archive/", 302],
      ["/blog/", "/news/", 308],
    ],
  );
  await assert.rejects(
    compile(root, { redirects: [{ source: "/x/*", destination: "/y" }] }),
    /must end with ":splat"/,
  );
  await assert.rejects(
    compile(root, { redirects: [{ source: "/x", destination: "/y z" }] }),
    /printable ASCII/,
  );
});

test("SPA fallback and notFound page", async () => {
  const root = site({
    "index.html": "<p>app</p>",
    "404.html": "<p>missing</p>",
    "assets/app-1a2b3c4d.js": "x",
  });
  const input = await compile(root, { spa: "index.html" });
  assert.equal(new TextDecoder().decode(input.spa!.variants[0]!.body), "<p>app</p>");
  assert.equal(new TextDecoder().decode(input.errors[404].variants[0]!.body), "<p>missing</p>");
  await assert.rejects(compile(root, { spa: "app.html" }), /spa: app\.html is not a file of the site folder/);
  const generated = await compile(site({ "index.html": HTML }));
  assert.match(new TextDecoder().decode(generated.errors[404].variants[0]!.body), /404 Not Found/);
  assert.ok(generated.errors[405].headers.some(([n, v]) => n === "Allow" && v === "GET, HEAD"));
});

test("default headers: types with charset, nosniff, immutable for fingerprinted names, no-cache otherwise", async () => {
  const root = site({
    "index.html": HTML,
    "assets/index-BdH3x9kA.js": "js",
    "data.json": "{}",
    "blob.unknownext": "x",
  });
  const input = await compile(root);
  const headers = (path: string) => Object.fromEntries((route(input, path) as Resource).headers);
  assert.deepEqual(headers("/index.html"), {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
  });
  assert.equal(headers("/assets/index-BdH3x9kA.js")["Cache-Control"], "public, max-age=31536000, immutable");
  assert.equal(headers("/data.json")["Content-Type"], "application/json; charset=utf-8");
  assert.equal(headers("/blob.unknownext")["Content-Type"], "application/octet-stream");
});

test("header rules add and override in order; bad names and values are refused", async () => {
  const root = site({ "assets/a.css": "a{}", "index.html": HTML });
  const input = await compile(root, {
    headers: [
      { source: "/assets/**", headers: { "Cache-Control": "max-age=60", "X-One": "1" } },
      { source: "/**/*.css", headers: { "cache-control": "max-age=120" } },
    ],
  });
  const headers = (route(input, "/assets/a.css") as Resource).headers;
  assert.deepEqual(
    headers.filter(([n]) => n.toLowerCase() === "cache-control"),
    [["cache-control", "max-age=120"]],
  );
  assert.ok(headers.some(([n]) => n === "X-One"));
  await assert.rejects(
    compile(root, { headers: [{ source: "/**", headers: { "X-Bad": "a\r\nSet-Cookie: x" } }] }),
    /contains CR, LF or NUL/,
  );
  await assert.rejects(
    compile(root, { headers: [{ source: "/**", headers: { "Bad Name": "x" } }] }),
    /not a valid token/,
  );
  await assert.rejects(
    compile(root, { headers: [{ source: "/**", headers: { "Content-Length": "1" } }] }),
    /set by speck itself/,
  );
});

test("compressed variants are kept only where they save enough, with one ETag per representation", async () => {
  const root = site({
    "big.txt": "speck ".repeat(1000),
    "small.txt": "tiny",
    "random.bin": randomBytes(4096),
    "photo.jpg": Buffer.from("x".repeat(5000)),
  });
  const input = await compile(root);
  const big = route(input, "/big.txt") as Resource;
  assert.deepEqual(
    big.variants.map((v) => v.encoding),
    ["identity", "gzip", "br"],
  );
  const [id, gz, br] = big.variants.map((v) => v.etag!);
  assert.match(id!, /^"[0-9a-f]{16}"$/);
  assert.equal(gz, id!.replace(/"$/, '-gz"'));
  assert.equal(br, id!.replace(/"$/, '-br"'));
  assert.equal((route(input, "/small.txt") as Resource).variants.length, 1);
  assert.equal((route(input, "/random.bin") as Resource).variants.length, 1, "incompressible bytes");
  assert.equal(
    (route(input, "/photo.jpg") as Resource).variants.length,
    1,
    "JPEG is not a compressible type",
  );
  const off = await compile(root, { compression: { encodings: [] }, etag: false, lastModified: false });
  const plain = route(off, "/big.txt") as Resource;
  assert.equal(plain.variants.length, 1);
  assert.equal(plain.variants[0]!.etag, undefined);
  assert.equal(plain.lastModified, undefined);
});

test("the compression cache makes an unchanged rebuild compress nothing", async () => {
  const root = site({ "a.js": "let x = 1;\n".repeat(500), "b.css": "a { color: red }\n".repeat(200) });
  const cacheDir = join(work, "cache");
  const config = validateConfig({}, "test", root);
  const first = await compileSite(config, { cacheDir });
  assert.equal(first.report.compression.compressed, 4);
  const second = await compileSite(config, { cacheDir });
  assert.deepEqual(second.report.compression, { compressed: 0, cached: 4 });
  assert.deepEqual(second.input, first.input);
});

test("builds are deterministic; SOURCE_DATE_EPOCH replaces file times", async () => {
  const files = { "index.html": HTML, "a/b.txt": "b", "a/c.txt": "c" };
  const one = site(files);
  const two = site(files);
  utimesSync(join(two, "a/b.txt"), 1_000_000, 1_000_000);
  process.env.SOURCE_DATE_EPOCH = "1700000000";
  try {
    assert.deepEqual(await compile(one), await compile(two));
    assert.equal((route(await compile(one), "/a/b.txt") as Resource).lastModified, 1_700_000_000);
  } finally {
    delete process.env.SOURCE_DATE_EPOCH;
  }
});

test("scanning follows file symlinks, skips dotfiles but .well-known, and reports loops and special files", () => {
  const root = site({
    "index.html": HTML,
    ".env": "secret",
    ".git/config": "x",
    ".well-known/security.txt": "c",
    "real.txt": "r",
  });
  symlinkSync(join(root, "real.txt"), join(root, "link.txt"));
  assert.deepEqual(
    scanSite(root).map((f) => f.relative),
    [".well-known/security.txt", "index.html", "link.txt", "real.txt"],
  );
  const loop = site({ "index.html": HTML });
  symlinkSync(loop, join(loop, "again"));
  assert.throws(() => scanSite(loop), /symlink loop/);
  const dangling = site({ "index.html": HTML });
  symlinkSync(join(dangling, "missing"), join(dangling, "broken"));
  assert.throws(() => scanSite(dangling), /dangling symlink: .*broken/);
  const special = site({ "index.html": HTML });
  execFileSync("mkfifo", [join(special, "pipe")]);
  assert.throws(() => scanSite(special), /not a regular file or folder: .*pipe/);
});

test("file names that are not UTF-8 or hold control characters are refused by name", () => {
  const bad = site({ "index.html": HTML });
  writeFileSync(Buffer.concat([Buffer.from(`${bad}/`), Buffer.from([0x66, 0xff, 0x2e, 0x74])]), "x");
  assert.throws(() => scanSite(bad), /not valid UTF-8: .*f/);
  const control = site({ "index.html": HTML });
  writeFileSync(join(control, "a\tb.txt"), "x");
  assert.throws(() => scanSite(control), /control character: .*a\\tb\.txt/);
});

test("fingerprint detection", () => {
  for (const name of [
    "assets/index-BdH3x9kA.js",
    "static/js/main.3f2a9c1b.js",
    "_next/static/chunks/app.js",
    "_astro/page.Cx1a2b3c.css",
    "chunk.a1b2c3d4e5.js",
  ])
    assert.ok(isFingerprinted(name), name);
  for (const name of [
    "index.html",
    "jquery-3.7.1.min.js",
    "my-component.js",
    "favicon-32x32.png",
    "bootstrap.bundle.js",
    "logo.svg",
  ])
    assert.ok(!isFingerprinted(name), name);
  fc.assert(
    fc.property(fc.stringMatching(/^[a-z]{1,12}$/), (word) => assert.ok(!isFingerprinted(`${word}.js`))),
  );
  assert.equal(contentType("a.svg"), "image/svg+xml; charset=utf-8");
  assert.equal(contentType("a.png"), "image/png");
});
