import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { requireCommands } from "../../test/support/tools.ts";
import { gitMetadata, newestMtime, publicSourceUrl, resolveCreated } from "./metadata.ts";

const work = mkdtempSync(join(tmpdir(), "speck-metadata-"));
after(() => rmSync(work, { recursive: true, force: true }));

test("publicSourceUrl() drops credentials and turns git remotes into https URLs", () => {
  const cases: [string, string | undefined][] = [
    ["https://github.com/acme/site.git", "https://github.com/acme/site"],
    ["https://x-access-token:ghs_secret@github.com/acme/site.git", "https://github.com/acme/site"],
    ["git@github.com:acme/site.git", "https://github.com/acme/site"],
    ["ssh://git@gitlab.example.com/group/site.git", "https://gitlab.example.com/group/site"],
    ["http://localhost:3000/acme/site", "http://localhost:3000/acme/site"],
    ["/srv/git/site.git", undefined],
    ["file:///srv/git/site.git", undefined],
  ];
  for (const [remote, url] of cases) assert.equal(publicSourceUrl(remote), url, remote);
});

test("resolveCreated() prefers SOURCE_DATE_EPOCH and rejects a malformed one", () => {
  assert.equal(resolveCreated(work, { SOURCE_DATE_EPOCH: "1234567890" }), 1234567890);
  assert.throws(
    () => resolveCreated(work, { SOURCE_DATE_EPOCH: "yesterday" }),
    /invalid SOURCE_DATE_EPOCH "yesterday"/,
  );
  assert.throws(() => resolveCreated(work, { SOURCE_DATE_EPOCH: "-1" }), /invalid SOURCE_DATE_EPOCH/);
});

test("resolveCreated() uses the newest file of a site outside git, never the clock", () => {
  const site = join(work, "plain");
  mkdirSync(join(site, "sub"), { recursive: true });
  writeFileSync(join(site, "index.html"), "a");
  writeFileSync(join(site, "sub", "page.html"), "b");
  utimesSync(join(site, "index.html"), 1_600_000_000, 1_600_000_000);
  utimesSync(join(site, "sub", "page.html"), 1_650_000_000.7, 1_650_000_000.7);
  assert.equal(newestMtime(site), 1_650_000_000);
  assert.equal(resolveCreated(site, {}), 1_650_000_000);
  assert.deepEqual(gitMetadata(site), {}, "no git: no annotations, no error");
});

test("gitMetadata() and resolveCreated() read the checkout holding the site", (t) => {
  if (!requireCommands(t, ["git"], "apt-get install git")) return;
  const repo = join(work, "repo");
  const site = join(repo, "dist");
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, "index.html"), "hi");
  const env = {
    ...process.env,
    GIT_AUTHOR_DATE: "@1500000000 +0000",
    GIT_COMMITTER_DATE: "@1500000000 +0000",
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.com",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.com",
  };
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", repo, ...args], { env, encoding: "utf8" }).trim();
  git("init", "-q");
  git("add", ".");
  git("commit", "-q", "-m", "site");
  assert.deepEqual(gitMetadata(site), { revision: git("rev-parse", "HEAD") }, "no origin: no source");
  git("remote", "add", "origin", "https://user:token@github.com/acme/site.git");
  assert.deepEqual(gitMetadata(site), {
    source: "https://github.com/acme/site",
    revision: git("rev-parse", "HEAD"),
  });
  assert.equal(resolveCreated(site, {}), 1_500_000_000);
});
