import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, rmSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { validateConfig } from "../config/load.ts";
import type { SpeckConfigInput } from "../config/schema.ts";
import {
  type Body,
  bodyLength,
  ERROR_STATUSES,
  type PackInput,
  type Redirect,
  type Resource,
} from "../pack/model.ts";
import { COMPRESS_LIMIT, compileSite } from "./compile.ts";

const work = mkdtempSync(join(tmpdir(), "speck-compile-"));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

function site(files: Record<string, string | Buffer>): string {
  const root = join(work, `site${counter++}`);
  mkdirSync(root, { recursive: true });
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
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
const resource = (input: PackInput, path: string) => route(input, path) as Resource;
/** A body the compiler holds in memory (small files, and everything it compresses). */
function inMemory(body: Body): Uint8Array {
  assert.ok(body instanceof Uint8Array, "the body is in memory");
  return body;
}
const text = (body: Body) => Buffer.from(inMemory(body)).toString("utf8");
const HTML = "<!doctype html><p>page</p>";

test("compileSite() serves every file with its bytes and default headers", async () => {
  const root = site({
    "index.html": HTML,
    "assets/index-BdH3x9kA.js": "js",
    "data.json": "{}",
    "blob.unknownext": "x",
  });
  const input = await compile(root);
  assert.deepEqual(
    input.routes.map((r) => r.path),
    ["/", "/assets/index-BdH3x9kA.js", "/blob.unknownext", "/data.json", "/index.html"],
  );
  assert.equal(route(input, "/"), route(input, "/index.html"), "one resource behind both paths");
  const headers = (path: string) => Object.fromEntries(resource(input, path).headers);
  assert.deepEqual(headers("/index.html"), {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
  });
  assert.equal(headers("/assets/index-BdH3x9kA.js")["Cache-Control"], "public, max-age=31536000, immutable");
  assert.equal(headers("/data.json")["Content-Type"], "application/json; charset=utf-8");
  assert.equal(headers("/blob.unknownext")["Content-Type"], "application/octet-stream");
  assert.equal(text(resource(input, "/data.json").variants[0]!.body), "{}");
});

test("compileSite(): header rules match the URLs a file is served at, and apply to redirects", async () => {
  const root = site({ "about.html": HTML, "docs/index.html": HTML });
  const input = await compile(root, {
    cleanUrls: true,
    headers: [
      { source: "/about", headers: { "X-Page": "about" } },
      { source: "/docs/", headers: { "X-Docs": "1" } },
      { source: "/**", headers: { "X-Frame-Options": "DENY" } },
    ],
  });
  const about = new Map(resource(input, "/about").headers);
  assert.equal(about.get("X-Page"), "about");
  assert.equal(new Map(resource(input, "/docs/").headers).get("X-Docs"), "1");
  const redirect = route(input, "/about.html") as Redirect;
  assert.deepEqual(redirect.headers, [["X-Frame-Options", "DENY"]]);
});

test("compileSite(): the SPA fallback, the notFound page and every error response", async () => {
  const root = site({ "index.html": "<p>app</p>", "404.html": "<p>missing</p>", "oops.html": "<p>oops</p>" });
  const input = await compile(root, { spa: "index.html" });
  assert.equal(text(input.spa!.variants[0]!.body), "<p>app</p>");
  assert.equal(text(input.errors[404].variants[0]!.body), "<p>missing</p>", "404.html by default");
  const chosen = await compile(root, { notFound: "/oops.html" });
  assert.equal(text(chosen.errors[404].variants[0]!.body), "<p>oops</p>");
  await assert.rejects(
    compile(root, { spa: "app.html" }),
    /spa: "app\.html" is not a file of the site folder/,
  );
  await assert.rejects(compile(root, { notFound: "nope.html" }), /notFound: "nope\.html" is not a file/);
  const generated = await compile(site({ "index.html": HTML }));
  for (const status of ERROR_STATUSES) {
    const page = generated.errors[status];
    assert.match(text(page.variants[0]!.body), new RegExp(`<title>${status} `));
    assert.equal(page.variants.length, 1);
    assert.equal(new Map(page.headers).get("Allow"), status === 405 ? "GET, HEAD" : undefined);
  }
  assert.equal(generated.spa, undefined);
});

test("compileSite(): access rules bring the section and the 401/403/502/504 pages, the site's with errorPages", async () => {
  const root = site({ "index.html": HTML, "denied.html": "<p>who are you?</p>" });
  const ipRules = [{ path: "/private", rules: ["deny all"] }];
  const plain = await compileSite(validateConfig({}, "test", root), { cacheDir: null });
  assert.equal(plain.input.access, undefined, "no rules, no section");
  const input = await compile(root, { ipRules, errorPages: { "401": "denied.html" } });
  assert.ok(input.access && input.access.section.length > 0);
  assert.equal(text(input.access.errors[401].variants[0]!.body), "<p>who are you?</p>");
  assert.equal(new Map(input.access.errors[401].headers).get("Content-Type"), "text/html; charset=utf-8");
  for (const status of [403, 502, 504] as const)
    assert.match(text(input.access.errors[status].variants[0]!.body), new RegExp(`<title>${status} `));
  await assert.rejects(
    compile(root, { ipRules, errorPages: { "403": "nope.html" } }),
    /errorPages\.403: "nope\.html" is not a file/,
  );
  const unused = await compileSite(validateConfig({ errorPages: { "401": "denied.html" } }, "test", root), {
    cacheDir: null,
  });
  assert.deepEqual(unused.report.warnings, [
    "errorPages has no effect: the config has no auth, ipRules or proxy rules",
  ]);
});

test("compileSite(): redirects and conflicts come through with their rules named", async () => {
  const root = site({ "index.html": HTML, "old.html": HTML });
  const input = await compile(root, {
    redirects: [
      { source: "/gone", destination: "https://example.com/", status: 301 },
      { source: "/blog/*", destination: "/news/:splat" },
    ],
  });
  assert.deepEqual(route(input, "/gone"), {
    kind: "redirect",
    status: 301,
    location: "https://example.com/",
    headers: [],
  });
  assert.deepEqual(input.prefixRedirects, [{ prefix: "/blog/", status: 308, target: "/news/", headers: [] }]);
  await assert.rejects(
    compile(root, { redirects: [{ source: "/old.html", destination: "/new" }] }),
    /redirects\[0\] \(\/old\.html\) shadows old\.html/,
  );
});

test("compileSite(): variants are kept only where they save enough, each with its own ETag", async () => {
  const root = site({
    "big.txt": "speck ".repeat(1000),
    "small.txt": "tiny",
    "random.txt": randomBytes(4096),
    "photo.jpg": Buffer.from("x".repeat(5000)),
  });
  const input = await compile(root);
  const big = resource(input, "/big.txt");
  assert.deepEqual(
    big.variants.map((v) => v.encoding),
    ["identity", "gzip", "br"],
  );
  assert.equal(text(gunzipSync(inMemory(big.variants[1]!.body))), "speck ".repeat(1000));
  assert.equal(text(brotliDecompressSync(inMemory(big.variants[2]!.body))), "speck ".repeat(1000));
  const [id, gz, br] = big.variants.map((v) => v.etag!);
  assert.match(id!, /^"[0-9a-f]{16}"$/);
  assert.equal(gz, id!.replace(/"$/, '-gz"'));
  assert.equal(br, id!.replace(/"$/, '-br"'));
  assert.equal(resource(input, "/small.txt").variants.length, 1, "below minSize");
  assert.equal(resource(input, "/random.txt").variants.length, 1, "random bytes do not compress");
  assert.equal(resource(input, "/photo.jpg").variants.length, 1, "JPEG is not a compressible type");
  const off = await compile(root, { compression: { encodings: [] }, etag: false, lastModified: false });
  const plain = resource(off, "/big.txt");
  assert.equal(plain.variants.length, 1);
  assert.equal(plain.variants[0]!.etag, undefined);
  assert.equal(plain.lastModified, undefined);
  const gzipOnly = await compile(root, { compression: { encodings: ["gzip"] } });
  assert.deepEqual(
    resource(gzipOnly, "/big.txt").variants.map((v) => v.encoding),
    ["identity", "gzip"],
  );
});

test("compileSite() leaves files over 1 MiB in their files, with the same ETag and variants", async () => {
  const video = randomBytes(3 << 20);
  const log = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `line ${i} of the log\n`).join(""));
  const root = site({
    "video.mp4": video,
    "small.mp4": video.subarray(0, 1000),
    "log.txt": log,
    "index.html": HTML,
  });
  // a text file over COMPRESS_LIMIT (sparse: no disk needed) is served as it is
  const huge = join(root, "huge.txt");
  writeFileSync(huge, "");
  truncateSync(huge, COMPRESS_LIMIT + 1);
  const input = await compile(root);
  const body = resource(input, "/video.mp4").variants[0]!.body;
  assert.deepEqual(body, {
    file: join(root, "video.mp4"),
    size: video.length,
    hash: createHash("sha256").update(video).digest("hex"),
  });
  assert.equal(
    resource(input, "/video.mp4").variants[0]!.etag,
    `"${(body as { hash: string }).hash.slice(0, 16)}"`,
  );
  assert.deepEqual(inMemory(resource(input, "/small.mp4").variants[0]!.body), video.subarray(0, 1000));
  // compressed by workers that read the file themselves
  const [identity, gzip, br] = resource(input, "/log.txt").variants;
  assert.ok(log.length > 1 << 20 && !(identity!.body instanceof Uint8Array), "the log stays in its file");
  assert.deepEqual(gunzipSync(inMemory(gzip!.body)), log);
  assert.deepEqual(brotliDecompressSync(inMemory(br!.body)), log);
  const text = resource(input, "/huge.txt");
  assert.equal(text.variants.length, 1, "not compressed");
  assert.equal(bodyLength(text.variants[0]!.body), COMPRESS_LIMIT + 1);
  assert.ok(!(text.variants[0]!.body instanceof Uint8Array), "left in its file");
});

test("compileSite(): minSaving as a fraction or in bytes decides which variants stay", async () => {
  // each file saves a known amount; a variant stays exactly when its saving reaches the threshold
  const bodies = fc.sample(
    fc.string({ minLength: 300, maxLength: 2000, unit: fc.constantFrom("a", "b", "c", "xyz", "0") }),
    {
      numRuns: 12,
      seed: 7,
    },
  );
  const root = site(Object.fromEntries(bodies.map((b, i) => [`f${i}.txt`, b])));
  const all = await compile(root, { compression: { minSaving: 0, minSize: 0 } });
  for (const minSaving of [0.3, 0.6, 0.9, 100, 400]) {
    const some = await compile(root, { compression: { minSaving, minSize: 0 } });
    bodies.forEach((body, i) => {
      const full = resource(all, `/f${i}.txt`);
      const kept = resource(some, `/f${i}.txt`).variants.map((v) => v.encoding);
      for (const v of full.variants.slice(1)) {
        const saved = body.length - inMemory(v.body).length;
        const enough = saved >= (minSaving < 1 ? minSaving * body.length : minSaving);
        assert.equal(kept.includes(v.encoding), enough, `${v.encoding} of f${i} at ${minSaving}`);
      }
    });
  }
});

test("compileSite(): an unchanged rebuild compresses nothing and gives the same result", async () => {
  const root = site({ "a.js": "let x = 1;\n".repeat(500), "b.css": "a { color: red }\n".repeat(200) });
  const cacheDir = join(work, "cache");
  const config = validateConfig({}, "test", root);
  const first = await compileSite(config, { cacheDir });
  assert.deepEqual(first.report.compression, { compressed: 4, cached: 0 });
  const second = await compileSite(config, { cacheDir });
  assert.deepEqual(second.report.compression, { compressed: 0, cached: 4 });
  assert.deepEqual(second.input, first.input);
  writeFileSync(join(root, "a.js"), "let y = 2;\n".repeat(500));
  const third = await compileSite(config, { cacheDir });
  assert.deepEqual(third.report.compression, { compressed: 2, cached: 2 }, "only the changed file");
});

test("compileSite() is deterministic; SOURCE_DATE_EPOCH replaces file times", async () => {
  const one = site({ "index.html": HTML, "a/b.txt": "b".repeat(400), "a/c.txt": "c", "é/d.css": "d{}" });
  const two = join(work, `copy${counter++}`);
  cpSync(one, two, { recursive: true });
  utimesSync(join(two, "a/b.txt"), 1_000_000, 1_000_000);
  assert.deepEqual(await compile(one), await compile(one), "same folder twice");
  assert.notDeepEqual(await compile(one), await compile(two), "mtimes show in Last-Modified");
  process.env.SOURCE_DATE_EPOCH = "1700000000";
  try {
    assert.deepEqual(await compile(one), await compile(two));
    assert.equal(resource(await compile(one), "/a/b.txt").lastModified, 1_700_000_000);
    process.env.SOURCE_DATE_EPOCH = "yesterday";
    await assert.rejects(compile(one), /SOURCE_DATE_EPOCH=yesterday is not a whole number of seconds/);
  } finally {
    delete process.env.SOURCE_DATE_EPOCH;
  }
});

test("compileSite() refuses empty and missing folders", async () => {
  await assert.rejects(compile(site({})), /has no files to serve/);
  await assert.rejects(compile(join(work, "absent")), /site folder .*absent does not exist/);
});

test("compileSite() leaves out the files and folders of leaveOut, the command's own outputs", async () => {
  const root = site({
    "index.html": HTML,
    "site.tar": "an image",
    "out/site.pack": "a pack",
    "outline.html": HTML,
  });
  const leaveOut = [join(root, "site.tar"), join(root, "out"), join(root, "absent.tar")];
  const { input } = await compileSite(validateConfig({}, "test", root), { cacheDir: null, leaveOut });
  assert.equal(route(input, "/site.tar"), undefined);
  assert.equal(route(input, "/out/site.pack"), undefined);
  assert.ok(route(input, "/outline.html") && route(input, "/index.html"));
  assert.ok(route(await compile(root), "/site.tar"), "without leaveOut the file is served");
});

test("compileSite() with precompressed uses the site's .gz and .br siblings and does not serve them", async () => {
  const js = "export const answer = 42;\n".repeat(200);
  const root = site({
    "app.js": js,
    "app.js.gz": gzipSync(js, { level: 1 }),
    "app.js.br": brotliCompressSync(Buffer.from(js)),
    "orphan.txt.gz": gzipSync("no original"),
    "style.css": "a { color: red }\n".repeat(100),
  });
  const input = await compile(root, { precompressed: true });
  assert.deepEqual(
    input.routes.map((r) => r.path),
    ["/app.js", "/orphan.txt.gz", "/style.css"],
  );
  const app = resource(input, "/app.js");
  assert.deepEqual(
    app.variants.map((v) => v.encoding),
    ["identity", "gzip", "br"],
  );
  assert.deepEqual(
    Buffer.from(inMemory(app.variants[1]!.body)),
    gzipSync(js, { level: 1 }),
    "the site's own gzip bytes",
  );
  const [id, gz] = app.variants.map((v) => v.etag!);
  assert.match(gz!, /^"[0-9a-f]{16}-gz"$/);
  assert.notEqual(gz, id!.replace(/"$/, '-gz"'), "the sibling's tag comes from its own bytes");
  assert.equal(
    resource(input, "/style.css").variants.length,
    3,
    "files without siblings are compressed as usual",
  );
  const without = await compile(root);
  assert.ok(route(without, "/app.js.gz"), "without the option the siblings are plain files");
  writeFileSync(join(root, "app.js.gz"), gzipSync("something else"));
  await assert.rejects(
    compile(root, { precompressed: true }),
    /app\.js\.gz does not decompress to app\.js; rebuild it or remove it/,
  );
  writeFileSync(join(root, "app.js.gz"), "not gzip");
  await assert.rejects(compile(root, { precompressed: true }), /app\.js\.gz is not gzip data/);
});

test("compileSite() warns about header rules that match nothing", async () => {
  const root = site({ "assets/a.css": "a{}", "index.html": HTML });
  const { report } = await compileSite(
    validateConfig(
      {
        headers: [
          { source: "/asset/**", headers: { "X-A": "1" } },
          { source: "/assets/**", headers: { "X-B": "1" } },
          { source: "/", headers: { "X-C": "1" } },
        ],
      },
      "test",
      root,
    ),
    { cacheDir: null },
  );
  assert.deepEqual(report.warnings, ["headers[0] (/asset/**) matches no path of the site"]);
});
