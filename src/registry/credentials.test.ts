import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeCredentialHelper } from "../../test/support/credential-helper.ts";
import { configCredentials, credentialFiles, givenCredentials } from "./credentials.ts";
import { CredentialsError } from "./errors.ts";

const work = mkdtempSync(join(tmpdir(), "speck-credentials-"));
after(() => rmSync(work, { recursive: true, force: true }));
let count = 0;

/** A fresh home with `files` (path → JSON) and an environment pointing at it. */
function home(files: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const dir = join(work, `home-${count++}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), typeof content === "string" ? content : JSON.stringify(content));
  }
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  return { dir, bin, env: { PATH: `${bin}:${process.env.PATH}`, ...env } };
}

const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString("base64");

test("credentialFiles() lists REGISTRY_AUTH_FILE, docker's config.json, then podman's auth.json files", () => {
  assert.deepEqual(credentialFiles({}, "/h"), ["/h/.docker/config.json", "/h/.config/containers/auth.json"]);
  assert.deepEqual(
    credentialFiles({ REGISTRY_AUTH_FILE: "/a.json", DOCKER_CONFIG: "/d", XDG_RUNTIME_DIR: "/run/u" }, "/h"),
    ["/a.json", "/d/config.json", "/run/u/containers/auth.json", "/h/.config/containers/auth.json"],
  );
});

test("configCredentials() reads auths entries: base64 auth, username and password, identity tokens, keys with schemes and paths", async () => {
  const { dir, env } = home({
    ".docker/config.json": {
      auths: {
        "https://registry.example:5000/v2/": { auth: auth("ann", "p:w") },
        "plain.example": { username: "bo", password: "pw" },
        "id.example": { identitytoken: "tok" },
        "https://index.docker.io/v1/": { auth: auth("hub", "hubpw") },
      },
    },
  });
  const source = configCredentials(env, dir);
  const file = join(dir, ".docker/config.json");
  assert.deepEqual(await source.find("registry.example:5000", "acme/site"), {
    kind: "basic",
    username: "ann",
    password: "p:w",
    source: `auths in ${file}`,
  });
  assert.equal((await source.find("plain.example", "x"))?.kind, "basic");
  assert.deepEqual(await source.find("id.example", "x"), {
    kind: "identity-token",
    token: "tok",
    source: `auths in ${file}`,
  });
  assert.equal((await source.find("docker.io", "library/nginx")) && "found", "found", "Docker Hub's v1 key");
  assert.equal(await source.find("other.example", "x"), undefined);
});

test("configCredentials() asks credHelpers first, then credsStore, then auths, over the helper protocol", async () => {
  const { dir, bin, env } = home({});
  const store = join(dir, "store.json");
  writeFileSync(
    store,
    JSON.stringify({
      "helped.example": { ServerURL: "helped.example", Username: "h", Secret: "hs" },
      "stored.example": { ServerURL: "stored.example", Username: "<token>", Secret: "refresh" },
      "https://index.docker.io/v1/": {
        ServerURL: "https://index.docker.io/v1/",
        Username: "d",
        Secret: "ds",
      },
    }),
  );
  const log = writeCredentialHelper(bin, "fixture", store);
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      credHelpers: { "helped.example": "fixture" },
      credsStore: "fixture",
      auths: { "auths.example": { auth: auth("a", "as") }, "helped.example": { auth: auth("not", "used") } },
    }),
  );
  const source = configCredentials({ ...env, DOCKER_CONFIG: dir }, dir);
  assert.deepEqual(await source.find("helped.example", "x"), {
    kind: "basic",
    username: "h",
    password: "hs",
    source: `docker-credential-fixture (credHelpers in ${join(dir, "config.json")})`,
  });
  assert.deepEqual(await source.find("stored.example", "x"), {
    kind: "identity-token",
    token: "refresh",
    source: `docker-credential-fixture (credsStore in ${join(dir, "config.json")})`,
  });
  // the store knows nothing of it: the auths entry counts
  assert.equal((await source.find("auths.example", "x"))?.source, `auths in ${join(dir, "config.json")}`);
  assert.equal((await source.find("docker.io", "library/x"))?.kind, "basic");
  assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), [
    "get helped.example",
    "get stored.example",
    "get auths.example",
    "get https://index.docker.io/v1/",
  ]);
});

test("REGISTRY_AUTH_FILE comes first, and podman's repository-scoped keys match the most specific", async () => {
  const { dir, env } = home({
    "auth.json": {
      auths: { "quay.example/acme": { auth: auth("team", "t") }, "quay.example": { auth: auth("all", "a") } },
    },
    ".docker/config.json": { auths: { "quay.example": { auth: auth("docker", "d") } } },
  });
  const source = configCredentials({ ...env, REGISTRY_AUTH_FILE: join(dir, "auth.json") }, dir);
  const user = async (repository: string) => {
    const found = await source.find("quay.example", repository);
    return found?.kind === "basic" ? found.username : undefined;
  };
  assert.equal(await user("acme/site"), "team");
  assert.equal(await user("other/site"), "all");
  assert.equal(await user("acmeish/site"), "all", "a key matches whole path components");
});

test("broken files and helpers are CredentialsErrors naming the file or helper, never a secret", async () => {
  const bad = home({ ".docker/config.json": "{ not json" });
  await assert.rejects(
    configCredentials(bad.env, bad.dir).find("r.example", "x"),
    (error: Error) =>
      error instanceof CredentialsError &&
      error.message === `${join(bad.dir, ".docker/config.json")} is not valid JSON: fix it or move it away`,
  );
  const missing = home({ ".docker/config.json": { credsStore: "nowhere-to-be-found" } });
  await assert.rejects(
    configCredentials(missing.env, missing.dir).find("r.example", "x"),
    /^CredentialsError: docker-credential-nowhere-to-be-found, named by credsStore in .*config\.json, is not on PATH: install it or fix the file$/,
  );
  const failing = home({ ".docker/config.json": { credHelpers: { "r.example": "broken" } } });
  writeFileSync(
    join(failing.bin, "docker-credential-broken"),
    "#!/bin/sh\necho 'keychain locked' >&2\nexit 3\n",
    { mode: 0o755 },
  );
  await assert.rejects(
    configCredentials(failing.env, failing.dir).find("r.example", "x"),
    /^CredentialsError: docker-credential-broken \(credHelpers in .*\) failed for r\.example: keychain locked$/,
  );
  const badAuth = home({
    ".docker/config.json": { auths: { "r.example": { auth: Buffer.from("no-colon").toString("base64") } } },
  });
  await assert.rejects(
    configCredentials(badAuth.env, badAuth.dir).find("r.example", "x"),
    /the "auth" value is not base64 of user:password/,
  );
});

test("givenCredentials() turns the <token> user into an identity token", async () => {
  assert.deepEqual(await givenCredentials("<token>", "t").find("r", "x"), {
    kind: "identity-token",
    token: "t",
    source: "--username",
  });
  assert.equal((await givenCredentials("u", "p").find("r", "x"))?.kind, "basic");
});
