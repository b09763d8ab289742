// Reproducible, meaningful metadata for a build: the creation time (SOURCE_DATE_EPOCH, else the
// last commit of the site's git checkout, else the newest file of the site) and the source URL
// and revision read from git. Never the wall clock, so two builds of the same site agree.

import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ImageMetadata } from "./build.ts";
import { ImageError } from "./errors.ts";

function git(dir: string, args: string[]): string | undefined {
  try {
    const out = execFileSync("git", ["-C", dir, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A git remote as a public https URL: credentials are dropped (they must never reach an image),
 * `git@host:path` becomes `https://host/path`, and a trailing `.git` goes.
 */
export function publicSourceUrl(remote: string): string | undefined {
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(remote);
  let url: URL;
  try {
    url = new URL(
      scp ? `https://${scp[1]}/${scp[2]}` : remote.replace(/^(?:ssh|git|git\+ssh):\/\//, "https://"),
    );
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  url.username = "";
  url.password = "";
  if (url.port === "22") url.port = "";
  return url
    .toString()
    .replace(/\.git$/, "")
    .replace(/\/$/, "");
}

/** Source URL and revision of the git checkout holding `dir`; empty when there is none. */
export function gitMetadata(dir: string): Pick<ImageMetadata, "source" | "revision"> {
  const revision = git(dir, ["rev-parse", "HEAD"]);
  const remote = git(dir, ["remote", "get-url", "origin"]);
  const source = remote ? publicSourceUrl(remote) : undefined;
  return { ...(source ? { source } : {}), ...(revision ? { revision } : {}) };
}

/** The newest modification time under `dir` in whole seconds, 0 for an empty folder. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, Math.floor(statSync(path).mtimeMs / 1000));
  }
  return newest;
}

/**
 * The creation time of an image of the site in `siteDir`, whole seconds since 1970:
 * SOURCE_DATE_EPOCH when set (https://reproducible-builds.org/specs/source-date-epoch/), else the
 * time of the last commit when the site is in a git checkout, else its newest file's mtime.
 */
export function resolveCreated(siteDir: string, env: NodeJS.ProcessEnv = process.env): number {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== "") {
    if (!/^\d+$/.test(epoch) || Number(epoch) > 0o77777777777) {
      throw new ImageError(
        `invalid SOURCE_DATE_EPOCH "${epoch}": use whole seconds since 1970, e.g. $(git log -1 --format=%ct)`,
      );
    }
    return Number(epoch);
  }
  const commitTime = git(siteDir, ["log", "-1", "--format=%ct"]);
  if (commitTime && /^\d+$/.test(commitTime)) return Number(commitTime);
  return newestMtime(siteDir);
}
