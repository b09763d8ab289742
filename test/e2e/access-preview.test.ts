// Basic auth and IP rules in the preview server, driven by the access section's bytes: real sockets,
// curl as a client, pipelined requests answered in order, X-Forwarded-For believed only from
// trusted proxies, IPv4-mapped IPv6 peers matching IPv4 rules, and run-time credential sources.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { hashPassword } from "../../src/access/password.ts";
import { type SpeckConfigInput, validateConfig } from "../../src/config/index.ts";
import { writePack } from "../../src/pack/write.ts";
import { type AccessLogEntry, type PreviewServer, startPreview } from "../../src/preview/index.ts";
import { compileSite } from "../../src/site/index.ts";
import { requireCommands } from "../support/tools.ts";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "speck-access-preview-"));
after(() => rmSync(work, { recursive: true, force: true }));
const root = join(work, "site");
for (const [path, body] of [
  ["index.html", "<h1>home</h1>\n"],
  ["admin/index.html", "<h1>admin</h1>\n"],
  ["private/index.html", "<h1>private</h1>\n"],
  ["team/index.html", "<h1>team</h1>\n"],
]) {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), body!);
}
const ALICE = hashPassword("wonderland", 1000);
const BOB = hashPassword("builder:can we fix it", 1000);

/** A preview server over the test site with `options`' access rules (and its access log). */
async function serve(
  options: SpeckConfigInput,
  host = "127.0.0.1",
): Promise<{ server: PreviewServer; log: AccessLogEntry[] }> {
  const config = validateConfig({ ...options, compression: { encodings: [] } }, "test", root);
  const { input } = await compileSite(config, { cacheDir: null });
  const log: AccessLogEntry[] = [];
  const server = await startPreview({
    pack: writePack(input),
    host,
    port: 0,
    onRequest: (entry) => log.push(entry),
  });
  return { server, log };
}

/** Sends raw bytes on one connection and returns everything received until the server closes or `ms` pass. */
function exchange(port: number, bytes: string, host = "127.0.0.1", ms = 1500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host }, () => socket.write(bytes, "latin1"));
    let got = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (got += d));
    socket.on("error", reject);
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const statuses = (text: string) => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));

test("Basic auth: 401 with the realm until the right user and password, other paths open", async () => {
  const { server, log } = await serve({
    auth: [{ path: "/admin/", realm: "Admin area", users: { alice: ALICE, bob: BOB } }],
  });
  try {
    const url = `http://127.0.0.1:${server.port}`;
    const none = await fetch(`${url}/admin/`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), 'Basic realm="Admin area"');
    assert.doesNotMatch(await none.text(), /admin<\/h1>/);
    for (const [user, password] of [
      ["alice", "wonderlanD"],
      ["alicE", "wonderland"],
      ["mallory", "wonderland"],
      ["alice", ""],
    ])
      assert.equal(
        (await fetch(`${url}/admin/`, { headers: { authorization: basic(user!, password!) } })).status,
        401,
        `${user}:${password}`,
      );
    for (const value of [
      "Bearer abc",
      "Basic !!!!",
      "Basic",
      `Basic ${Buffer.from("alice").toString("base64")}`,
    ])
      assert.equal((await fetch(`${url}/admin/`, { headers: { authorization: value } })).status, 401, value);
    const ok = await fetch(`${url}/admin/`, { headers: { authorization: basic("alice", "wonderland") } });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "<h1>admin</h1>\n");
    const colon = await fetch(`${url}/admin/`, {
      headers: { authorization: `bAsIc  ${Buffer.from("bob:builder:can we fix it").toString("base64")}` },
    });
    assert.equal(colon.status, 200, "the password may hold colons; scheme in any case");
    assert.equal((await fetch(`${url}/admin`)).status, 401, "the prefix covers /admin itself");
    assert.equal((await fetch(`${url}/%61dmin/`)).status, 401, "matched after percent-decoding");
    assert.equal((await fetch(`${url}/x/../admin/`)).status, 401, "matched after dot segments");
    assert.equal((await fetch(`${url}/team/`)).status, 200, "other paths need nothing");
    assert.equal((await fetch(`${url}/`)).status, 200);
    const head = await exchange(server.port, "HEAD /admin/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.match(head, /\r\n\r\n$/, "HEAD: no body");
    assert.ok(
      log.every((e) => !JSON.stringify(e).includes("Basic")),
      "Authorization is never logged",
    );
  } finally {
    await server.close();
  }
});

