import assert from "node:assert/strict";
import { test } from "node:test";
import { compileAccess } from "../access/compile.ts";
import { hashPassword } from "../access/password.ts";
import { ConfigError, validateConfig } from "./load.ts";

/** The problem lines of the ConfigError `input` gives. */
function problems(input: unknown): string[] {
  try {
    validateConfig(input, "speck.config.json", "/site");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const [first, ...rest] = e.message.split("\n");
    return rest.length > 0
      ? rest.map((l) => l.trim())
      : [first!.replace(/^invalid configuration in [^:]+: /, "")];
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(input)}`);
}

const hash = hashPassword("correct horse", 1000);

test("access options default to nothing and compile into rules", () => {
  const empty = validateConfig({}, "x", "/");
  assert.deepEqual([empty.auth, empty.ipRules, empty.trustedProxies, empty.proxy], [[], [], [], []]);
  const config = validateConfig(
    {
      auth: [{ path: "/admin/", realm: "Admin", users: { zed: hash, alice: hash } }],
      ipRules: [{ path: "/admin", rules: ["allow 10.1.2.3", "deny 10.0.0.0/8", "allow ::1"] }],
      trustedProxies: ["127.0.0.1", "fd00::/8"],
      proxy: [{ path: "/api/", upstream: "http://[::1]:3000/v1/" }],
    },
    "x",
    "/",
  );
  const rules = compileAccess(config);
  assert.equal(rules.auth[0]!.path, "/admin");
  assert.deepEqual(rules.auth[0]!.source.kind === "users" && rules.auth[0]!.source.users.map((u) => u.name), [
    "alice",
    "zed",
  ]);
  assert.deepEqual(
    rules.ip[0]!.entries.map((e) => [e.allow, e.cidr.bits]),
    [
      [true, 128],
      [false, 104],
      [true, 128],
    ],
  );
  assert.deepEqual(rules.proxy[0], {
    path: "/api",
    host: "::1",
    port: 3000,
    base: "/v1",
    connectTimeout: 5000,
    timeout: 30000,
    maxBody: 10 * 1024 * 1024,
  });
});

test("bad access options give one line each, naming the rule, the value and the fix", () => {
  const cases: [unknown, RegExp][] = [
    [
      { ipRules: [{ path: "/", rules: ["allow 10.0.0.0/33"] }] },
      /^ipRules\[0\]\.rules\[0\]: "allow 10\.0\.0\.0\/33" is not accepted; .*"\/33" is not 0 to 32/,
    ],
    [
      { ipRules: [{ path: "/", rules: ["permit all"] }] },
      /^ipRules\[0\]\.rules\[0\]: "permit all" is not accepted; use "allow" or "deny"/,
    ],
    [{ trustedProxies: ["10.0.0.1/8"] }, /^trustedProxies\[0\]: .*did you mean 10\.0\.0\.0\/8\?/],
    [
      { proxy: [{ path: "/api", upstream: "https://api:443" }] },
      /^proxy\[0\]\.upstream: "https:\/\/api:443" is not accepted; .*scheme "https" is not supported/,
    ],
    [
      { proxy: [{ path: "/api", upstream: "api:3000" }] },
      /^proxy\[0\]\.upstream: .*http:\/\/host:port\/base/,
    ],
    [
      { proxy: [{ path: "/api", upstream: `http://api/${"a".repeat(2048)}` }] },
      /^proxy\[0\]\.upstream: .* of at most 2048 characters/,
    ],
    [
      {
        auth: [
          { path: "/", realm: "A", users: { a: hash } },
          { path: "/admin", realm: "B", users: { a: hash } },
        ],
      },
      /^auth\[1\]\.path: "\/admin" is not accepted; use a path that can match: auth\[0\] \("\/"\) comes first and covers it/,
    ],
    [
      {
        proxy: [
          { path: "/api/", upstream: "http://a" },
          { path: "/api/v2", upstream: "http://b" },
        ],
      },
      /^proxy\[1\]\.path: .*proxy\[0\] \("\/api\/"\) comes first/,
    ],
    [
      { ipRules: [{ path: "/", rules: ["deny 10.0.0.0/8", "allow 10.1.0.0/16"] }] },
      /^ipRules\[0\]\.rules\[1\]: .*rules\[0\] \("deny 10\.0\.0\.0\/8"\) comes first and covers 10\.1\.0\.0\/16/,
    ],
    [{ auth: [{ path: "/a", realm: "A" }] }, /^auth\[0\]\.users: missing; use exactly one of "users"/],
    [
      { auth: [{ path: "/a", realm: "A", users: {} }] },
      /^auth\[0\]\.users: \{\} is not accepted; use at least one user/,
    ],
    [
      { auth: [{ path: "/a", realm: 'say "hi"', users: { a: hash } }] },
      /^auth\[0\]\.realm: .*without \\ or "/,
    ],
    [{ auth: [{ path: "/a", realm: "A", usersFrom: { env: "A", file: "/x" } }] }, /^auth\[0\]\.usersFrom: /],
    [
      { auth: [{ path: "a", realm: "A", users: { a: hash } }] },
      /^auth\[0\]\.path: "a" is not accepted; use a path prefix starting with "\/"/,
    ],
    [
      { proxy: [{ path: "/api", upstream: "http://a", tiemout: 5 }] },
      /^proxy\[0\]\.tiemout: unknown option "tiemout"; did you mean "timeout"\?/,
    ],
    [{ auth: [{ path: "/a", realm: "A", usersFrom: { fiel: "/x" } }] }, /^auth\[0\]\.usersFrom: /],
  ];
  for (const [input, expected] of cases) {
    const found = problems(input);
    assert.equal(found.length, 1, `one problem, one line: ${found.join(" | ")}`);
    assert.match(found[0]!, expected);
  }
});

test("a password pasted where its hash belongs is never repeated in the error", () => {
  const found = problems({ auth: [{ path: "/a", realm: "A", users: { alice: "my-secret-password" } }] });
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^auth\[0\]\.users\.alice: the value \(not shown\) is not accepted; use a hash/);
  assert.doesNotMatch(found[0]!, /my-secret-password/);
});
