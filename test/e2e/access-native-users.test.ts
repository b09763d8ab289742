// Users read when the native server starts (usersFrom: an environment variable or a secret file,
// SPECK_AUTH_FILE replacing every file path), natively on x86-64 and under qemu-aarch64 on arm64:
// they log in exactly as in the preview given the same environment, and a source that is missing,
// unreadable, empty or holds a bad entry stops the server with exit code 2 and the very line the
// preview gives (src/access/compile.ts, resolveUsers), naming the rule, never the entry.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, type TestContext, test } from "node:test";
import { AccessError, compileAccess, resolveUsers } from "../../src/access/compile.ts";
import { hashPassword } from "../../src/access/password.ts";
import { decodeAccessSection, encodeAccessSection } from "../../src/access/section.ts";
import { serverFeatures } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import type { Target } from "../../src/native/target/types.ts";
import { writePack } from "../../src/pack/write.ts";
import { startPreview } from "../../src/preview/index.ts";
import { accessErrorPages } from "../../src/site/error-pages.ts";
import { exchange } from "../corpus/run.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { startNative, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-access-users-"));
after(() => rmSync(work, { recursive: true, force: true }));
const file = join(work, "users");
const section = encodeAccessSection(
  compileAccess({
    auth: [
      { path: "/in-pack", realm: "P", users: { pat: hashPassword("pack", 1000) } },
      { path: "/env", realm: "Env", usersFrom: { env: "SPECK_TEST_USERS" } },
      { path: "/file", realm: "File", usersFrom: { file } },
    ],
    ipRules: [],
    trustedProxies: [],
    proxy: [],
  }),
);
const pack = writePack({ ...CORPUS_SITE, access: { section, errors: accessErrorPages() } });
const features = serverFeatures(pack);

const ALICE = `alice:${hashPassword("wonderland", 1000)}`;
const BOB = `bob:${hashPassword("builder", 1000)}`;
writeFileSync(file, `# the team\r\n\r\n  ${BOB}\t${ALICE}  \r\n`);
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;
const get = (path: string, credentials?: string) =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${credentials ? `Authorization: ${basic(credentials)}\r\n` : ""}Connection: close\r\n\r\n`;
const REQUESTS = [
  get("/env"),
  get("/env", "alice:wonderland"),
  get("/env", "bob:builder"),
  get("/env", "alice:wrong"),
  get("/file", "bob:builder"),
  get("/file", "alice:wonderland"),
  get("/file", "carol:x"),
  get("/in-pack", "pat:pack"),
];

const skipA64 = (target: Target, t: TestContext) =>
  target.name === "a64" && !requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static");

for (const target of Object.values(TARGETS)) {
  test(`${target.name}: users from the environment and from a file log in as in the preview`, async (t) => {
    if (skipA64(target, t)) return;
    const env = { SPECK_TEST_USERS: `${ALICE}\n# and\n${BOB}\n` };
    const preview = await startPreview({ pack, port: 0, env });
    const port = await freePort();
    const native = startNative(
      target,
      pack,
      { PORT: String(port), SPECK_WORKERS: "1", ...env },
      {
        server: { features },
      },
    );
    try {
      await waitForPort(port);
      for (const request of REQUESTS)
        assert.equal(await exchange(port, request), await exchange(preview.port, request), request);
    } finally {
      await native.stop();
      await preview.close();
    }
  });

  test(`${target.name}: a source that cannot be used stops the server with the preview's line and exit code 2`, async (t) => {
    if (skipA64(target, t)) return;
    const dir = join(work, "a-folder");
    mkdirSync(dir, { recursive: true });
    const write = (name: string, text: string) => {
      writeFileSync(join(work, name), text);
      return join(work, name);
    };
    const cases: Record<string, string>[] = [
      {},
      { SPECK_TEST_USERS: "" },
      { SPECK_TEST_USERS: "# nobody\n\n" },
      { SPECK_TEST_USERS: `${ALICE}\n${BOB} carol` },
      { SPECK_TEST_USERS: `${ALICE} # not a comment` },
      { SPECK_TEST_USERS: `${"x".repeat(65)}${ALICE.slice(5)}` },
      { SPECK_TEST_USERS: ALICE.replace("i=1000", "i=999") },
      { SPECK_TEST_USERS: ALICE.replace("i=1000", "i=01000") },
      { SPECK_TEST_USERS: ALICE.slice(0, -1) },
      { SPECK_TEST_USERS: `${ALICE}x` },
      { SPECK_TEST_USERS: `${ALICE.slice(0, -1)}!` },
      { SPECK_TEST_USERS: ALICE.replace("alice:", "al\u00e9:") },
      { SPECK_TEST_USERS: ALICE, SPECK_AUTH_FILE: join(work, "missing") },
      { SPECK_TEST_USERS: ALICE, SPECK_AUTH_FILE: dir },
      { SPECK_TEST_USERS: ALICE, SPECK_AUTH_FILE: write("empty", "") },
      { SPECK_TEST_USERS: ALICE, SPECK_AUTH_FILE: write("bad", `${ALICE}\n\nbob:secret\n`) },
    ];
    for (const env of cases) {
      let expected = "";
      try {
        resolveUsers(decodeAccessSection(section), env);
      } catch (error) {
        assert.ok(error instanceof AccessError, String(error));
        expected = `speck: ${error.message}\n`;
      }
      assert.notEqual(expected, "", `the preview refuses ${JSON.stringify(env)}`);
      const native = startNative(
        target,
        pack,
        { PORT: String(await freePort()), ...env },
        { server: { features } },
      );
      assert.equal(await native.exited, 2, JSON.stringify(env));
      assert.equal(native.stderr(), expected);
      assert.ok(!native.stderr().includes(ALICE.slice(-20)), "an entry is never repeated");
    }
    // an empty SPECK_AUTH_FILE keeps the rule's own path
    const port = await freePort();
    const started = startNative(
      target,
      pack,
      { PORT: String(port), SPECK_TEST_USERS: ALICE, SPECK_AUTH_FILE: "" },
      {
        server: { features },
      },
    );
    try {
      await waitForPort(port);
      assert.match(await exchange(port, get("/file", "bob:builder")), /^HTTP\/1\.1 200 /);
    } finally {
      await started.stop();
    }
  });
}