test("curl -u logs in; pipelined requests with mixed verdicts are answered in order on one connection", async (t) => {
  const { server } = await serve({ auth: [{ path: "/admin", realm: "A", users: { alice: ALICE } }] });
  try {
    if (requireCommands(t, ["curl"], "apt-get install curl")) {
      const { stdout } = await run("curl", [
        "-s",
        "-u",
        "alice:wonderland",
        `http://127.0.0.1:${server.port}/admin/`,
      ]);
      assert.equal(stdout, "<h1>admin</h1>\n");
      const denied = await run("curl", [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-u",
        "alice:x",
        `http://127.0.0.1:${server.port}/admin/`,
      ]);
      assert.equal(denied.stdout, "401");
    }
    const good = basic("alice", "wonderland");
    const pipelined = [
      "GET /admin/ HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      `GET /admin/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${good}\r\n\r\n`,
      "POST /admin/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
      `GET /admin/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${good}\r\n\r\n`,
      "GET /team/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ].join("");
    const got = await exchange(server.port, pipelined);
    assert.deepEqual(statuses(got), [401, 200, 200, 401, 200, 200]);
    assert.equal(got.split("<h1>admin</h1>").length - 1, 2);
    const split = await exchange(
      server.port,
      `GET /admin/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${good}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(split, /^HTTP\/1\.1 200 /, "the cached value is accepted again");
  } finally {
    await server.close();
  }
});

test("IP rules: first match decides, X-Forwarded-For only from trusted proxies", async () => {
  const untrusted = await serve({
    ipRules: [
      { path: "/private", rules: ["allow 10.0.0.0/8", "deny all"] },
      { path: "/", rules: ["deny 192.0.2.0/24"] },
    ],
  });
  const trusted = await serve({
    ipRules: [
      { path: "/private", rules: ["allow 10.1.2.3", "deny 10.0.0.0/8", "allow 10.0.0.0/7", "deny all"] },
    ],
    trustedProxies: ["127.0.0.1"],
  });
  try {
    const get = (port: number, path: string, xff?: string) =>
      fetch(`http://127.0.0.1:${port}${path}`, { headers: xff ? { "x-forwarded-for": xff } : {} }).then(
        (r) => r.status,
      );
    assert.equal(await get(untrusted.server.port, "/private/"), 403);
    assert.equal(
      await get(untrusted.server.port, "/private/", "10.1.2.3"),
      403,
      "an untrusted peer's XFF is ignored",
    );
    assert.equal(await get(untrusted.server.port, "/"), 200);
    assert.equal(await get(untrusted.server.port, "/", "192.0.2.1"), 200);
    assert.equal(await get(trusted.server.port, "/private/"), 403, "127.0.0.1 itself: deny all");
    assert.equal(await get(trusted.server.port, "/private/", "10.1.2.3"), 200);
    assert.equal(await get(trusted.server.port, "/private/", "10.9.9.9"), 403);
    assert.equal(await get(trusted.server.port, "/private/", "11.0.0.1"), 200);
    assert.equal(
      await get(trusted.server.port, "/private/", "10.1.2.3, 127.0.0.1"),
      200,
      "trusted hops are skipped",
    );
    assert.equal(
      await get(trusted.server.port, "/private/", "10.1.2.3, 12.0.0.1"),
      403,
      "the first untrusted hop is the client",
    );
    assert.equal(await get(trusted.server.port, "/", "10.9.9.9"), 200, "rules cover their paths only");
    const forbidden = await fetch(`http://127.0.0.1:${untrusted.server.port}/private/`);
    assert.match(await forbidden.text(), /<h1>403 Forbidden<\/h1>/, "the pack's 403 page");
  } finally {
    await untrusted.server.close();
    await trusted.server.close();
  }
});

test("IP rules on a dual-stack listener: IPv4 clients arrive as ::ffff:a.b.c.d and match IPv4 rules; ::1 matches IPv6 ones", async () => {
  const { server } = await serve(
    {
      ipRules: [
        { path: "/private", rules: ["deny 127.0.0.0/8", "allow all"] },
        { path: "/team", rules: ["deny ::1"] },
      ],
    },
    "::",
  );
  try {
    const status = (host: string, path: string) =>
      exchange(server.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, host).then(
        (t) => statuses(t)[0],
      );
    assert.equal(await status("127.0.0.1", "/private/"), 403);
    assert.equal(await status("::1", "/private/"), 200);
    assert.equal(await status("::1", "/team/"), 403);
    assert.equal(await status("127.0.0.1", "/team/"), 200);
  } finally {
    await server.close();
  }
});

test("users from an environment variable or a secret file; a missing source stops the server naming the rule", async () => {
  const file = join(work, "users");
  writeFileSync(file, `# team\nbob:${BOB}\n`);
  process.env.SPECK_TEST_USERS = `alice:${ALICE}`;
  try {
    const { server } = await serve({
      auth: [
        { path: "/admin", realm: "A", usersFrom: { env: "SPECK_TEST_USERS" } },
        { path: "/team", realm: "T", usersFrom: { file } },
      ],
    });
    try {
      const get = (path: string, auth: string) =>
        fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { authorization: auth } }).then(
          (r) => r.status,
        );
      assert.equal(await get("/admin/", basic("alice", "wonderland")), 200);
      assert.equal(await get("/admin/", basic("bob", "builder:can we fix it")), 401);
      assert.equal(await get("/team/", basic("bob", "builder:can we fix it")), 200);
    } finally {
      await server.close();
    }
    delete process.env.SPECK_TEST_USERS;
    await assert.rejects(
      serve({ auth: [{ path: "/admin", realm: "A", usersFrom: { env: "SPECK_TEST_USERS" } }] }),
      /auth rule 0 \(path "\/admin", realm "A"\): the environment variable SPECK_TEST_USERS is not set; refusing to serve unprotected/,
    );
    await assert.rejects(
      serve({ auth: [{ path: "/team", realm: "T", usersFrom: { file: join(work, "missing") } }] }),
      /auth rule 0 \(path "\/team", realm "T"\): cannot read the credential file .*missing \(ENOENT\)/,
    );
  } finally {
    delete process.env.SPECK_TEST_USERS;
  }
});

