// The differential suite for access rules: the native server built for the pack's features
// (natively on x86-64, under qemu-aarch64-static on arm64) and the preview server answer the same
// requests over the same pack with identical bytes, Date masked: IP rules from IPv4, IPv6 and
// IPv4-mapped peers, X-Forwarded-For from trusted and untrusted peers, Basic auth with right,
// wrong, missing and malformed credentials (the per-rule cache on a keep-alive connection), and
// the request corpus on paths no rule covers.

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { compileAccess } from "../../src/access/compile.ts";
import { hashPassword } from "../../src/access/password.ts";
import { encodeAccessSection } from "../../src/access/section.ts";
import { serverFeatures } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import { writePack } from "../../src/pack/write.ts";
import { type PreviewServer, startPreview } from "../../src/preview/index.ts";
import { accessErrorPages } from "../../src/site/error-pages.ts";
import { CORPUS } from "../corpus/requests.ts";
import { DATE_MASK, statuses } from "../corpus/run.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { startNative, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const ALICE = hashPassword("wonderland", 1000);
const BOB = hashPassword("builder:can we fix it", 1000);
const section = encodeAccessSection(
  compileAccess({
    auth: [
      { path: "/auth/a", realm: "Area A", users: { alice: ALICE, bob: BOB } },
      { path: "/auth/b", realm: "B", users: { bob: BOB } },
      { path: "/both", realm: "Both", users: { alice: ALICE } },
    ],
    ipRules: [
      { path: "/both", rules: ["allow 127.0.0.1", "deny all"] },
      { path: "/ip/deny", rules: ["deny all"] },
      { path: "/ip/local", rules: ["allow 127.0.0.1", "deny all"] },
      { path: "/ip/v6", rules: ["allow ::1", "deny all"] },
      { path: "/ip/net", rules: ["deny 127.0.0.0/8"] },
      { path: "/ip/xff", rules: ["allow 10.1.2.3", "allow 2001:db8::/32", "deny all"] },
    ],
    trustedProxies: ["127.0.0.1", "10.0.0.0/8"],
    proxy: [],
  }),
);
const pack = writePack({ ...CORPUS_SITE, access: { section, errors: accessErrorPages() } });

/** Where a case's connection comes from: IPv4 loopback, or IPv6 ::1. */
type From = "v4" | "v6";
interface Case {
  name: string;
  request: string;
  from?: From;
}

const get = (path: string, headers = "", from?: From): Case => ({
  name: `GET ${path} ${headers.replace(/\r\n/g, " ")}${from ?? ""}`,
  request: `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`,
  ...(from ? { from } : {}),
});
const xff = (...values: string[]) => values.map((v) => `X-Forwarded-For: ${v}\r\n`).join("");

