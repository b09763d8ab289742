// Chromium against the native server, as people will open a speck site: the SPA example's deep
// links and client-side routes, its module script and stylesheet (which a browser refuses under
// nosniff unless their Content-Type is right), the docs example's pages, images, redirects, custom
// 404 and compressed bodies, and revalidation on reload, seen as 304s in the server's access log.
// Driven by playwright-core with Debian's chromium; never a downloaded browser.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Browser, chromium, type Page, type Response } from "playwright-core";
import { TARGETS } from "../../src/native/target/index.ts";
import { type NativeServer, startNative, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { hasCommand, requireCommands } from "../support/tools.ts";

const EXAMPLES = join(import.meta.dirname, "../../examples");
const CHROMIUM = "/usr/bin/chromium";
const INSTALL = "apt-get install chromium";
const work = mkdtempSync(join(tmpdir(), "speck-browser-"));
const servers: NativeServer[] = [];
let browser: Browser | undefined;

/** The native x86-64 server over `example`'s pack, with a JSON access log; its base URL. */
async function serve(example: string): Promise<{ base: string; server: NativeServer }> {
  const pack = join(work, `${example}.pack`);
  execFileSync(process.execPath, [
    join(import.meta.dirname, "../../bin/speck.js"),
    "pack",
    join(EXAMPLES, example),
    "-o",
    pack,
  ]);
  const port = await freePort();
  const server = startNative(TARGETS.x64, readFileSync(pack), {
    PORT: String(port),
    SPECK_WORKERS: "1",
    SPECK_LOG: "json",
  });
  servers.push(server);
  await waitForPort(port);
  return { base: `http://127.0.0.1:${port}`, server };
}

before(async () => {
  if (hasCommand("chromium"))
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});
after(async () => {
  await browser?.close();
  for (const server of servers) assert.equal(await server.stop(), 0);
  rmSync(work, { recursive: true, force: true });
});

/** A fresh page that records every response and every console error or failed request. */
async function openPage(): Promise<{ page: Page; responses: Response[]; problems: string[] }> {
  const page = await browser!.newPage();
  const responses: Response[] = [];
  const problems: string[] = [];
  page.on("response", (r) => responses.push(r));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return { page, responses, problems };
}

/** The access log's entries so far: one JSON object per line. */
function accessLog(server: NativeServer): { request: string; status: number }[] {
  return server
    .stdout()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

/** The page's h1 (a page whose script never ran has none: fail in seconds, not at the test time-out). */
const heading = (page: Page) => page.locator("h1").textContent({ timeout: 5000 });

test("Chromium: the SPA's deep links, client-side routes and reloads, with its script and stylesheet", async (t) => {
  if (!requireCommands(t, ["chromium"], INSTALL)) return;
  const { base } = await serve("spa");
  const { page, responses, problems } = await openPage();

  const deep = await page.goto(`${base}/users/42`);
  assert.equal(deep?.status(), 200);
  assert.equal(await heading(page), "User 42", "the module script ran: its Content-Type passed nosniff");
  assert.equal(
    await page.evaluate("getComputedStyle(document.body).maxWidth"),
    "640px",
    "the stylesheet applied",
  );
  // read before navigating: the browser drops a page's bodies when it leaves it
  const script = responses.find((r) => r.url().endsWith(".js"))!;
  assert.equal(script.status(), 200);
  assert.equal(script.headers()["content-type"], "text/javascript; charset=utf-8");
  assert.equal(script.headers()["cache-control"], "public, max-age=31536000, immutable");
  assert.deepEqual(await script.body(), readFileSync(join(EXAMPLES, "spa/assets/index-4f3a2b1c.js")));

  await page.click("text=About");
  assert.equal(await heading(page), "About");
  assert.equal(new URL(page.url()).pathname, "/about");
  const reload = await page.reload();
  assert.equal(reload?.status(), 200, "the fallback answers the client-side route");
  assert.equal(await heading(page), "About");

  const missing = await page.goto(`${base}/assets/missing.js`);
  assert.equal(missing?.status(), 404, "an unknown asset gets no fallback");
  assert.deepEqual(
    problems.filter((p) => !p.includes("404")),
    [],
  );
  await page.close();
});

test("Chromium: the docs' pages, images, redirects, custom 404, compressed bodies and 304 on reload", async (t) => {
  if (!requireCommands(t, ["chromium"], INSTALL)) return;
  const { base, server } = await serve("docs");
  const { page, responses, problems } = await openPage();

  const home = await page.goto(`${base}/`);
  assert.equal(home?.status(), 200);
  const images = await page.$$eval("img", (all) => all.map((img) => [img.currentSrc, img.naturalWidth]));
  assert.ok(images.length > 0);
  for (const [src, width] of images) assert.ok(Number(width) > 0, `${src} decoded`);

  // the body of every page and stylesheet is the file's bytes, in whichever coding the browser took
  const offered = (await home!.request().allHeaders())["accept-encoding"] ?? "";
  const coding = home!.headers()["content-encoding"];
  t.diagnostic(`Chromium offered "${offered}" and got ${coding ?? "identity"}`);
  if (offered.includes("br")) assert.equal(coding, "br");
  else if (offered.includes("gzip")) assert.equal(coding, "gzip");
  assert.deepEqual(await home!.body(), readFileSync(join(EXAMPLES, "docs/index.html")));

  await page.click('nav >> text="Install"');
  assert.equal(new URL(page.url()).pathname, "/guide/install");
  assert.match((await heading(page)) ?? "", /install/i);

  const redirected = await page.goto(`${base}/docs/configuration`);
  assert.equal(redirected?.status(), 200);
  assert.equal(new URL(page.url()).pathname, "/guide/configuration", "the prefix redirect kept the splat");
  assert.equal(redirected!.request().redirectedFrom()?.url(), `${base}/docs/configuration`);

  const missing = await page.goto(`${base}/no/such/page`);
  assert.equal(missing?.status(), 404);
  assert.equal(await heading(page), "Not found", "the custom 404 page");

  // Cache-Control: no-cache makes a reload revalidate the page: If-None-Match, answered 304
  await page.goto(`${base}/`);
  await page.reload();
  const home304 = () => accessLog(server).filter((e) => e.request === "GET / HTTP/1.1" && e.status === 304);
  for (let i = 0; i < 40 && home304().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(home304().length > 0, `a 304 for / in the access log:\n${server.stdout()}`);

  for (const r of responses) {
    const path = new URL(r.url()).pathname;
    if (path === "/favicon.ico" || path === "/no/such/page") continue;
    assert.ok([200, 301, 304].includes(r.status()), `${r.status()} for ${path}`);
  }
  assert.deepEqual(
    problems.filter((p) => !p.includes("404")),
    [],
  );
  await page.close();
});