test("the access front keeps the preview's time-outs: 408 for a stalled head, close when idle", async () => {
  const config = validateConfig(
    { compression: { encodings: [] }, auth: [{ path: "/admin", realm: "A", users: { alice: ALICE } }] },
    "test",
    root,
  );
  const { input } = await compileSite(config, { cacheDir: null });
  const timeouts = { header: 300, idle: 900 };
  const { access: _, ...plainInput } = input;
  const guarded = await startPreview({ pack: writePack(input), port: 0, timeouts });
  const plain = await startPreview({ pack: writePack(plainInput), port: 0, timeouts });
  try {
    const timed = async (port: number, bytes: string) => {
      const started = Date.now();
      const got = await exchange(port, bytes, "127.0.0.1", 5000);
      return { got: got.replace(/Date: [^\r]*/g, "Date: -"), ms: Date.now() - started };
    };
    const [stalled, stalledPlain] = await Promise.all([
      timed(guarded.port, "GET /admin/ HTTP/1.1\r\nHost: x\r\n"),
      timed(plain.port, "GET /admin/ HTTP/1.1\r\nHost: x\r\n"),
    ]);
    assert.match(stalled.got, /^HTTP\/1\.1 408 /);
    assert.equal(stalled.got, stalledPlain.got, "the same 408 as the plain preview");
    assert.ok(stalled.ms >= 250 && stalled.ms < 850, `408 after the header time-out (${stalled.ms} ms)`);
    const idle = await timed(guarded.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.deepEqual(statuses(idle.got), [200]);
    assert.ok(idle.ms >= 850 && idle.ms < 3000, `closed after the idle time-out (${idle.ms} ms)`);
  } finally {
    await guarded.close();
    await plain.close();
  }
});
