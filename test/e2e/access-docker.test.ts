// An image with access rules, end to end: `speck build` of a site whose config protects paths, loaded
// by a real Docker engine and run hardened. Hashes in the pack, users from `docker run -e` and from
// a mounted secret file (SPECK_AUTH_FILE) log in; requests without them get 401, an IP rule 403; the
// image stays healthy with "/" protected; a container without its secret exits 2 with one line.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { hashPassword } from "../../src/access/password.ts";
import { requireCommands } from "../support/tools.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const work = mkdtempSync(join(tmpdir(), "speck-access-docker-"));
const tag = `speck-e2e/access:${process.pid}`;
after(() => {
  spawnSync("docker", ["rmi", "-f", tag], { stdio: "ignore" });
  rmSync(work, { recursive: true, force: true });
});

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim();
}

const basic = (credentials: string) => ({
  authorization: `Basic ${Buffer.from(credentials).toString("base64")}`,
});

test("an image with auth and IP rules: 401 without credentials, 200 with them, users from -e and a secret file", async (t) => {
  if (!requireCommands(t, ["docker"], "apt-get install docker.io (and start dockerd)")) return;
  const site = join(work, "site");
  for (const path of [
    "index.html",
    "admin/index.html",
    "team/index.html",
    "ops/index.html",
    "closed/index.html",
  ]) {
    mkdirSync(join(site, path, ".."), { recursive: true });
    writeFileSync(join(site, path), `<h1>${path}</h1>\n`);
  }
  writeFileSync(
    join(work, "speck.config.json"),
    JSON.stringify({
      root: "site",
      auth: [
        { path: "/admin", realm: "Admin", users: { alice: hashPassword("in the pack", 1000) } },
        { path: "/team", realm: "Team", usersFrom: { file: "/run/secrets/speck-auth" } },
        { path: "/ops", realm: "Ops", usersFrom: { env: "OPS_USERS" } },
        { path: "/", realm: "Site", users: { guest: hashPassword("guest", 1000) } },
      ],
      ipRules: [{ path: "/closed", rules: ["deny all"] }],
    }),
  );
  const secret = join(work, "secret");
  writeFileSync(secret, `bob:${hashPassword("from a file", 1000)}\n`);
  const tarball = join(work, "site.tar");
  run(process.execPath, [
    SPECK,
    "build",
    "--config",
    join(work, "speck.config.json"),
    "-o",
    tarball,
    "-t",
    tag,
    "--platform",
    "linux/amd64",
  ]);
  run("docker", ["load", "-i", tarball]);

  const hardened = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"];
  const missing = spawnSync("docker", ["run", "--rm", ...hardened, tag], { encoding: "utf8" });
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(
    missing.stderr,
    /^speck: auth rule 1 \(path "\/team", realm "Team"\): cannot read the credential file \/run\/secrets\/speck-auth \(ENOENT\); refusing to serve unprotected\n$/,
  );

  const id = run("docker", [
    "run",
    "-d",
    "-p",
    "127.0.0.1::8080",
    ...hardened,
    "--health-interval",
    "1s",
    "-e",
    `OPS_USERS=carol:${hashPassword("from the environment", 1000)}`,
    "-e",
    "SPECK_AUTH_FILE=/secrets/users",
    "-v",
    `${secret}:/secrets/users:ro`,
    tag,
  ]);
  try {
    const url = `http://127.0.0.1:${run("docker", ["port", id, "8080/tcp"]).split(":").pop()}`;
    let health = "";
    for (let i = 0; i < 100 && health !== "healthy"; i++) {
      health = run("docker", ["inspect", id, "--format", "{{.State.Health.Status}}"]);
      if (health !== "healthy") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(health, "healthy", "a protected / is a healthy one");
    const status = async (path: string, headers: Record<string, string> = {}) =>
      (await fetch(`${url}${path}`, { headers })).status;
    const denied = await fetch(`${url}/admin/`);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("www-authenticate"), 'Basic realm="Admin"');
    const admin = await fetch(`${url}/admin/`, { headers: basic("alice:in the pack") });
    assert.equal(admin.status, 200);
    assert.equal(await admin.text(), "<h1>admin/index.html</h1>\n");
    assert.equal(await status("/admin/", basic("alice:wrong")), 401);
    assert.equal(await status("/team/"), 401);
    assert.equal(
      await status("/team/", basic("bob:from a file")),
      200,
      "the mounted secret (SPECK_AUTH_FILE)",
    );
    assert.equal(await status("/ops/", basic("carol:from the environment")), 200, "docker run -e");
    assert.equal(await status("/ops/", basic("bob:from a file")), 401);
    assert.equal(await status("/"), 401);
    assert.equal(await status("/", basic("guest:guest")), 200);
    assert.equal(await status("/closed/", basic("guest:guest")), 403, "IP rules come first");
  } finally {
    spawnSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  }
});
