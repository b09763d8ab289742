// `speck push` to real registries that want credentials (Debian's docker-registry, distribution
// 2.8): htpasswd Basic auth, and token auth through a token server of the test's own. The
// credentials come from --username/--password-stdin, from the config.json `docker login` writes,
// from a credential helper speaking the real protocol (fed by `docker login` itself), and from
// the auth.json `podman login` writes (REGISTRY_AUTH_FILE). Wrong or missing credentials give one
// line and exit 2, and no output of any push, failed or not, holds a secret.

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readLayout } from "../../src/image/index.ts";
import { writeCredentialHelper } from "../support/credential-helper.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";
import { startTokenServer, type TokenServer } from "../support/token-server.ts";
import { hasCommand, requireCommands } from "../support/tools.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const HELLO = join(import.meta.dirname, "../../examples/hello");
const INSTALL = "apt-get install docker-registry apache2-utils openssl skopeo docker.io podman";
const PASSWORD = "pw-Zq8r4Lx2-never-printed";
const IDENTITY_TOKEN = "idt-Hn4c7Wq1-never-printed";
const SECRETS = [
  PASSWORD,
  IDENTITY_TOKEN,
  Buffer.from(`alice:${PASSWORD}`).toString("base64"),
  Buffer.from(`bob:${PASSWORD}`).toString("base64"),
  Buffer.from(`carol:${PASSWORD}`).toString("base64"),
];

const work = mkdtempSync(join(tmpdir(), "speck-registry-auth-"));
const bin = join(work, "bin");
const layout = join(work, "hello-oci");
/** Every stdout and stderr of every speck run here, searched for secrets at the end. */
const outputs: string[] = [];
let basic: TestRegistry | undefined;
let tokens: TokenServer | undefined;
let tokenRegistry: TestRegistry | undefined;

const available = () => ["docker-registry", "htpasswd", "openssl"].every(hasCommand);

before(async () => {
  mkdirSync(bin);
  if (!available()) return;
  const htpasswd = spawnSync("htpasswd", ["-Bbn", "alice", PASSWORD], { encoding: "utf8" }).stdout;
  basic = await startRegistry({ htpasswd });
  tokens = await startTokenServer({
    users: { bob: PASSWORD, carol: PASSWORD },
    identityTokens: { [IDENTITY_TOKEN]: "bob" },
    pullOnly: ["carol"],
  });
  tokenRegistry = await startRegistry({ token: tokens });
  const built = await speck(["build", HELLO, "-o", layout, "-t", "acme/hello:1"]);
  assert.equal(built.status, 0, built.stderr);
});

after(async () => {
  await basic?.stop();
  await tokenRegistry?.stop();
  await tokens?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** A home with no credentials in it, and the helper folder on PATH. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(work, "home-"));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH}` };
  delete env.DOCKER_CONFIG;
  delete env.XDG_RUNTIME_DIR;
  delete env.REGISTRY_AUTH_FILE;
  return { ...env, ...extra };
}

function speck(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [SPECK, ...args],
      { encoding: "utf8", env: options.env ?? cleanEnv() },
      (error, stdout, stderr) => {
        outputs.push(stdout, stderr);
        resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const r = spawnSync(command, args, {
    encoding: "utf8",
    env: options.env ?? process.env,
    input: options.input ?? "",
  });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

const digestLine = (out: string) => /^ {2}digest +(sha256:[0-9a-f]{64})$/m.exec(out)?.[1];

/** The digest of what `ref` names, from the bytes skopeo fetches (asynchronously: the token server answers it). */
function skopeoDigest(ref: string, creds: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "skopeo",
      ["inspect", "--tls-verify=false", "--raw", "--creds", creds, `docker://${ref}`],
      { encoding: "buffer" },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`skopeo inspect ${ref} failed: ${stderr}`));
        else resolve(`sha256:${createHash("sha256").update(stdout).digest("hex")}`);
      },
    );
  });
}

