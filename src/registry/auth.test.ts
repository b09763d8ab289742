import assert from "node:assert/strict";
import { test } from "node:test";
import { Authenticator, parseToken } from "./auth.ts";
import type { Challenge } from "./challenge.ts";
import type { Credentials } from "./credentials.ts";
import { CredentialsError } from "./errors.ts";
import type { HttpRequest, HttpResponse } from "./transport.ts";

const json = (status: number, body: unknown): HttpResponse => ({
  status,
  headers: {},
  body: Buffer.from(JSON.stringify(body)),
});
const bearer: Challenge = {
  scheme: "bearer",
  params: { realm: "https://auth.example/token", service: "reg" },
};

/** An Authenticator whose token server is a function, with a clock the test moves. */
function authenticator(
  credentials: Credentials | undefined,
  answer: (request: HttpRequest, n: number) => HttpResponse,
) {
  const requests: HttpRequest[] = [];
  const clock = { now: Date.parse("2030-01-01T00:00:00Z") };
  const auth = new Authenticator({
    registry: "reg.example",
    scopes: ["repository:acme/site:pull,push", "repository:acme/base:pull"],
    credentials: async () => credentials,
    searched: "~/.docker/config.json",
    send: async (request) => {
      requests.push(request);
      return answer(request, requests.length);
    },
    now: () => clock.now,
  });
  return { auth, requests, clock };
}

test("parseToken() takes token or access_token, at least 60 s from issued_at unless the clocks disagree", () => {
  const at = Date.parse("2030-01-01T00:00:00Z");
  const parse = (body: unknown) => parseToken(Buffer.from(JSON.stringify(body)), at, "t");
  assert.deepEqual(parse({ token: "a", expires_in: 300 }), { header: "Bearer a", expiresAt: at + 300_000 });
  assert.equal(parse({ access_token: "b", token: "a" }).header, "Bearer b");
  assert.equal(
    parse({ token: "a", expires_in: 5 }).expiresAt,
    at + 60_000,
    "shorter than 60 s counts as 60 s",
  );
  assert.equal(parse({ token: "a" }).expiresAt, at + 60_000);
  assert.equal(
    parse({ token: "a", expires_in: 300, issued_at: "2029-12-31T23:59:00Z" }).expiresAt,
    at + 240_000,
    "issued a minute ago by a clock that agrees",
  );
  assert.equal(
    parse({ token: "a", expires_in: 300, issued_at: "2029-12-31T20:00:00Z" }).expiresAt,
    at + 300_000,
    "a clock hours behind would make it expired: the local time counts",
  );
  assert.equal(
    parse({ token: "a", expires_in: 300, issued_at: "2030-01-01T03:00:00Z" }).expiresAt,
    at + 300_000,
  );
  assert.throws(() => parse({ nothing: true }), /t answered without a token/);
  assert.throws(() => parseToken(Buffer.from("<html>"), at, "t"), /not JSON/);
});

test("a Bearer token is asked with Basic credentials and every scope, kept, refreshed near expiry and after a 401", async () => {
  const { auth, requests, clock } = authenticator(
    { kind: "basic", username: "ann", password: "pw", source: "--username" },
    (_, n) => json(200, { token: `t${n}`, expires_in: 120 }),
  );
  auth.challenged(bearer);
  assert.equal(await auth.authorization(), "Bearer t1");
  const url = requests[0]!.url;
  assert.equal(url.origin + url.pathname, "https://auth.example/token");
  assert.equal(url.searchParams.get("service"), "reg");
  assert.deepEqual(url.searchParams.getAll("scope"), [
    "repository:acme/site:pull,push",
    "repository:acme/base:pull",
  ]);
  assert.equal(url.searchParams.get("account"), "ann");
  assert.equal(requests[0]!.headers?.authorization, `Basic ${Buffer.from("ann:pw").toString("base64")}`);

  clock.now += 100_000;
  assert.equal(await auth.authorization(), "Bearer t1", "still 20 s to go");
  clock.now += 16_000;
  assert.equal(await auth.authorization(), "Bearer t2", "refreshed 5 s before it expires");

  auth.rejected("Bearer t1", undefined);
  assert.equal(await auth.authorization(), "Bearer t2", "a 401 to an old token keeps the newer one");
  auth.rejected("Bearer t2", undefined);
  assert.equal(await auth.authorization(), "Bearer t3");
  assert.equal(requests.length, 3);
});

