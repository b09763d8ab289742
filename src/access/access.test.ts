import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { constantTimeEqual, decodeBase64, parseBasicCredentials } from "./basic.ts";
import { type Cidr, parseAddress, parseCidr } from "./cidr.ts";
import { AccessError, compileAccess, parseUserLines, resolveUsers } from "./compile.ts";
import { hashPassword, parsePasswordHash, verifyPassword } from "./password.ts";
import { type AccessRules, clientAddress, firstRule, ipAllowed, underPrefix } from "./rules.ts";
import { AccessSectionError, decodeAccessSection, encodeAccessSection } from "./section.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const cidr = (s: string) => parseCidr(s) as Cidr;

test("hashPassword() is PBKDF2-HMAC-SHA256 with the salt and count in the string", () => {
  const salt = Uint8Array.from({ length: 16 }, (_, i) => i);
  const hash = hashPassword("hunter2", 1000, salt);
  assert.match(hash, /^\$pbkdf2-sha256\$i=1000\$AAECAwQFBgcICQoLDA0ODw\$[A-Za-z0-9+/]{43}$/);
  const parsed = parsePasswordHash(hash);
  assert.ok(typeof parsed === "object");
  assert.deepEqual(Buffer.from(parsed.key), pbkdf2Sync("hunter2", salt, 1000, 32, "sha256"));
  assert.equal(verifyPassword(parsed, utf8("hunter2")), true);
  assert.equal(verifyPassword(parsed, utf8("hunter3")), false);
  assert.notEqual(hashPassword("x", 1000), hashPassword("x", 1000), "a fresh salt each time");
  assert.match(
    parsePasswordHash(hash.replace("i=1000", "i=10")) as string,
    /1000 to 1000000 iterations \(it has 10\)/,
  );
  assert.match(parsePasswordHash("hunter2") as string, /as printed by speck hash-password/);
});

test("decodeBase64() decodes standard padded base64 and refuses anything else", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const text = Buffer.from(bytes).toString("base64");
      assert.deepEqual(decodeBase64(utf8(text)), bytes);
      if (text.length > 0) {
        assert.equal(decodeBase64(utf8(text.slice(1))), null, "length not a multiple of 4");
        assert.equal(decodeBase64(utf8(`${text.slice(0, -1)}*`)), null, "a character outside the alphabet");
      }
    }),
  );
  assert.equal(decodeBase64(utf8("====")), null);
  assert.equal(decodeBase64(utf8("A===")), null);
  assert.equal(decodeBase64(utf8("AA=A")), null);
});

test("parseBasicCredentials() splits at the first colon, any case of Basic, one or more spaces", () => {
  const header = (s: string, scheme = "Basic ") => utf8(scheme + Buffer.from(s).toString("base64"));
  const text = (c: ReturnType<typeof parseBasicCredentials>) =>
    c && [Buffer.from(c.user).toString(), Buffer.from(c.password).toString()];
  assert.deepEqual(text(parseBasicCredentials(header("alice:pa:ss"))), ["alice", "pa:ss"]);
  assert.deepEqual(text(parseBasicCredentials(header(":", "bAsIc   "))), ["", ""]);
  assert.equal(parseBasicCredentials(header("alice")), null, "no colon");
  assert.equal(parseBasicCredentials(header("a:b", "Bearer ")), null);
  assert.equal(parseBasicCredentials(header("a:b", "Basic")), null, "no space");
  assert.equal(parseBasicCredentials(utf8("Basic")), null);
});

test("constantTimeEqual() is equality", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) =>
      assert.equal(constantTimeEqual(a, b), Buffer.from(a).equals(Buffer.from(b))),
    ),
  );
});

test("rules match path prefixes segment-wise, first rule first", () => {
  assert.equal(underPrefix("/admin", "/admin"), true);
  assert.equal(underPrefix("/admin", "/admin/x"), true);
  assert.equal(underPrefix("/admin", "/administrator"), false);
  assert.equal(underPrefix("/", "/anything"), true);
  const rules = [{ path: "/a/b" }, { path: "/a" }];
  assert.equal(firstRule(rules, "/a/b/c"), rules[0]);
  assert.equal(firstRule(rules, "/a/c"), rules[1]);
  assert.equal(firstRule(rules, "/b"), undefined);
});