const IP_CASES: Case[] = [
  get("/ip/deny"),
  get("/ip/deny/x/y"),
  get("/ip/deny", "", "v6"),
  get("/%69p/deny/"),
  get("/x/../ip/deny"),
  get("/ip/denyx"),
  get("/ip/local/"),
  get("/ip/local/", "", "v6"),
  get("/ip/v6"),
  get("/ip/v6", "", "v6"),
  get("/ip/net/a"),
  get("/ip/net/a", "", "v6"),
  get("/ip/xff"),
  get("/ip/xff", xff("10.1.2.3")),
  get("/ip/xff", xff("10.1.2.3"), "v6"),
  get("/ip/xff", xff("10.1.2.4")),
  get("/ip/xff", xff("10.1.2.3, 10.9.9.9")),
  get("/ip/xff", xff("10.1.2.3, 10.0.0.1")),
  get("/ip/xff", xff("10.1.2.3", "127.0.0.1")),
  get("/ip/xff", xff("10.1.2.4", "10.1.2.3")),
  get("/ip/xff", xff(" \t10.1.2.3 ,, ,\t")),
  get("/ip/xff", xff("10.1.2.3, nonsense")),
  get("/ip/xff", xff("nonsense, 10.1.2.3")),
  get("/ip/xff", xff("::ffff:10.1.2.3")),
  get("/ip/xff", xff("2001:db8::7")),
  get("/ip/xff", xff("2001:db9::7")),
  get("/ip/xff", xff("")),
  get("/ip/xff", "x-forwarded-FOR: 10.1.2.3\r\n"),
  get("/ip/xff", "X-Forwarded-Fo: 10.1.2.3\r\n"),
  get("/ip/xff", "X-Forwarded-Forx: 10.1.2.3\r\n"),
  { name: "HEAD refused", request: "HEAD /ip/deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
  {
    name: "keep-alive after 403, body dropped",
    request:
      "POST /ip/deny HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  },
  {
    name: "unknown method refused",
    request: "BREW /ip/deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  },
  { name: "HTTP/1.0 refused", request: "GET /ip/deny HTTP/1.0\r\n\r\n" },
  {
    name: "HTTP/1.0 keep-alive refused",
    request:
      "GET /ip/deny HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  },
  { name: "a bad target is a 400, before any rule", request: "GET /ip/deny/%zz HTTP/1.1\r\nHost: x\r\n\r\n" },
  { name: "a bad method on a bad target is a 405", request: "POST /ip/%2f HTTP/1.1\r\nHost: x\r\n\r\n" },
];

const basic = (credentials: string) => `Basic ${Buffer.from(credentials, "latin1").toString("base64")}`;
const auth = (path: string, value?: string, from?: From) =>
  get(path, value === undefined ? "" : `Authorization: ${value}\r\n`, from);
const ok = basic("alice:wonderland");
const AUTH_CASES: Case[] = [
  auth("/auth/a"),
  auth("/auth/a/x", ok),
  auth("/auth/a", basic("alice:wrong")),
  auth("/auth/a", basic("mallory:wonderland")),
  auth("/auth/a", basic("bob:builder:can we fix it")),
  auth("/auth/a", basic("bob:builder")),
  auth("/auth/a", basic("alice:")),
  auth("/auth/a", basic("alice")),
  auth("/auth/a", basic(":wonderland")),
  auth("/auth/a", `bAsIc   ${Buffer.from("alice:wonderland").toString("base64")}`),
  auth("/auth/a", `${ok}   `),
  auth("/auth/a", ok.replace("Basic ", "Basic\t")),
  auth("/auth/a", ok.slice(0, -1)),
  auth("/auth/a", `${ok}=`),
  auth("/auth/a", `${ok.slice(0, -2)}!=`),
  auth("/auth/a", "Basic"),
  auth("/auth/a", "Basic "),
  auth("/auth/a", "Bearer abc"),
  auth("/auth/a", ""),
  auth("/auth/a", `Basic ${"QUFB".repeat(1100)}`),
  auth("/auth/b", ok),
  auth("/auth/b", basic("bob:builder:can we fix it")),
  auth("/%61uth/a", ok),
  auth("/auth/a/../b", ok),
  auth("/both", ok),
  auth("/both", ok, "v6"),
  auth("/both"),
  get("/auth/a", `Authorization: ${ok}\r\nAuthorization: ${ok}\r\n`),
  get("/auth/a", `authorization: ${ok}\r\n`),
  get("/auth/a", `Authorizations: ${ok}\r\n`),
  { name: "HEAD 401", request: "HEAD /auth/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
  {
    name: "a POST is judged too; keep-alive after 401, its body dropped",
    request: `POST /auth/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /auth/a HTTP/1.1\r\nHost: x\r\nAuthorization: ${ok}\r\nConnection: close\r\n\r\n`,
  },
  {
    name: "the cache: one value, many requests, one connection; a wrong one in between",
    request: [ok, ok, basic("alice:wrong"), ok, basic("bob:builder:can we fix it"), ok, ok]
      .map((v) => `GET /auth/a HTTP/1.1\r\nHost: x\r\nAuthorization: ${v}\r\n\r\n`)
      .join("")
      .concat("GET /auth/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
  },
  { name: "HTTP/1.0 401", request: "GET /auth/b HTTP/1.0\r\n\r\n" },
];

/** Sends `c.request` from its address family and returns everything received until the close. */
function exchange(port: number, c: Case, ms = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const host = c.from === "v6" ? "::1" : "127.0.0.1";
    const socket = connect({ port, host }, () => {
      socket.write(Buffer.from(c.request, "latin1"));
      socket.end();
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${c.name}: no close within ${ms} ms`));
    }, ms);
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(
        Buffer.concat(chunks)
          .toString("latin1")
          .replace(/Date: [^\r]*\r\n/g, DATE_MASK),
      );
    });
  });
}

let preview: PreviewServer;
before(async () => {
  preview = await startPreview({ pack, host: "::", port: 0 });
});
after(() => preview.close());

/** Every case's answer from the preview, for comparison. */
async function expected(cases: readonly Case[]): Promise<string[]> {
  return Promise.all(cases.map((c) => exchange(preview.port, c)));
}

test("the preview refuses as the rules say (the oracle is right)", async () => {
  const answers = await expected(IP_CASES);
  const status = (name: string) => statuses(answers[IP_CASES.findIndex((c) => c.name === name)]!);
  assert.deepEqual(status("GET /ip/deny "), [403]);
  assert.deepEqual(status("GET /ip/local/ "), [200], "the SPA fallback");
  assert.deepEqual(status("GET /ip/local/ v6"), [403]);
  assert.deepEqual(status("GET /ip/v6 v6"), [200]);
  assert.deepEqual(status("GET /ip/xff X-Forwarded-For: 10.1.2.3 "), [200]);
  assert.deepEqual(status("GET /ip/xff X-Forwarded-For: 10.1.2.3 v6"), [403]);
  assert.deepEqual(status("keep-alive after 403, body dropped"), [403, 200]);
  assert.match(answers[0]!, /<h1>403 Forbidden<\/h1>/);
  const authAnswers = await expected(AUTH_CASES);
  assert.deepEqual(statuses(authAnswers[0]!), [401]);
  assert.match(authAnswers[0]!, /\r\nWWW-Authenticate: Basic realm="Area A"\r\n/);
  assert.deepEqual(statuses(authAnswers[1]!), [200]);
  assert.deepEqual(statuses(authAnswers.at(-2)!), [200, 200, 401, 200, 200, 200, 200, 401]);
});

for (const target of Object.values(TARGETS)) {
  test(`${target.name}: IP rules, Basic auth and the corpus get the preview's bytes from the native server`, async (t) => {
    if (
      target.name === "a64" &&
      !requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")
    )
      return;
    const port = await freePort();
    const server = startNative(
      target,
      pack,
      { PORT: String(port), SPECK_WORKERS: "1", SPECK_LOG: "clf" },
      {
        server: { features: serverFeatures(pack) },
      },
    );
    try {
      await waitForPort(port);
      const corpus = CORPUS.map((c) => ({ name: c.name, request: c.request }));
      const cases = [...IP_CASES, ...AUTH_CASES, ...corpus];
      const want = await expected(cases);
      for (const [i, c] of cases.entries())
        assert.equal(await exchange(port, c), want[i], `${target.name}: ${c.name}`);
    } finally {
      await server.stop();
    }
    assert.equal(server.stderr(), "");
    const log = server.stdout();
    assert.match(log, /"GET \/auth\/a HTTP\/1\.1" 401 /);
    assert.ok(!log.includes(ok.slice(6)) && !/authorization/i.test(log), "Authorization is never logged");
  });
}

test("x64: a server built without the pack's access features refuses it with one line and exit code 2", async () => {
  for (const [features, message] of [
    [[], /^speck: cannot serve \S+\.pack: missing, or not a speck pack of this version\n$/],
    [
      ["ip", "trustedProxies"],
      /^speck: cannot serve \S+\.pack: the pack has access rules this server was built without\n$/,
    ],
  ] as const) {
    const port = await freePort();
    const server = startNative(TARGETS.x64, pack, { PORT: String(port) }, { server: { features } });
    assert.equal(await server.exited, 2);
    assert.equal(server.stderr().trim().split("\n").length, 1, server.stderr());
    assert.match(server.stderr(), message);
  }
});

test("x64: --health counts a 401 or 403 for / as healthy in a server with access rules", async () => {
  const guarded = writePack({
    ...CORPUS_SITE,
    access: {
      section: encodeAccessSection(
        compileAccess({
          auth: [{ path: "/", realm: "All", users: { alice: ALICE } }],
          ipRules: [],
          trustedProxies: [],
          proxy: [],
        }),
      ),
      errors: accessErrorPages(),
    },
  });
  const port = await freePort();
  const env = { PORT: String(port), SPECK_WORKERS: "1" };
  const server = startNative(TARGETS.x64, guarded, env, {
    server: { features: serverFeatures(guarded) },
    args: (pack) => [pack],
  });
  try {
    await waitForPort(port);
    const health = startNative(TARGETS.x64, guarded, env, {
      server: { features: serverFeatures(guarded) },
      args: () => ["--health"],
    });
    assert.equal(await health.exited, 0);
  } finally {
    await server.stop();
  }
});

test("x64: mutated access requests (fields, credentials, addresses, targets) get the preview's bytes", async () => {
  const INTERESTING = [
    " ",
    "\t",
    ",",
    "=",
    ":",
    "\r\n",
    "%61",
    "/..",
    "Basic ",
    "Authorization: ",
    "X-Forwarded-For: ",
    "10.1.2.3",
    "::1",
    "é",
    "\x00",
  ];
  const mutation = fc.record({
    kind: fc.constantFrom("replace", "insert", "cut"),
    at: fc.nat(),
    text: fc.constantFrom(...INTERESTING),
  });
  const cases = fc.sample(
    fc.tuple(fc.constantFrom(...IP_CASES, ...AUTH_CASES), fc.array(mutation, { minLength: 1, maxLength: 3 })),
    { numRuns: 300, seed: 8 },
  );
  const port = await freePort();
  const server = startNative(
    TARGETS.x64,
    pack,
    { PORT: String(port), SPECK_WORKERS: "1" },
    {
      server: { features: serverFeatures(pack) },
    },
  );
  try {
    await waitForPort(port);
    const deadline = Date.now() + 20_000;
    let done = 0;
    for (; done < cases.length && Date.now() < deadline; done += 10)
      await Promise.all(
        cases.slice(done, done + 10).map(async ([base, mutations]) => {
          let text = base.request;
          for (const m of mutations) {
            const at = m.at % (text.length + 1);
            if (m.kind === "replace") text = text.slice(0, at) + m.text + text.slice(at + m.text.length);
            else if (m.kind === "insert") text = text.slice(0, at) + m.text + text.slice(at);
            else text = text.slice(0, at) + text.slice(at + m.text.length);
          }
          const c = { name: JSON.stringify(text), request: Buffer.from(text, "utf8").toString("latin1") };
          const [native, oracle] = await Promise.all([exchange(port, c), exchange(preview.port, c)]);
          assert.equal(native, oracle, c.name);
        }),
      );
    assert.ok(done >= 100, `only ${done} cases within the budget`);
  } finally {
    await server.stop();
  }
});
