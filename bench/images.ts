// Image sizes and image build times: speck's images of a hello-world page and of a real site against
// images built in the same run with `docker build` FROM scratch, holding either Debian's static BusyBox
// (httpd, as the lipanski/docker-static-website recipe does) or Go's http.FileServer built static,
// plus sizes other projects publish. Sizes are what `docker image inspect` reports.

import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { buildGoFileServer } from "./peers.ts";

const CLI = fileURLToPath(new URL("../bin/speck.js", import.meta.url));

/** A size someone else published, with where it comes from. */
export interface PublishedSize {
  name: string;
  bytes: number;
  what: string;
  source: string;
}

/** Published sizes of the images people compare with (not rebuilt here: they need the network). */
export const PUBLISHED: readonly PublishedSize[] = [
  {
    name: "nginx:alpine (nginx 1.31.6, linux/amd64)",
    bytes: 26_310_566,
    what: "compressed transfer size (gzip layers), without any site",
    source:
      "https://github.com/docker-library/repo-info/blob/073c780cc133d5ae32b07228be073797e67908f3/repos/nginx/remote/alpine.md",
  },
  {
    name: "caddy:alpine (Caddy 2.11.4, linux/amd64)",
    bytes: 23_907_283,
    what: "compressed transfer size (gzip layers), without any site",
    source:
      "https://github.com/docker-library/repo-info/blob/140d58041645e33e89eaf9642c32ff0d555b667d/repos/caddy/remote/alpine.md",
  },
  {
    name: "lipanski/docker-static-website (BusyBox built with only httpd)",
    bytes: 80_000,
    what: "“~80KB” per its README, without any site",
    source: "https://github.com/lipanski/docker-static-website",
  },
  {
    name: "asmttpd (FROM scratch, assembly server + one page)",
    bytes: 6_320,
    what: "“6.32kB” image serving one file, 2021",
    source: "https://devopsdirective.com/posts/2021/04/tiny-container-image/",
  },
];

/** One image built in this run. */
export interface BuiltImage {
  name: string;
  site: string;
  /** Bytes as `docker image inspect --format {{.Size}}` reports them. */
  bytes: number;
  /** Bytes of the image saved and gzipped, close to a registry's compressed transfer size. */
  compressed: number;
}

/** Wall-clock build times in milliseconds. */
export interface ImageBuildTimes {
  speckCold: number[];
  speckWarm: number[];
  dockerCold: number[];
  dockerWarm: number[];
}

function docker(args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function imageSize(tag: string): number {
  return Number(docker(["image", "inspect", "--format", "{{.Size}}", tag]));
}

/** Bytes of `docker save TAG | gzip -6`: about what a registry pull transfers. */
function compressedSize(tag: string): number {
  const script = `docker save "$1" | gzip -6 | wc -c`;
  return Number(execFileSync("sh", ["-c", script, "sh", tag], { encoding: "utf8" }).trim());
}

function speckBuild(site: string, tar: string, tag: string, cacheDir: string): void {
  execFileSync(process.execPath, [CLI, "build", site, "-o", tar, "-t", tag, "--platform", "linux/amd64"], {
    env: { ...process.env, SPECK_CACHE_DIR: cacheDir },
    stdio: "pipe",
  });
}

/** Writes a build context holding `binary` as /server and the site as /www, with its Dockerfile. */
function scratchContext(dir: string, binary: string, site: string, entrypoint: string[]): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(realpathSync(binary), join(dir, "server"));
  cpSync(site, join(dir, "www"), { recursive: true, dereference: true });
  writeFileSync(
    join(dir, "Dockerfile"),
    `FROM scratch\nCOPY server /server\nCOPY www /www\nEXPOSE 8080\nENTRYPOINT ${JSON.stringify(entrypoint)}\n`,
  );
}

const BUSYBOX_ENTRY = ["/server", "httpd", "-f", "-p", "8080", "-h", "/www"];
const GO_ENTRY = ["/server", ":8080", "/www"];

function timed(action: () => void): number {
  const started = performance.now();
  action();
  return performance.now() - started;
}

/**
 * Builds and measures every image: for each site (name → folder) speck's, BusyBox's and Go's. The
 * builds of the site named `timedSite` are timed: speck with an empty compression cache (cold) and
 * again (warm), BusyBox's `docker build --no-cache` (cold) and again (cached); `rounds` > 1 repeats
 * the cold and warm pair. Removes the images it made.
 */
export function measureImages(
  sites: Record<string, string>,
  timedSite: string,
  work: string,
  rounds: number,
  log: (line: string) => void,
): { images: BuiltImage[]; times: ImageBuildTimes } {
  mkdirSync(work, { recursive: true });
  const busybox = execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim();
  const go = buildGoFileServer(join(work, "go"));
  const images: BuiltImage[] = [];
  const tags: string[] = [];
  const times: ImageBuildTimes = { speckCold: [], speckWarm: [], dockerCold: [], dockerWarm: [] };
  const measure = (name: string, site: string, tag: string) => {
    tags.push(tag);
    images.push({ name, site, bytes: imageSize(tag), compressed: compressedSize(tag) });
  };
  try {
    for (const [site, folder] of Object.entries(sites).sort()) {
      const slug = site.replace(/\W+/g, "-");
      const isTimed = site === timedSite;
      const speckTag = `speck-bench/speck-${slug}:latest`;
      const tar = join(work, `speck-${slug}.tar`);
      const cache = join(work, `cache-${slug}`);
      for (let round = 0; round < (isTimed ? rounds : 1); round++) {
        rmSync(cache, { recursive: true, force: true });
        const cold = timed(() => speckBuild(folder, tar, speckTag, cache));
        if (!isTimed) continue;
        times.speckCold.push(cold);
        times.speckWarm.push(timed(() => speckBuild(folder, tar, speckTag, cache)));
      }
      docker(["load", "-i", tar]);
      measure("speck", site, speckTag);
      for (const [name, binary, entry] of [
        ["busybox-httpd", busybox, BUSYBOX_ENTRY],
        ["go-fileserver", go, GO_ENTRY],
      ] as const) {
        const context = join(work, `${name}-${slug}`);
        const tag = `speck-bench/${name}-${slug}:latest`;
        scratchContext(context, binary, folder, [...entry]);
        const timeBuild = isTimed && name === "busybox-httpd";
        for (let round = 0; round < (timeBuild ? rounds : 1); round++) {
          const cold = timed(() => docker(["build", "-q", "--no-cache", "-t", tag, context]));
          if (!timeBuild) continue;
          times.dockerCold.push(cold);
          times.dockerWarm.push(timed(() => docker(["build", "-q", "-t", tag, context])));
        }
        measure(name, site, tag);
      }
      log(`images: ${site} built`);
    }
    return { images, times };
  } finally {
    if (tags.length > 0) execFileSync("docker", ["rmi", "-f", ...tags], { stdio: "ignore" });
  }
}

/** docker's version line, e.g. "20.10.24". */
export function dockerVersion(): string {
  return docker(["version", "--format", "{{.Server.Version}}"]);
}