test("Basic auth: --username with --password-stdin, docker login's config.json, a credential helper and podman's auth.json are all honoured", async (t) => {
  if (!requireCommands(t, ["docker-registry", "htpasswd", "skopeo", "docker", "podman"], INSTALL)) return;
  const host = basic!.host;
  const expected = readLayout(layout).root.digest;

  const flags = await speck(["push", layout, `${host}/acme/flags:1`, "-u", "alice", "--password-stdin"], {
    input: `${PASSWORD}\n`,
  });
  assert.equal(flags.status, 0, flags.stderr);
  assert.equal(digestLine(flags.stdout), expected);
  assert.equal(await skopeoDigest(`${host}/acme/flags:1`, `alice:${PASSWORD}`), expected);

  // docker login writes auths into the config folder; speck reads it through DOCKER_CONFIG
  const dockerConfig = join(work, "docker-config");
  run("docker", ["--config", dockerConfig, "login", host, "-u", "alice", "--password-stdin"], {
    input: PASSWORD,
  });
  assert.ok(JSON.parse(readFileSync(join(dockerConfig, "config.json"), "utf8")).auths[host].auth);
  const fromConfig = await speck(["push", layout, `${host}/acme/config:1`], {
    env: cleanEnv({ DOCKER_CONFIG: dockerConfig }),
  });
  assert.equal(fromConfig.status, 0, fromConfig.stderr);
  assert.equal(await skopeoDigest(`${host}/acme/config:1`, `alice:${PASSWORD}`), expected);

  // docker login stores through the helper named in credHelpers; speck gets them back from it
  const helperConfig = join(work, "helper-config");
  mkdirSync(helperConfig);
  writeFileSync(join(helperConfig, "config.json"), JSON.stringify({ credHelpers: { [host]: "speck-test" } }));
  const log = writeCredentialHelper(bin, "speck-test", join(work, "helper-store.json"));
  run("docker", ["--config", helperConfig, "login", host, "-u", "alice", "--password-stdin"], {
    input: PASSWORD,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  const fromHelper = await speck(["push", layout, `${host}/acme/helper:1`], {
    env: cleanEnv({ DOCKER_CONFIG: helperConfig }),
  });
  assert.equal(fromHelper.status, 0, fromHelper.stderr);
  assert.match(readFileSync(log, "utf8"), new RegExp(`^store ${host}\\n(?:.*\\n)*get ${host}\\n`));
  assert.equal(await skopeoDigest(`${host}/acme/helper:1`, `alice:${PASSWORD}`), expected);

  // podman login writes its auth.json, named by REGISTRY_AUTH_FILE
  const authFile = join(work, "auth.json");
  run(
    "podman",
    ["login", "--tls-verify=false", "--authfile", authFile, host, "-u", "alice", "--password-stdin"],
    {
      input: PASSWORD,
    },
  );
  const fromPodman = await speck(["push", layout, `${host}/acme/podman:1`], {
    env: cleanEnv({ REGISTRY_AUTH_FILE: authFile }),
  });
  assert.equal(fromPodman.status, 0, fromPodman.stderr);
  assert.equal(await skopeoDigest(`${host}/acme/podman:1`, `alice:${PASSWORD}`), expected);
});

test("wrong or missing credentials give one line naming the registry's answer and exit 2", async (t) => {
  if (!requireCommands(t, ["docker-registry", "htpasswd"], INSTALL)) return;
  const host = basic!.host;
  const wrong = await speck(["push", layout, `${host}/acme/wrong:1`, "-u", "alice", "--password-stdin"], {
    input: `not-${PASSWORD}`,
  });
  assert.equal(wrong.status, 2);
  assert.equal(
    wrong.stderr,
    `speck: ${host} rejected the credentials from --username (HTTP 401 (UNAUTHORIZED: authentication required)): log in again or fix them\n`,
  );

  const none = await speck(["push", layout, `${host}/acme/none:1`]);
  assert.equal(none.status, 2);
  assert.match(
    none.stderr,
    new RegExp(
      `^speck: ${host} asks for credentials and none were found \\(looked in .*config\\.json.*\\): run docker login ${host}, or pass --username and --password-stdin\\n$`,
    ),
  );

  const staleConfig = join(work, "stale-config");
  mkdirSync(staleConfig);
  const stale = Buffer.from(`alice:old-${PASSWORD}`).toString("base64");
  SECRETS.push(stale);
  writeFileSync(
    join(staleConfig, "config.json"),
    JSON.stringify({ auths: { [`http://${host}`]: { auth: stale } } }),
  );
  const fromStale = await speck(["push", layout, `${host}/acme/stale:1`], {
    env: cleanEnv({ DOCKER_CONFIG: staleConfig }),
  });
  assert.equal(fromStale.status, 2);
  assert.equal(
    fromStale.stderr,
    `speck: ${host} rejected the credentials from auths in ${join(staleConfig, "config.json")} (HTTP 401 (UNAUTHORIZED: authentication required)): log in again or fix them\n`,
  );
});

test("token auth: a password and an identity token get tokens with the push's scopes, a refused token is fetched again, pull-only and anonymous pushes are refused in one line", async (t) => {
  if (!requireCommands(t, ["docker-registry", "openssl", "skopeo"], INSTALL)) return;
  const host = tokenRegistry!.host;
  const expected = readLayout(layout).root.digest;
  const server = tokens!;

  const before = server.requests.length;
  const withPassword = await speck(["push", layout, `${host}/acme/tok:1`, "-u", "bob", "--password-stdin"], {
    input: PASSWORD,
  });
  assert.equal(withPassword.status, 0, withPassword.stderr);
  assert.deepEqual(server.requests.slice(before), [
    { method: "GET", user: "bob", scopes: ["repository:acme/tok:pull,push"] },
  ]);
  assert.equal(await skopeoDigest(`${host}/acme/tok:1`, `bob:${PASSWORD}`), expected);

  // the registry refuses the first token (wrong audience): speck drops it and asks again
  server.spoil(1);
  const mark = server.requests.length;
  const again = await speck(
    ["push", layout, `${host}/acme/tok2:1`, "-u", "bob", "--password-stdin", "--mount-from", "acme/tok"],
    {
      input: PASSWORD,
    },
  );
  assert.equal(again.status, 0, again.stderr);
  const asked = server.requests.slice(mark);
  assert.equal(asked.length, 2, "one refused token, one good one");
  for (const request of asked)
    assert.deepEqual(request.scopes, ["repository:acme/tok2:pull,push", "repository:acme/tok:pull"]);
  assert.match(again.stdout, /0 uploaded \(0 B\), 5 mounted from acme\/tok/);

  // an identity token from a credential helper (user <token>) goes through the OAuth2 POST
  const helperConfig = join(work, "token-helper-config");
  mkdirSync(helperConfig);
  writeFileSync(join(helperConfig, "config.json"), JSON.stringify({ credsStore: "speck-token" }));
  const store = join(work, "token-store.json");
  writeFileSync(
    store,
    JSON.stringify({ [host]: { ServerURL: host, Username: "<token>", Secret: IDENTITY_TOKEN } }),
  );
  writeCredentialHelper(bin, "speck-token", store);
  const identity = server.requests.length;
  const withToken = await speck(["push", layout, `${host}/acme/tok3:1`], {
    env: cleanEnv({ DOCKER_CONFIG: helperConfig }),
  });
  assert.equal(withToken.status, 0, withToken.stderr);
  assert.deepEqual(server.requests.slice(identity), [
    { method: "POST", user: "bob", scopes: ["repository:acme/tok3:pull,push"], grantType: "refresh_token" },
  ]);

  const readOnly = await speck(["push", layout, `${host}/acme/tok:1`, "-u", "carol", "--password-stdin"], {
    input: PASSWORD,
  });
  assert.equal(readOnly.status, 2);
  assert.match(
    readOnly.stderr,
    new RegExp(
      // pull access lets it find every blob there; the manifest is where push access is needed
      `^(speck: skipped .*\\n){5}speck: ${host} denied putting manifest sha256:[0-9a-f]{12} to the credentials from --username \\(HTTP 401 \\(UNAUTHORIZED: authentication required\\)\\): check the repository name and that they may push to it\\n$`,
    ),
  );

  const anonymous = await speck(["push", layout, `${host}/acme/anon:1`]);
  assert.equal(anonymous.status, 2);
  assert.match(
    anonymous.stderr,
    new RegExp(
      `^speck: ${host} asks for credentials and none were found \\(looked in .*\\): run docker login ${host}, or pass --username and --password-stdin\\n$`,
    ),
  );
});

test("no output of any push above holds a password, an identity token or a Basic header", (t) => {
  if (!requireCommands(t, ["docker-registry", "htpasswd", "openssl"], INSTALL)) return;
  assert.ok(outputs.length > 4);
  const all = outputs.join("\n");
  for (const secret of SECRETS) assert.equal(all.includes(secret), false, "a secret was printed");
});
