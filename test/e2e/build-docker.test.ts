// `speck build` to a tarball, loaded by a real Docker engine (and podman) and run hardened: every route of a real
// multi-page site answers as the preview server does, the server runs as its non-root user, answers
// --health, and `docker stop` returns well within 2 s. The image size is printed.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readPack } from "../../src/pack/read.ts";
import { startPreview } from "../../src/preview/index.ts";
import { requireCommands } from "../support/tools.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const EXAMPLES = join(import.meta.dirname, "../../examples");
const work = mkdtempSync(join(tmpdir(), "speck-docker-"));
const tag = `speck-e2e/docs:${process.pid}`;
after(() => {
  spawnSync("docker", ["rmi", "-f", tag], { stdio: "ignore" });
  rmSync(work, { recursive: true, force: true });
});

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim();
}

let loaded = false;
/** Builds the docs example's image for linux/amd64 and loads it into Docker, once. */
function loadDocsImage(): void {
  if (loaded) return;
  const tarball = join(work, "docs.tar");
  run(process.execPath, [
    SPECK,
    "build",
    join(EXAMPLES, "docs"),
    "-o",
    tarball,
    "-t",
    tag,
    "--platform",
    "linux/amd64",
  ]);
  run("docker", ["load", "-i", tarball]);
  loaded = true;
}

test("docker load + docker run serve every route of the docs example like the preview, hardened and non-root", async (t) => {
  if (!requireCommands(t, ["docker"], "apt-get install docker.io (and start dockerd)")) return;
  const packFile = join(work, "docs.pack");
  loadDocsImage();
  run(process.execPath, [SPECK, "pack", join(EXAMPLES, "docs"), "-o", packFile]);
  t.diagnostic(`docker images size: ${run("docker", ["images", tag, "--format", "{{.Size}}"])}`);
  const id = run("docker", [
    "run",
    "-d",
    "-p",
    "127.0.0.1::8080",
    "--read-only",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    // the image's own check, probed every second instead of every 30 s (Docker 20.10 ignores the
    // image's start interval)
    "--health-interval",
    "1s",
    tag,
  ]);
  const preview = await startPreview({ pack: readFileSync(packFile), port: 0 });
  try {
    const port = run("docker", ["port", id, "8080/tcp"]).split(":").pop()!;
    let ready = false;
    for (let i = 0; i < 50 && !ready; i++) {
      ready = spawnSync("docker", ["exec", id, "/speck", "--health"]).status === 0;
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ready, "the server answers --health");
    assert.equal(run("docker", ["inspect", id, "--format", "{{.Config.User}}"]), "65532:65532");
    let health = "";
    for (let i = 0; i < 100 && health !== "healthy"; i++) {
      health = run("docker", ["inspect", id, "--format", "{{.State.Health.Status}}"]);
      if (health !== "healthy") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(health, "healthy", "the image's HEALTHCHECK turns healthy");
    const routes = readPack(readFileSync(packFile)).routes();
    assert.ok(routes.length > 15);
    for (const route of routes) {
      const path = encodeURI(route.path);
      const [fromImage, fromPreview] = await Promise.all(
        [port, String(preview.port)].map((p) =>
          fetch(`http://127.0.0.1:${p}${path}`, { redirect: "manual" }),
        ),
      );
      assert.equal(fromImage!.status, fromPreview!.status, path);
      assert.equal(fromImage!.headers.get("content-type"), fromPreview!.headers.get("content-type"), path);
      assert.equal(fromImage!.headers.get("location"), fromPreview!.headers.get("location"), path);
      assert.deepEqual(
        Buffer.from(await fromImage!.arrayBuffer()),
        Buffer.from(await fromPreview!.arrayBuffer()),
        path,
      );
    }
    const stopped = Date.now();
    run("docker", ["stop", id]);
    const took = Date.now() - stopped;
    t.diagnostic(`docker stop took ${took} ms`);
    assert.ok(took < 2000, `docker stop took ${took} ms`);
    assert.equal(run("docker", ["inspect", id, "--format", "{{.State.ExitCode}}"]), "0");
  } finally {
    await preview.close();
    spawnSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  }
});

test("podman load + podman run serve the hello example, hardened, and stop cleanly", async (t) => {
  if (!requireCommands(t, ["podman"], "apt-get install podman")) return;
  const tarball = join(work, "hello.tar");
  const name = `speck-e2e/hello:${process.pid}`;
  run(process.execPath, [
    SPECK,
    "build",
    join(EXAMPLES, "hello"),
    "-o",
    tarball,
    "-t",
    name,
    "--platform",
    "linux/amd64",
  ]);
  const loaded = run("podman", ["load", "-i", tarball]);
  const image = /Loaded image: (\S+)/.exec(loaded)?.[1] ?? name;
  const id = run("podman", [
    "run",
    "-d",
    "-p",
    "127.0.0.1::8080",
    "--read-only",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    image,
  ]);
  try {
    const port = run("podman", ["port", id, "8080/tcp"]).split(":").pop()!;
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await fetch(`http://127.0.0.1:${port}/`)
        .then((r) => r.status)
        .catch(() => 0);
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
    const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.equal(body, readFileSync(join(EXAMPLES, "hello/index.html"), "utf8"));
    run("podman", ["stop", id]);
    assert.equal(run("podman", ["inspect", id, "--format", "{{.State.ExitCode}}"]), "0");
  } finally {
    spawnSync("podman", ["rm", "-f", id], { stdio: "ignore" });
    spawnSync("podman", ["rmi", "-f", image], { stdio: "ignore" });
  }
});

test("docker run with a privileged PORT where ports below 1024 need root (as on Kubernetes): one line, exit 2", (t) => {
  if (!requireCommands(t, ["docker"], "apt-get install docker.io (and start dockerd)")) return;
  loadDocsImage();
  // Docker lets containers bind every port (ip_unprivileged_port_start 0); Kubernetes pods keep 1024
  const sysctl = "net.ipv4.ip_unprivileged_port_start=1024";
  const result = spawnSync(
    "docker",
    ["run", "--rm", "-e", "PORT=80", "--sysctl", sysctl, "--cap-drop", "ALL", tag],
    {
      encoding: "utf8",
      timeout: 20_000,
    },
  );
  assert.equal(result.status, 2, result.stderr);
  assert.equal(result.stderr, "speck: cannot listen on port 80: below 1024 it needs privileges\n");
});

test("docker run --cpus 1: one process serves, as the container's CPU quota allows one CPU", async (t) => {
  if (!requireCommands(t, ["docker"], "apt-get install docker.io (and start dockerd)")) return;
  loadDocsImage();
  const processes = async (flags: string[]): Promise<number> => {
    const id = run("docker", ["run", "-d", "--rm", "-p", "127.0.0.1::8080", ...flags, tag]);
    try {
      const port = run("docker", ["port", id, "8080/tcp"]).split(":").pop()!;
      for (let i = 0; i < 50; i++) {
        if (
          await fetch(`http://127.0.0.1:${port}/`).then(
            (r) => r.ok,
            () => false,
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      return run("docker", ["top", id]).trim().split("\n").length - 1;
    } finally {
      spawnSync("docker", ["rm", "-f", id], { stdio: "ignore" });
    }
  };
  assert.equal(await processes(["--cpus", "1"]), 1);
  // without a quota: a supervisor and a worker per CPU (here, the CPUs of this machine)
  const cpus = availableParallelism();
  assert.equal(await processes([]), cpus > 1 ? cpus + 1 : 1);
});
