// The image part against real container engines: `docker load` and `podman load` accept the
// tarball, and the image runs read-only, without capabilities, as its non-root user, with
// Docker's health check, and as arm64 through qemu. The server layer holds a stand-in static ELF
// (src/image/stand-in.ts) until the native server is wired in by `speck build`.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  type BuildOptions,
  buildImage,
  PLATFORMS,
  type Platform,
  writeDockerArchive,
} from "../../src/image/index.ts";
import { type StandInBehaviour, standInServer } from "../../src/image/stand-in.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-image-engines-"));
const repository = `speck-e2e/image-${process.pid}`;
const loaded: [string, string][] = [];
after(() => {
  for (const [engine, name] of loaded) spawnSync(engine, ["rmi", "-f", name], { stdio: "ignore" });
  rmSync(work, { recursive: true, force: true });
});

const HARDENED = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"];
const SECOND = 1_000_000_000;

function run(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(command: string, args: string[]): string {
  const result = run(command, args);
  assert.equal(result.status, 0, `${command} ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Builds a one-platform image with a stand-in server, writes the tarball and loads it. */
async function load(
  engine: "docker" | "podman",
  tag: string,
  platform: Platform,
  behaviour: StandInBehaviour,
  extra: Partial<BuildOptions> = {},
): Promise<string> {
  const name = `${repository}:${tag}`;
  const image = await buildImage({
    platforms: [
      { platform, server: standInServer(platform, `speck stand-in ${platform.architecture}\n`, behaviour) },
    ],
    pack: new TextEncoder().encode("<!doctype html><h1>hello</h1>\n"),
    created: 1_700_000_000,
    tag: name,
    metadata: { title: "engines test" },
    ...extra,
  });
  const file = join(work, `${engine}-${tag}.tar`);
  await writeDockerArchive(image, file);
  const out = ok(engine, ["load", "-i", file]);
  assert.match(out, new RegExp(`Loaded image: (docker\\.io/)?${name}`));
  loaded.push([engine, name]);
  return name;
}

test("docker loads the tarball and runs it read-only, capability-free, as uid 65532", async (t) => {
  if (!requireCommands(t, ["docker"], "apt-get install docker.io (and run .ci/services.sh)")) return;
  const name = await load("docker", "uid", PLATFORMS[0]!, "exit-uid");
  const config = JSON.parse(ok("docker", ["inspect", "--format", "{{json .Config}}", name]));
  assert.equal(config.User, "65532:65532");
  assert.deepEqual(config.Entrypoint, ["/speck", "/site.pack"]);
  assert.deepEqual(config.ExposedPorts, { "8080/tcp": {} });
  assert.deepEqual(config.Healthcheck.Test, ["CMD", "/speck", "--health"]);
  const result = run("docker", ["run", "--rm", ...HARDENED, name]);
  assert.equal(result.stdout, "speck stand-in amd64\n");
  assert.equal(result.status, 65532 % 256, "the stand-in exits with its uid modulo 256");
  const size = ok("docker", ["images", "--format", "{{.Size}}", name]).trim();
  t.diagnostic(`docker images SIZE of a minimal image (stand-in server, 30-byte pack): ${size}`);
  assert.match(size, /^\d+(\.\d+)?B$|^\d+(\.\d+)?kB$/);
});

test("docker honours the Healthcheck from the image config", async (t) => {
  if (!requireCommands(t, ["docker"], "apt-get install docker.io (and run .ci/services.sh)")) return;
  const healthcheck = {
    Test: ["CMD", "/speck", "--health"],
    Interval: 1 * SECOND,
    Timeout: 2 * SECOND,
    Retries: 3,
  };
  const name = await load("docker", "health", PLATFORMS[0]!, "wait", { healthcheck });
  const container = ok("docker", ["run", "-d", ...HARDENED, name]).trim();
  try {
    let status = "";
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && status !== "healthy") {
      status = ok("docker", ["inspect", "--format", "{{.State.Health.Status}}", container]).trim();
      if (status !== "healthy") await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(status, "healthy");
    assert.equal(ok("docker", ["inspect", "--format", "{{.Config.User}}", container]).trim(), "65532:65532");
  } finally {
    run("docker", ["rm", "-f", container]);
  }
});

test("docker runs the arm64 image through qemu's binfmt registration", async (t) => {
  if (!requireCommands(t, ["docker"], "apt-get install docker.io qemu-user-static (and run .ci/services.sh)"))
    return;
  const name = await load("docker", "arm64", PLATFORMS[1]!, "exit");
  const result = run("docker", ["run", "--rm", "--platform", "linux/arm64", ...HARDENED, name]);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, "speck stand-in arm64\n");
  assert.equal(
    ok("docker", ["inspect", "--format", "{{.Architecture}}/{{.Variant}}", name]).trim(),
    "arm64/v8",
  );
});

test("podman loads the same tarball and runs it as uid 65532", async (t) => {
  if (!requireCommands(t, ["podman"], "apt-get install podman (and run .ci/services.sh)")) return;
  const name = await load("podman", "uid", PLATFORMS[0]!, "exit-uid");
  const inspected = JSON.parse(ok("podman", ["image", "inspect", name]))[0];
  assert.equal(inspected.Config.User, "65532:65532");
  assert.equal(inspected.Labels["org.opencontainers.image.title"], "engines test");
  const result = run("podman", ["run", "--rm", ...HARDENED, name]);
  assert.equal(result.stdout, "speck stand-in amd64\n");
  assert.equal(result.status, 65532 % 256);
});
