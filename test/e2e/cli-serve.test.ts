// `speck serve` and `speck pack` as a user runs them: the example sites over HTTP with Node's fetch
// and curl, rebuilding on change, and one clear line with exit code 2 for every mistake.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readPack } from "../../src/pack/read.ts";
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

function run(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [SPECK, ...args], { env, encoding: "utf8", cwd: work });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
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

test("speck serve rebuilds when a file changes and keeps serving on a broken config", async () => {
  const root = join(work, "live");
  cpSync(join(EXAMPLES, "hello"), root, { recursive: true });
  const { url, child, output } = await serve([root]);
  writeFileSync(join(root, "new.txt"), "fresh\n");
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await fetch(new URL("/new.txt", url))).status;
  }
  assert.equal(status, 200);
  assert.match(output(), /rebuilt \d+ routes/);
  child.kill("SIGTERM");
});

test("speck pack writes a valid pack", () => {
  const out = join(work, "docs.pack");
  const r = run(["pack", join(EXAMPLES, "docs"), "-o", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*docs\.pack: \d+ bytes, \d+ routes/);
  assert.ok(readPack(readFileSync(out)).routeCount > 10);
});

test("mistakes get one clear line and exit code 2", () => {
  const cases: [string[], RegExp][] = [
    [["serve", join(work, "missing")], /site folder .*missing does not exist/],
    [
      ["pack", join(EXAMPLES, "hello"), "--trailing-slash", "sometimes"],
      /sometimes.*is invalid. Allowed choices are auto, always, never/,
    ],
    [["serve", "--bogus"], /unknown option '--bogus'/],
    [["serve", join(EXAMPLES, "hello"), "--port", "99999"], /--port 99999 is not a port number/],
    [
      ["pack", join(EXAMPLES, "hello"), "--spa", "nope.html"],
      /spa: "nope\.html" is not a file of the site folder/,
    ],
    [
      ["pack", join(EXAMPLES, "hello"), "-o", join(work, "no/such/dir/x.pack")],
      /cannot write .*x\.pack: ENOENT/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(
      r.stderr
        .trim()
        .split("\n")
        .filter((l) => !l.startsWith("(run speck")).length,
      1,
      `one line: ${r.stderr}`,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
});