test("concurrent requests share one token fetch; anonymous tokens are fetched without credentials", async () => {
  const { auth, requests } = authenticator(undefined, (_, n) => json(200, { token: `anon${n}` }));
  auth.challenged(bearer);
  const headers = await Promise.all([auth.authorization(), auth.authorization(), auth.authorization()]);
  assert.deepEqual(headers, ["Bearer anon1", "Bearer anon1", "Bearer anon1"]);
  assert.equal(requests.length, 1);
  assert.equal(requests[0]!.headers?.authorization, undefined);
});

test("an identity token goes as refresh_token in the OAuth2 POST", async () => {
  const { auth, requests } = authenticator(
    { kind: "identity-token", token: "refresh-me", source: "helper" },
    () => json(200, { access_token: "fresh", expires_in: 300 }),
  );
  auth.challenged(bearer);
  assert.equal(await auth.authorization(), "Bearer fresh");
  assert.equal(requests[0]!.method, "POST");
  assert.equal(requests[0]!.headers?.["content-type"], "application/x-www-form-urlencoded");
  const form = new URLSearchParams(Buffer.from(requests[0]!.body!).toString());
  assert.deepEqual(Object.fromEntries(form), {
    grant_type: "refresh_token",
    refresh_token: "refresh-me",
    client_id: "speck",
    service: "reg",
    scope: "repository:acme/site:pull,push repository:acme/base:pull",
  });
});

test("Basic challenges get the user and password; refusals are one-line CredentialsErrors without the secret", async () => {
  const { auth } = authenticator(
    { kind: "basic", username: "ann", password: "s3cret", source: "auths in c.json" },
    () => json(401, { errors: [{ code: "UNAUTHORIZED", message: "bad" }] }),
  );
  auth.challenged({ scheme: "basic", params: { realm: "r" } });
  assert.equal(await auth.authorization(), `Basic ${Buffer.from("ann:s3cret").toString("base64")}`);
  const refused = await auth.refusal(
    "checking blob x",
    json(401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }),
    undefined,
  );
  assert.ok(refused instanceof CredentialsError);
  assert.equal(
    refused.message,
    "reg.example rejected the credentials from auths in c.json (HTTP 401 (UNAUTHORIZED: authentication required)): log in again or fix them",
  );
  const denied = await auth.refusal(
    "putting manifest m",
    { status: 401, headers: {}, body: new Uint8Array() },
    {
      scheme: "bearer",
      params: { error: "insufficient_scope" },
    },
  );
  assert.equal(
    denied.message,
    "reg.example denied putting manifest m to the credentials from auths in c.json (HTTP 401 (insufficient_scope)): check the repository name and that they may push to it",
  );

  const { auth: tokenAuth } = authenticator(
    { kind: "basic", username: "ann", password: "s3cret", source: "--username" },
    () => json(401, { errors: [{ code: "UNAUTHORIZED", message: "wrong password" }] }),
  );
  tokenAuth.challenged(bearer);
  await assert.rejects(tokenAuth.authorization(), (error: Error) => {
    assert.ok(error instanceof CredentialsError);
    assert.equal(
      error.message,
      "the token server auth.example rejected the credentials from --username for reg.example (HTTP 401 (UNAUTHORIZED: wrong password)): log in again or fix them",
    );
    assert.equal(error.message.includes("s3cret"), false);
    return true;
  });
});
