// Images made other ways than `speck build` to a tarball: `speck pack DIR` plus `docker build` gives
// an image that runs like speck's own (same run configuration, same answers), an arm64 image runs
// through qemu's binfmt registration, and the hello example's size is measured as Docker reports it.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { requireCommands } from "../support/tools.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const EXAMPLES = join(import.meta.dirname, "../../examples");
const work = mkdtempSync(join(tmpdir(), "speck-dockerfile-"));
const tags: string[] = [];
after(() => {
  for (const tag of tags) spawnSync("docker", ["rmi", "-f", tag], { stdio: "ignore" });
  rmSync(work, { recursive: true, force: true });
});

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim();
}

function tagFor(name: string): string {
  const tag = `speck-e2e/${name}:${process.pid}`;
  tags.push(tag);
  return tag;
}

async function servedPage(id: string, path: string): Promise<string> {
  const port = run("docker", ["port", id, "8080/tcp"]).split("\n")[0]!.split(":").pop()!;
  for (let i = 0; ; i++) {
    try {
      return await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test("speck pack DIR + docker build: the same run configuration and answers as speck build's image", async (t) => {
  if (!requireCommands(t, ["docker"], "apt-get install docker.io (and start dockerd)")) return;
  const folder = join(work, "docs-context");
  run(process.execPath, [SPECK, "pack", join(EXAMPLES, "docs"), "-o", folder, "--platform", "linux/amd64"]);
  const dockerfile = readFileSync(join(folder, "Dockerfile"), "utf8");
  assert.match(dockerfile, /^FROM scratch\nCOPY speck site.pack \/\n/);
  assert.equal(statSync(join(folder, "speck")).mode & 0o777, 0o555);
  const built = tagFor("dockerfile");
  run("docker", ["build", "-q", "-t", built, folder]);
  const speckTag = tagFor("speck-built");
  const tarball = join(work, "docs.tar");
  run(process.execPath, [
    SPECK,
    "build",
    join(EXAMPLES, "docs"),
    "-o",
    tarball,
    "-t",
    speckTag,
    "--platform",
    "linux/amd64",
  ]);
  run("docker", ["load", "-i", tarball]);
  const config = (tag: string) =>
    JSON.parse(run("docker", ["image", "inspect", tag, "--format", "{{json .Config}}"]));
  const [ours, theirs] = [config(speckTag), config(built)];
  for (const key of ["User", "ExposedPorts", "Entrypoint", "WorkingDir", "StopSignal"])
    assert.deepEqual(theirs[key], ours[key], key);
  // docker build adds a default PATH to images FROM scratch; the server needs none
  assert.deepEqual(
    theirs.Env.filter((v: string) => !v.startsWith("PATH=")),
    ours.Env,
  );
  const { StartInterval: _, ...checkWithoutStartInterval } = ours.Healthcheck;
  assert.deepEqual(theirs.Healthcheck, checkWithoutStartInterval);
  const id = run("docker", ["run", "-d", "-p", "127.0.0.1::8080", "--read-only", "--cap-drop", "ALL", built]);
  try {
    assert.equal(
      await servedPage(id, "/guide/install"),
      readFileSync(join(EXAMPLES, "docs/guide/install.html"), "utf8"),
    );
  } finally {
    spawnSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  }
});

test("docker run --platform linux/arm64 serves the hello example through qemu's binfmt registration", async (t) => {
  if (!requireCommands(t, ["docker", "qemu-aarch64-static"], "apt-get install docker.io qemu-user-static"))
    return;
  const tag = tagFor("hello-arm64");
  const tarball = join(work, "hello-arm64.tar");
  run(process.execPath, [
    SPECK,
    "build",
    join(EXAMPLES, "hello"),
    "-o",
    tarball,
    "-t",
    tag,
    "--platform",
    "linux/arm64",
  ]);
  run("docker", ["load", "-i", tarball]);
  assert.equal(run("docker", ["image", "inspect", tag, "--format", "{{.Architecture}}"]), "arm64");
  const id = run("docker", ["run", "-d", "--platform", "linux/arm64", "-p", "127.0.0.1::8080", tag]);
  try {
    assert.equal(await servedPage(id, "/"), readFileSync(join(EXAMPLES, "hello/index.html"), "utf8"));
    const stopped = Date.now();
    run("docker", ["stop", id]);
    t.diagnostic(`docker stop (arm64 under qemu) took ${Date.now() - stopped} ms`);
    assert.equal(run("docker", ["inspect", id, "--format", "{{.State.ExitCode}}"]), "0");
  } finally {
    spawnSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  }
});

test("the hello example's image size, as docker images reports it", (t) => {
  if (!requireCommands(t, ["docker"], "apt-get install docker.io (and start dockerd)")) return;
  const tag = tagFor("hello-size");
  const tarball = join(work, "hello.tar");
  const summary = JSON.parse(
    run(process.execPath, [
      SPECK,
      "build",
      join(EXAMPLES, "hello"),
      "-o",
      tarball,
      "-t",
      tag,
      "--platform",
      "linux/amd64",
      "--json",
    ]),
  );
  run("docker", ["load", "-i", tarball]);
  const bytes = Number(run("docker", ["image", "inspect", tag, "--format", "{{.Size}}"]));
  const shown = run("docker", ["images", tag, "--format", "{{.Size}}"]);
  t.diagnostic(`hello image: ${bytes} bytes (docker images: ${shown}); goal: under 6 kB`);
  // Docker counts the files' bytes: the server and the pack, nothing else, as the summary says
  const platform = summary.platforms[0];
  assert.equal(bytes, platform.serverBytes + summary.pack.bytes, JSON.stringify(summary));
  assert.equal(bytes, platform.unpackedSize);
});
