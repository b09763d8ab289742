// The speck command's contract with people and scripts: `pack` writes a valid pack, `--version` and
// `--help` answer, and every mistake is one line on stderr with exit code 2 (1 for other failures),
// never a stack trace unless SPECK_DEBUG=1.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readPack } from "../../src/pack/read.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const EXAMPLES = join(import.meta.dirname, "../../examples");
const work = mkdtempSync(join(tmpdir(), "speck-cli-errors-"));
const env: NodeJS.ProcessEnv = { ...process.env, SPECK_CACHE_DIR: join(work, "cache") };
delete env.SPECK_DEBUG;
after(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [SPECK, ...args], {
    env: { ...env, ...extra },
    encoding: "utf8",
    cwd: work,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function folder(name: string, files: Record<string, string>): string {
  const root = join(work, name);
  mkdirSync(root, { recursive: true });
  for (const [path, body] of Object.entries(files)) writeFileSync(join(root, path), body);
  return root;
}

test("speck pack writes a valid pack and says what is in it", () => {
  const out = join(work, "docs.pack");
  const r = run(["pack", join(EXAMPLES, "docs"), "-o", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^speck: wrote .*docs\.pack \(\d+ bytes\) in \d+ ms: 10 files, \d+ routes, \d+ gzip and \d+ brotli variants/,
  );
  const pack = readPack(readFileSync(out));
  assert.ok(pack.routeCount > 10);
  assert.deepEqual(
    readdirSync(work).filter((n) => n.includes(".tmp")),
    [],
    "no temporary file left",
  );
  const again = join(work, "again.pack");
  assert.equal(run(["pack", join(EXAMPLES, "docs"), "--out", again]).status, 0);
  assert.deepEqual(readFileSync(again), readFileSync(out), "the same site gives the same pack");
});

test("speck --version and --help", () => {
  const version = run(["--version"]);
  assert.equal(version.status, 0);
  assert.equal(
    version.stdout.trim(),
    JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8")).version,
  );
  const help = run(["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Examples:\n\s+speck serve \.\/dist/);
  const serveHelp = run(["serve", "--help"]);
  for (const flag of [
    "--spa <file>",
    "--trailing-slash <mode>",
    "--port <port>",
    "--clean-urls",
    "--config <file>",
  ])
    assert.ok(serveHelp.stdout.includes(flag), flag);
});

test("mistakes get one clear line and exit code 2", async () => {
  const badConfig = folder("bad-config", {
    "index.html": "x",
    "speck.config.json": '{ "trailingSlash": "sometimes" }',
  });
  const brokenJson = folder("broken-json", { "index.html": "x", "speck.config.json": "{ nope" });
  const empty = folder("empty", {});
  const conflict = folder("conflict", { "a.html": "x", "speck.config.json": '{ "cleanUrls": true }' });
  mkdirSync(join(conflict, "a"));
  writeFileSync(join(conflict, "a/index.html"), "y");
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  const busyPort = String((busy.address() as { port: number }).port);
  const cases: [string[], RegExp][] = [
    [["serve", join(work, "missing")], /^speck: site folder .*missing does not exist$/],
    [
      ["pack", badConfig],
      /invalid configuration in .*speck\.config\.json: trailingSlash: "sometimes" is not accepted; use one of "auto", "always", "never"$/,
    ],
    [["pack", brokenJson], /^speck: cannot read .*speck\.config\.json: /],
    [["pack", empty], /^speck: site folder .*empty has no files to serve$/],
    [["pack", conflict], /^speck: \/a\/? is claimed twice: by a.* and by a.*$/],
    [
      ["pack", join(EXAMPLES, "hello"), "--trailing-slash", "sometimes"],
      /sometimes.*is invalid. Allowed choices are auto, always, never/,
    ],
    [["serve", "--bogus"], /^speck: unknown option '--bogus' \(see speck --help\)$/],
    [["bogus"], /^speck: unknown command 'bogus'/],
    [["serv"], /^speck: unknown command 'serv'; did you mean serve\? \(see speck --help\)$/],
    [["serve", "--sap", "x"], /^speck: unknown option '--sap'; did you mean --spa\? \(see speck --help\)$/],
    [["serve", join(EXAMPLES, "hello"), "--port", "99999"], /^speck: --port 99999 is not a port number/],
    [
      ["serve", join(EXAMPLES, "hello"), "--port", busyPort],
      new RegExp(`^speck: port ${busyPort} on 127\\.0\\.0\\.1 is in use; choose another with --port$`),
    ],
    [
      ["pack", join(EXAMPLES, "hello"), "--spa", "nope.html"],
      /^speck: spa: "nope\.html" is not a file of the site folder/,
    ],
    [
      ["pack", join(EXAMPLES, "hello"), "--config", join(work, "nope.json")],
      /^speck: config file .*nope\.json does not exist$/,
    ],
    [
      ["pack", join(EXAMPLES, "hello"), "-o", join(work, "no/such/dir/x.pack")],
      /^speck: cannot write .*x\.pack: no such file or directory \(ENOENT\)$/,
    ],
  ];
  try {
    for (const [args, message] of cases) {
      const r = run(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `one line: ${r.stderr}`);
      assert.match(lines[0]!, message);
    }
  } finally {
    busy.close();
  }
  assert.ok(!existsSync(join(work, "site.pack")), "nothing written on failure");
});

test("SPECK_DEBUG=1 adds the stack trace", () => {
  const r = run(["serve", join(work, "missing")], { SPECK_DEBUG: "1" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /\n\s+at /);
});
