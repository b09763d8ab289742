// `speck hash-password`: the printed hash verifies against the password read from stdin or typed at
// a terminal (a real pseudo-terminal through script(1)), the password is never echoed, and mistakes
// are one line with exit code 2.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { parsePasswordHash, verifyPassword } from "../../src/access/password.ts";
import { requireCommands } from "../support/tools.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");

function run(args: string[], input: string) {
  const env = { ...process.env };
  delete env.SPECK_DEBUG;
  return spawnSync(process.execPath, [SPECK, "hash-password", ...args], { input, encoding: "utf8", env });
}

function verifies(hash: string, password: string): boolean {
  const parsed = parsePasswordHash(hash);
  assert.equal(typeof parsed, "object", `a hash: ${hash}`);
  return verifyPassword(parsed as Exclude<typeof parsed, string>, new TextEncoder().encode(password));
}

test("hash-password reads the first line of stdin and prints a hash that verifies", () => {
  const r = run([], "pä ss:word\nignored\n");
  assert.equal(r.status, 0, r.stderr);
  const hash = r.stdout.trim();
  assert.match(hash, /^\$pbkdf2-sha256\$i=4096\$/);
  assert.equal(verifies(hash, "pä ss:word"), true);
  assert.equal(verifies(hash, "pä ss:word\n"), false);
  assert.doesNotMatch(r.stdout + r.stderr, /ss:word/);
});

test("hash-password --user prints a user:hash line; --iterations sets the cost", () => {
  const r = run(["--user", "alice", "--iterations", "2000"], "secret\r\n");
  assert.equal(r.status, 0, r.stderr);
  const [user, hash] = [
    r.stdout.slice(0, r.stdout.indexOf(":")),
    r.stdout.slice(r.stdout.indexOf(":") + 1).trim(),
  ];
  assert.equal(user, "alice");
  assert.match(hash, /\$i=2000\$/);
  assert.equal(verifies(hash, "secret"), true);
});

test("hash-password mistakes are one line and exit 2, without the password", () => {
  for (const [args, input, expected] of [
    [[], "\n", /the password is empty/],
    [
      ["--iterations", "10"],
      "pw\n",
      /--iterations 10 is not accepted; use a whole number from 1000 to 1000000/,
    ],
    [["--user", "a:b"], "pw\n", /--user "a:b" is not accepted/],
  ] as const) {
    const r = run([...args], input);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, expected);
  }
});

test("hash-password at a terminal asks twice without echo", { timeout: 30_000 }, async (t) => {
  if (!requireCommands(t, ["script"], "apt-get install bsdutils")) return;
  const command = `${process.execPath} ${SPECK} hash-password`;
  /** Runs the command in a pseudo-terminal, typing each answer once its prompt has appeared. */
  const typed = async (first: string, second: string) => {
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
      env: { ...process.env, TERM: "dumb" },
    });
    let stdout = "";
    const answers = [
      ["Password: ", first],
      ["Again: ", second],
    ];
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      while (answers.length > 0 && stdout.includes(answers[0]![0]!))
        child.stdin.write(`${answers.shift()![1]}\r`);
    });
    const status = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    return { status, stdout };
  };
  const ok = await typed("tty-secret", "tty-secret");
  assert.equal(ok.status, 0, ok.stdout);
  assert.match(ok.stdout, /Password: /);
  assert.match(ok.stdout, /Again: /);
  assert.doesNotMatch(ok.stdout, /tty-secret/, "not echoed");
  const hash = /\$pbkdf2-sha256\$\S+/.exec(ok.stdout)![0];
  assert.equal(verifies(hash, "tty-secret"), true);
  const differ = await typed("one", "two");
  assert.equal(differ.status, 2);
  assert.match(differ.stdout, /the two passwords differ/);
  assert.doesNotMatch(differ.stdout, /pbkdf2/);
});
