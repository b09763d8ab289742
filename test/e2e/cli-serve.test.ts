// `speck serve` as a user runs it: the example sites over HTTP with Node's fetch and curl, and
// rebuilding on change while a broken edit keeps the previous build serving.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { requireCommands } from "../support/tools.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const EXAMPLES = join(import.meta.dirname, "../../examples");
const work = mkdtempSync(join(tmpdir(), "speck-cli-"));
const env = { ...process.env, SPECK_CACHE_DIR: join(work, "cache") };
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

async function serve(args: string[]): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [SPECK, "serve", ...args, "--port", "0", "--no-log"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${output}`)), 20_000);
    const check = () => {
      const m = /on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      } else setTimeout(check, 50);
    };
    check();
  });
  return { url, child, output: () => output };
}

test("speck serve answers the SPA example: client routes get index.html, unknown assets 404", async () => {
  const { url, child } = await serve([join(EXAMPLES, "spa")]);
  const page = await fetch(new URL("/users/42", url));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<main id="app">/);
  const js = await fetch(new URL("/assets/index-4f3a2b1c.js", url), { headers: { "accept-encoding": "br" } });
  assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(await js.text(), /client-side router/, "fetch decodes the brotli variant");
  assert.equal((await fetch(new URL("/assets/missing.js", url))).status, 404);
  child.kill("SIGTERM");
});

test("speck serve with curl: ranges, compression, conditional requests and HTTP/1.0", async (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const { url, child } = await serve([join(EXAMPLES, "docs")]);
  const curl = (...args: string[]) => spawnSync("curl", ["-s", "-S", ...args], { encoding: "latin1" }).stdout;
  const full = curl(new URL("/guide/install", url).href);
  assert.match(full, /<h1>Install<\/h1>/);
  const ranged = curl("-r", "0-14", "-D", "-", new URL("/guide/install", url).href);
  assert.match(ranged, /^HTTP\/1\.1 206 Partial Content/);
  assert.match(ranged, /Content-Range: bytes 0-14\/\d+/);
  assert.ok(ranged.endsWith(full.slice(0, 15)));
  const compressed = curl("--compressed", "-D", "-", new URL("/guide/configuration", url).href);
  assert.match(compressed, /Content-Encoding: (br|gzip)/);
  assert.match(compressed, /<h1>Configuration<\/h1>/);
  const etag = /ETag: (".*?")/.exec(curl("-D", "-", "-o", "/dev/null", new URL("/", url).href))![1]!;
  assert.match(
    curl("-D", "-", "-H", `If-None-Match: ${etag}`, new URL("/", url).href),
    /^HTTP\/1\.1 304 Not Modified/,
  );
  const old = curl("--http1.0", "-D", "-", new URL("/guide/", url).href);
  assert.match(old, /^HTTP\/1\.1 200 OK[\s\S]*Connection: close/);
  assert.match(
    curl("-D", "-", "-o", "/dev/null", new URL("/docs/install", url).href),
    /^HTTP\/1\.1 301[\s\S]*Location: \/guide\/install/,
  );
  child.kill("SIGTERM");
});

test("speck serve answers the docs example: clean URLs, folders, redirects, 404 page, images", async () => {
  const { url, child } = await serve([join(EXAMPLES, "docs")]);
  const get = (path: string) => fetch(new URL(path, url), { redirect: "manual" });
  const install = await get("/guide/install");
  assert.equal(install.status, 200);
  assert.equal(install.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(install.headers.get("cache-control"), "no-cache");
  assert.equal(install.headers.get("x-content-type-options"), "nosniff");
  const cases: [string, number, string][] = [
    ["/guide/install.html", 308, "/guide/install"],
    ["/guide", 308, "/guide/"],
    ["/guide/index.html", 308, "/guide/"],
    ["/getting-started", 308, "/guide/install"],
    ["/docs/install?x=1", 301, "/guide/install?x=1"],
  ];
  for (const [path, status, location] of cases) {
    const r = await get(path);
    assert.equal(r.status, status, path);
    assert.equal(r.headers.get("location"), location, path);
  }
  const png = await get("/assets/favicon.png");
  assert.equal(png.headers.get("content-type"), "image/png");
  assert.deepEqual(
    Buffer.from(await png.arrayBuffer()),
    readFileSync(join(EXAMPLES, "docs/assets/favicon.png")),
  );
  assert.equal((await get("/assets/logo.svg")).headers.get("content-type"), "image/svg+xml; charset=utf-8");
  assert.equal((await get("/assets/docs.css")).headers.get("cache-control"), "public, max-age=86400");
  const missing = await get("/nope");
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /Not found · speck docs/);
  child.kill("SIGTERM");
});

test("speck serve answers the hello example with gzip and brotli as asked", async () => {
  const { url, child } = await serve([join(EXAMPLES, "hello")]);
  const body = readFileSync(join(EXAMPLES, "hello/index.html"), "utf8");
  for (const encoding of ["br", "gzip", "identity"]) {
    const r = await fetch(url, { headers: { "accept-encoding": encoding } });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), body, encoding);
  }
  child.kill("SIGTERM");
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("speck serve rebuilds on change, keeps the previous build on a broken config, and recovers", async () => {
  const root = join(work, "live");
  cpSync(join(EXAMPLES, "hello"), root, { recursive: true });
  writeFileSync(join(root, "speck.config.json"), "{}");
  const { url, child, output } = await serve([root]);
  writeFileSync(join(root, "new.txt"), "fresh\n");
  await until(async () => (await fetch(new URL("/new.txt", url))).status === 200, "/new.txt");
  assert.match(output(), /speck: rebuilt in \d+ ms: \d+ routes, \d+ variants compressed, \d+ from cache/);
  mkdirSync(join(root, "deep/er"), { recursive: true });
  writeFileSync(join(root, "deep/er/page.html"), "<p>deep</p>");
  await until(async () => (await fetch(new URL("/deep/er/page.html", url))).status === 200, "a new folder");
  rmSync(join(root, "new.txt"));
  await until(async () => (await fetch(new URL("/new.txt", url))).status === 404, "a removed file");

  writeFileSync(join(root, "speck.config.json"), '{ "cleanUrl": true }');
  await until(async () => /still serving the previous build/.test(output()), "the error");
  assert.match(output(), /cleanUrl: unknown option "cleanUrl"; did you mean "cleanUrls"\?/);
  assert.equal(
    (await fetch(new URL("/deep/er/page.html", url))).status,
    200,
    "the previous pack still serves",
  );

  writeFileSync(join(root, "speck.config.json"), '{ "cleanUrls": true }');
  await until(
    async () => (await fetch(new URL("/index.html", url), { redirect: "manual" })).status === 308,
    "the fixed config",
  );
  child.kill("SIGTERM");
});
