// The access options through the command line: `speck serve` enforces them (hashes made with
// `speck hash-password`, users from the environment), a missing credential source stops it with
// one line and exit code 2, and `speck pack` writes them into the pack, proxy rules included.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const work = mkdtempSync(join(tmpdir(), "speck-access-cli-"));
const env: NodeJS.ProcessEnv = { ...process.env, SPECK_CACHE_DIR: join(work, "cache") };
delete env.SPECK_DEBUG;
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

const site = join(work, "site");
mkdirSync(join(site, "admin"), { recursive: true });
writeFileSync(join(site, "index.html"), "<h1>home</h1>\n");
writeFileSync(join(site, "admin", "index.html"), "<h1>admin</h1>\n");

function hash(password: string, user?: string): string {
  const r = spawnSync(
    process.execPath,
    [SPECK, "hash-password", "--iterations", "1000", ...(user ? ["--user", user] : [])],
    {
      input: `${password}\n`,
      encoding: "utf8",
      env,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function config(options: object): string {
  const dir = mkdtempSync(join(work, "project-"));
  writeFileSync(join(dir, "speck.config.json"), JSON.stringify({ root: site, ...options }));
  return dir;
}

/** Starts `speck serve` in `cwd`; resolves with its URL, or with its exit status and output when it stops first. */
function serve(
  cwd: string,
  extra: NodeJS.ProcessEnv = {},
): Promise<{ url?: string; status?: number | null; output: string }> {
  const child = spawn(process.execPath, [SPECK, "serve", "--port", "0", "--no-log", "--no-watch"], {
    cwd,
    env: { ...env, ...extra },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  return new Promise((resolve) => {
    const seen = (d: Buffer) => {
      output += d.toString();
      const m = /on (http:\/\/\S+)/.exec(output);
      if (m) resolve({ url: m[1]!, output });
    };
    child.stdout!.on("data", seen);
    child.stderr!.on("data", seen);
    child.on("exit", (status) => resolve({ status, output }));
  });
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

test("speck serve enforces auth rules from the config, with hashes from speck hash-password", async () => {
  const dir = config({ auth: [{ path: "/admin", realm: "Admin", users: { alice: hash("s3cret") } }] });
  const { url, output } = await serve(dir);
  assert.ok(url, output);
  assert.equal((await fetch(`${url}admin/`)).status, 401);
  assert.equal(
    (await fetch(`${url}admin/`, { headers: { authorization: basic("alice", "wrong") } })).status,
    401,
  );
  const ok = await fetch(`${url}admin/`, { headers: { authorization: basic("alice", "s3cret") } });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "<h1>admin</h1>\n");
  assert.equal((await fetch(url!)).status, 200);
});

test("speck serve reads users from the environment, and stops with one line when the variable is missing", async () => {
  const dir = config({ auth: [{ path: "/admin", realm: "Admin", usersFrom: { env: "ADMIN_USERS" } }] });
  const started = await serve(dir, { ADMIN_USERS: hash("pw", "bob") });
  assert.ok(started.url, started.output);
  assert.equal(
    (await fetch(`${started.url}admin/`, { headers: { authorization: basic("bob", "pw") } })).status,
    200,
  );
  const missing = await serve(dir);
  assert.equal(missing.status, 2, missing.output);
  assert.equal(missing.output.trim().split("\n").length, 1, missing.output);
  assert.match(
    missing.output,
    /^speck: auth rule 0 \(path "\/admin", realm "Admin"\): the environment variable ADMIN_USERS is not set; refusing to serve unprotected/,
  );
});

test("speck pack writes proxy rules into the pack; speck inspect names the proxy feature", () => {
  const dir = config({
    proxy: [{ path: "/api", upstream: "http://api:3000" }],
    trustedProxies: ["10.0.0.0/8"],
  });
  const out = join(work, "proxy.pack");
  const packed = spawnSync(process.execPath, [SPECK, "pack", "-o", out], { cwd: dir, env, encoding: "utf8" });
  assert.equal(packed.status, 0, packed.stderr);
  const inspected = spawnSync(process.execPath, [SPECK, "inspect", out], { env, encoding: "utf8" });
  assert.equal(inspected.status, 0, inspected.stderr);
  assert.match(inspected.stdout, /\n {2}access rules: trustedProxies, proxy \(section \d+ bytes\)\n/);
});

test("speck pack writes a version-8 pack for IP and auth rules; speck inspect names its access features", () => {
  const dir = config({
    ipRules: [{ path: "/admin", rules: ["allow 10.0.0.0/8", "deny all"] }],
    auth: [{ path: "/admin", realm: "Admin", usersFrom: { env: "ADMIN_USERS" } }],
  });
  const out = join(work, "rules.pack");
  const packed = spawnSync(process.execPath, [SPECK, "pack", "-o", out], { cwd: dir, env, encoding: "utf8" });
  assert.equal(packed.status, 0, packed.stderr);
  const inspected = spawnSync(process.execPath, [SPECK, "inspect", out], { env, encoding: "utf8" });
  assert.equal(inspected.status, 0, inspected.stderr);
  assert.match(inspected.stdout, /\n {2}access rules: ip, auth, runtimeUsers \(section \d+ bytes\)\n/);
});

test("speck serve forwards proxy paths to the upstream and serves the rest from the site", async () => {
  const { createServer } = await import("node:http");
  const upstream = createServer((req, res) => res.end(`upstream saw ${req.url}\n`));
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  try {
    const port = (upstream.address() as { port: number }).port;
    const dir = config({ proxy: [{ path: "/api", upstream: `http://127.0.0.1:${port}/v2` }] });
    const { url, output } = await serve(dir);
    assert.ok(url, output);
    assert.equal(await (await fetch(`${url}api/users?id=7`)).text(), "upstream saw /v2/users?id=7\n");
    assert.equal(await (await fetch(url!)).text(), "<h1>home</h1>\n");
  } finally {
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  }
});
