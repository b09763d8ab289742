import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { scanSite } from "./scan.ts";

const work = mkdtempSync(join(tmpdir(), "speck-scan-"));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

function site(files: Record<string, string>): string {
  const root = join(work, `site${counter++}`);
  mkdirSync(root, { recursive: true });
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  return root;
}

const names = (root: string, include?: string[], exclude?: string[]) =>
  scanSite(root, include, exclude).map((f) => f.relative);

test("scanSite() lists files bytewise, skipping dotfiles but .well-known and the config file", () => {
  const root = site({
    "index.html": "",
    "B.txt": "",
    "a/z.txt": "",
    "a.txt": "",
    "é.txt": "",
    "z.txt": "",
    ".env": "secret",
    ".git/config": "x",
    "docs/.hidden/x.txt": "",
    ".well-known/security.txt": "",
    "docs/.well-known/x": "only at the top",
    "speck.config.json": "{}",
    "docs/speck.config.json": "served: only the top one is the config",
  });
  assert.deepEqual(names(root), [
    ".well-known/security.txt",
    "B.txt",
    "a/z.txt",
    "a.txt",
    "docs/speck.config.json",
    "index.html",
    "z.txt",
    "é.txt",
  ]);
});

test("scanSite() applies include, then exclude", () => {
  const root = site({ "index.html": "", "a.js": "", "a.js.map": "", "drafts/x.html": "" });
  assert.deepEqual(names(root, ["**"], ["**/*.map", "drafts/**"]), ["a.js", "index.html"]);
  assert.deepEqual(names(root, ["**/*.html"]), ["drafts/x.html", "index.html"]);
});

test("scanSite() follows symlinks to files and folders, and reports loops, dangling links and special files", () => {
  const root = site({ "index.html": "", "real.txt": "r", "shared/x.txt": "x" });
  symlinkSync(join(root, "real.txt"), join(root, "link.txt"));
  symlinkSync(join(root, "shared"), join(root, "also"));
  assert.deepEqual(names(root), ["also/x.txt", "index.html", "link.txt", "real.txt", "shared/x.txt"]);
  const loop = site({ "index.html": "" });
  symlinkSync(loop, join(loop, "again"));
  assert.throws(() => scanSite(loop), /symlink loop: .*again leads back to/);
  const dangling = site({ "index.html": "" });
  symlinkSync(join(dangling, "missing"), join(dangling, "broken"));
  assert.throws(() => scanSite(dangling), /dangling symlink: .*broken points to nothing/);
  const special = site({ "index.html": "" });
  execFileSync("mkfifo", [join(special, "pipe")]);
  assert.throws(() => scanSite(special), /not a regular file or folder: .*pipe \(fifos, sockets and devices/);
  assert.deepEqual(names(special, ["**"], ["pipe"]), ["index.html"], "an excluded fifo is not an error");
});

test("scanSite() refuses file names that are not UTF-8 or hold control characters, by name", () => {
  const bad = site({ "index.html": "" });
  writeFileSync(Buffer.concat([Buffer.from(`${bad}/`), Buffer.from([0x66, 0xff, 0x2e, 0x74])]), "x");
  assert.throws(() => scanSite(bad), /file name is not valid UTF-8: .*site\d+\/f.\.t \(rename it\)/);
  const control = site({ "index.html": "" });
  mkdirSync(join(control, "sub"));
  writeFileSync(join(control, "sub", "a\tb.txt"), "x");
  assert.throws(
    () => scanSite(control),
    /file name contains a control character: ".*sub\/a\\tb\.txt" \(rename it\)/,
  );
  const newline = site({ "index.html": "" });
  writeFileSync(join(newline, "a\nb"), "x");
  assert.throws(() => scanSite(newline), /control character: ".*a\\nb"/);
});