test("IP lists: the first matching entry decides; no match allows", () => {
  const rule = {
    path: "/",
    entries: [
      { allow: true, cidr: cidr("10.1.2.3") },
      { allow: false, cidr: cidr("10.0.0.0/8") },
      { allow: true, cidr: cidr("::/0") },
    ],
  };
  const at = (s: string) => parseAddress(s)!;
  assert.equal(ipAllowed(rule, at("10.1.2.3")), true);
  assert.equal(ipAllowed(rule, at("::ffff:10.1.2.3")), true);
  assert.equal(ipAllowed(rule, at("10.9.9.9")), false);
  assert.equal(ipAllowed(rule, at("::ffff:10.9.9.9")), false);
  assert.equal(ipAllowed(rule, at("11.0.0.1")), true);
  assert.equal(
    ipAllowed({ path: "/", entries: [{ allow: false, cidr: cidr("1.1.1.1") }] }, at("2.2.2.2")),
    true,
  );
});

test("clientAddress() believes X-Forwarded-For only from trusted peers, walking right to left", () => {
  const at = (s: string) => parseAddress(s)!;
  const trusted = [cidr("127.0.0.1"), cidr("10.0.0.0/8")];
  assert.deepEqual(clientAddress(at("1.2.3.4"), ["9.9.9.9"], trusted), at("1.2.3.4"), "untrusted peer");
  assert.deepEqual(clientAddress(at("127.0.0.1"), ["9.9.9.9"], trusted), at("9.9.9.9"));
  assert.deepEqual(clientAddress(at("127.0.0.1"), ["6.6.6.6, 9.9.9.9, 10.0.0.5"], trusted), at("9.9.9.9"));
  assert.deepEqual(
    clientAddress(at("127.0.0.1"), ["6.6.6.6", "10.1.1.1"], trusted),
    at("6.6.6.6"),
    "two headers",
  );
  assert.deepEqual(
    clientAddress(at("127.0.0.1"), ["junk, 10.1.1.1"], trusted),
    at("10.1.1.1"),
    "stops at junk",
  );
  assert.deepEqual(clientAddress(at("127.0.0.1"), [], trusted), at("127.0.0.1"));
});

const ruleSets = fc.record({
  trustedProxies: fc.array(
    fc.ipV4().map((a) => cidr(a)),
    { maxLength: 3 },
  ),
  ip: fc.array(
    fc.record({
      path: fc.constantFrom("/", "/admin", "/é"),
      entries: fc.array(
        fc.record({ allow: fc.boolean(), cidr: fc.oneof(fc.ipV4(), fc.ipV6()).map((a) => cidr(a)) }),
        { maxLength: 4 },
      ),
    }),
    { maxLength: 3 },
  ),
  auth: fc.array(
    fc.record({
      path: fc.string({ maxLength: 10 }).map((s) => `/${s}`),
      // as the config accepts them: printable ASCII without " or \
      realm: fc.stringMatching(/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,10}$/),
      source: fc.oneof(
        fc.record({ kind: fc.constant("env" as const), name: fc.string({ maxLength: 8 }) }),
        fc.record({ kind: fc.constant("file" as const), path: fc.string({ maxLength: 8 }) }),
        fc.record({
          kind: fc.constant("users" as const),
          users: fc.array(
            fc.record({
              name: fc.string({ maxLength: 8 }),
              iterations: fc.integer({ min: 1000, max: 1_000_000 }),
              salt: fc.uint8Array({ minLength: 16, maxLength: 16 }),
              key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
            }),
            { maxLength: 3 },
          ),
        }),
      ),
    }),
    { maxLength: 3 },
  ),
  proxy: fc.array(
    fc.record({
      path: fc.constantFrom("/api", "/x/y"),
      host: fc.constantFrom("127.0.0.1", "api", "::1"),
      port: fc.integer({ min: 1, max: 65535 }),
      base: fc.constantFrom("", "/base"),
      connectTimeout: fc.integer({ min: 1, max: 3_600_000 }),
      timeout: fc.integer({ min: 1, max: 3_600_000 }),
      maxBody: fc.maxSafeNat(),
    }),
    { maxLength: 2 },
  ),
});

