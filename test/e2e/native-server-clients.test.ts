// Real clients against the native server over a real site compiled by speck (examples/docs): curl for
// compression, ranges, conditionals and HTTP/1.0, Node's fetch for every file, wrk with keep-alive
// and h2load with pipelined HTTP/1.1 requests. Counts and bytes are asserted, never timings.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, test } from "node:test";
import { TARGETS } from "../../src/native/target/index.ts";
import { type NativeServer, startNative, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const SITE = join(import.meta.dirname, "../../examples/docs");
const work = mkdtempSync(join(tmpdir(), "speck-clients-"));
let server: NativeServer;
let base: string;

before(async () => {
  const pack = join(work, "site.pack");
  execFileSync(process.execPath, [join(import.meta.dirname, "../../bin/speck.js"), "pack", SITE, "-o", pack]);
  const port = await freePort();
  server = startNative(TARGETS.x64, readFileSync(pack), { PORT: String(port), SPECK_WORKERS: "1" });
  await waitForPort(port);
  base = `http://127.0.0.1:${port}`;
});
after(async () => {
  assert.equal(await server.stop(), 0);
  rmSync(work, { recursive: true, force: true });
});

function curl(...args: string[]): { head: string; body: Buffer } {
  const out = join(work, "body");
  rmSync(out, { force: true });
  const head = execFileSync("curl", ["-sS", "-D", "-", "-o", out, ...args], { encoding: "latin1" });
  let body = Buffer.alloc(0);
  try {
    body = readFileSync(out);
  } catch {}
  return { head, body };
}

/** A header of the last response in `head` (curl -D prints every response of a redirect chain). */
const header = (head: string, name: string) =>
  new RegExp(`^${name}: ([^\\r\\n]*)`, "im").exec(head.trimEnd().split("\r\n\r\n").at(-1)!)?.[1];

test("curl: brotli and gzip negotiated and decoded to the file's bytes", (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const page = readFileSync(join(SITE, "reference/cli.html"));
  const br = curl("--compressed", `${base}/reference/cli`);
  assert.match(br.head, /^HTTP\/1\.1 200 OK/);
  assert.equal(header(br.head, "Content-Encoding"), "br");
  assert.equal(header(br.head, "Vary"), "Accept-Encoding");
  assert.deepEqual(br.body, page);
  const gz = curl("-H", "Accept-Encoding: gzip", `${base}/reference/cli`);
  assert.equal(header(gz.head, "Content-Encoding"), "gzip");
  assert.ok(gz.body.length < page.length);
  const plain = curl(`${base}/reference/cli`);
  assert.equal(header(plain.head, "Content-Encoding"), undefined);
  assert.deepEqual(plain.body, page);
});

test("curl: ranges, suffix ranges and If-Range", (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const png = readFileSync(join(SITE, "assets/favicon.png"));
  const first = curl("-r", "0-9", `${base}/assets/favicon.png`);
  assert.match(first.head, /^HTTP\/1\.1 206 Partial Content/);
  assert.equal(header(first.head, "Content-Range"), `bytes 0-9/${png.length}`);
  assert.deepEqual(first.body, png.subarray(0, 10));
  const tail = curl("-r", "-7", `${base}/assets/favicon.png`);
  assert.deepEqual(tail.body, png.subarray(png.length - 7));
  const etag = header(first.head, "ETag")!;
  const same = curl("-r", "2-3", "-H", `If-Range: ${etag}`, `${base}/assets/favicon.png`);
  assert.deepEqual(same.body, png.subarray(2, 4));
  const changed = curl("-r", "2-3", "-H", 'If-Range: "other"', `${base}/assets/favicon.png`);
  assert.match(changed.head, /^HTTP\/1\.1 200 OK/);
  assert.deepEqual(changed.body, png);
  const unsatisfiable = curl("-r", `${png.length + 5}-`, `${base}/assets/favicon.png`);
  assert.match(unsatisfiable.head, /^HTTP\/1\.1 416 /);
});

test("curl: conditional requests answer 304 with no body", (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const first = curl(`${base}/guide/install`);
  const etag = header(first.head, "ETag")!;
  const modified = header(first.head, "Last-Modified")!;
  const byTag = curl("-H", `If-None-Match: ${etag}`, `${base}/guide/install`);
  assert.match(byTag.head, /^HTTP\/1\.1 304 Not Modified/);
  assert.equal(byTag.body.length, 0);
  const byDate = curl("-H", `If-Modified-Since: ${modified}`, `${base}/guide/install`);
  assert.match(byDate.head, /^HTTP\/1\.1 304 Not Modified/);
  const stale = curl("-H", 'If-None-Match: "nope"', `${base}/guide/install`);
  assert.match(stale.head, /^HTTP\/1\.1 200 OK/);
});

test("curl: HTTP/1.0 gets a complete answer and a closed connection; redirects are followed", (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const old = curl("--http1.0", `${base}/`);
  assert.match(old.head, /^HTTP\/1\.1 200 OK/);
  assert.equal(header(old.head, "Connection"), "close");
  assert.deepEqual(old.body, readFileSync(join(SITE, "index.html")));
  const followed = curl("-L", `${base}/getting-started`);
  assert.match(followed.head, /^HTTP\/1\.1 30[12378]/);
  assert.deepEqual(followed.body, readFileSync(join(SITE, "guide/install.html")));
});

test("Node's fetch: every file of the site with its bytes and Content-Type", async () => {
  const files = spawnSync("find", [SITE, "-type", "f", "!", "-name", "speck.config.json"], {
    encoding: "utf8",
  })
    .stdout.trim()
    .split("\n")
    .sort();
  assert.ok(files.length >= 9);
  for (const file of files) {
    const path = `/${relative(SITE, file)}`.replace(/\.html$/, "").replace(/\/index$/, "/");
    const response = await fetch(`${base}${path}`, { headers: { "accept-encoding": "identity" } });
    assert.equal(response.status, 200, path);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), readFileSync(file), path);
    const type = response.headers.get("content-type")!;
    const ext = file.split(".").at(-1)!;
    const expectedType = { html: "text/html", css: "text/css", svg: "image/svg+xml", png: "image/png" }[ext];
    assert.ok(type.startsWith(expectedType!), `${path}: ${type}`);
  }
});

test("wrk: keep-alive load is answered without errors", (t) => {
  if (!requireCommands(t, ["wrk"], "apt-get install wrk")) return;
  const out = execFileSync("wrk", ["-t1", "-c16", "-d1s", `${base}/assets/logo.svg`], { encoding: "utf8" });
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  assert.ok(requests > 100, out);
  assert.doesNotMatch(out, /Non-2xx|Socket errors/, out);
});

test("h2load: pipelined HTTP/1.1 requests are all answered in order", (t) => {
  if (!requireCommands(t, ["h2load"], "apt-get install nghttp2-client")) return;
  const out = execFileSync("h2load", ["--h1", "-n", "3000", "-c", "10", "-m", "16", `${base}/guide/`], {
    encoding: "utf8",
  });
  assert.match(
    out,
    /requests: 3000 total, 3000 started, 3000 done, 3000 succeeded, 0 failed, 0 errored/,
    out,
  );
  assert.match(out, /status codes: 3000 2xx/, out);
});