test("the access section decodes to the rules it encodes, 8-byte aligned", () => {
  fc.assert(
    fc.property(ruleSets, (rules: AccessRules) => {
      const bytes = encodeAccessSection(rules);
      assert.equal(bytes.length % 8, 0);
      const decoded = decodeAccessSection(bytes);
      const plain = (r: AccessRules) =>
        JSON.parse(JSON.stringify(r, (_, v) => (v instanceof Uint8Array ? [...v] : v)));
      assert.deepEqual(plain(decoded), plain(rules));
    }),
    { numRuns: 300 },
  );
});

test("a damaged access section is refused with what is wrong, never decoded into other rules", () => {
  const rules = compileAccess({
    auth: [{ path: "/a/", realm: "A", users: { bob: hashPassword("pw", 1000) } }],
    ipRules: [{ path: "/", rules: ["deny 10.0.0.0/8"] }],
    trustedProxies: [],
    proxy: [],
  });
  const bytes = encodeAccessSection(rules);
  assert.throws(() => decodeAccessSection(bytes.subarray(0, 8)), /no "SPKACC01" magic/);
  assert.throws(() => decodeAccessSection(bytes.subarray(0, bytes.length - 8)), AccessSectionError);
  const wrongKind = bytes.slice();
  wrongKind[16] = 9;
  assert.throws(() => decodeAccessSection(wrongKind), /rule 0 has the unknown kind 9/);
  fc.assert(
    fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
      const damaged = bytes.slice();
      damaged[at] = value;
      try {
        decodeAccessSection(damaged);
      } catch (error) {
        assert.ok(error instanceof AccessSectionError, String(error));
      }
    }),
    { numRuns: 500 },
  );
});

test("resolveUsers() reads env and file sources, and refuses to start without them, naming the rule", () => {
  const dir = mkdtempSync(join(tmpdir(), "speck-access-"));
  try {
    const alice = hashPassword("a", 1000);
    const bob = hashPassword("b", 1000);
    const file = join(dir, "users");
    writeFileSync(file, `# comment\n\nbob:${bob}\nalice:${alice}\n`);
    const rules = compileAccess({
      auth: [
        { path: "/e", realm: "E", usersFrom: { env: "USERS" } },
        { path: "/f", realm: "F", usersFrom: { file: "/nonexistent/users" } },
      ],
      ipRules: [],
      trustedProxies: [],
      proxy: [],
    });
    const resolved = resolveUsers(rules, { USERS: `bob:${bob} alice:${alice}`, SPECK_AUTH_FILE: file });
    for (const rule of resolved.auth) {
      assert.equal(rule.source.kind, "users");
      if (rule.source.kind === "users")
        assert.deepEqual(
          rule.source.users.map((u) => u.name),
          ["alice", "bob"],
        );
    }
    assert.throws(
      () => resolveUsers(rules, { SPECK_AUTH_FILE: file }),
      (e: Error) =>
        e instanceof AccessError &&
        /auth rule 0 \(path "\/e", realm "E"\): the environment variable USERS is not set/.test(e.message),
    );
    assert.throws(
      () => resolveUsers(rules, { USERS: `bob:${bob}` }),
      /auth rule 1 \(path "\/f", realm "F"\): cannot read the credential file \/nonexistent\/users \(ENOENT\); refusing to serve unprotected/,
    );
    assert.throws(
      () => resolveUsers(rules, { USERS: "bob:plaintext-secret" }),
      (e: Error) => {
        assert.match(e.message, /USERS, line 1: not accepted/);
        assert.doesNotMatch(e.message, /plaintext-secret/, "a secret is never repeated");
        return true;
      },
    );
    assert.throws(() => parseUserLines("# nobody\n", "x"), /no "user:hash" entries/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
