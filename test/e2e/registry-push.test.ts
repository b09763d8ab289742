// `speck push` and `speck build --push` against a real registry (Debian's docker-registry,
// distribution 2.8) without auth: a multi-platform layout and a single-platform tarball pulled
// back by skopeo and docker with the digests speck printed, the image run by docker and its page
// fetched; a second push sends no blob, a push to another repository mounts them. A recording
// proxy in front of the registry shows what each push really sent.

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { readLayout } from "../../src/image/index.ts";
import { startFaultsProxy } from "../support/faults-proxy.ts";
import { freePort } from "../support/net.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";
import { hasCommand, requireCommands } from "../support/tools.ts";

const execFileAsync = promisify(execFile);
const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const HELLO = join(import.meta.dirname, "../../examples/hello");
const INSTALL = "apt-get install docker-registry skopeo docker.io (and start dockerd)";
const work = mkdtempSync(join(tmpdir(), "speck-registry-push-"));
let registry: TestRegistry | undefined;

before(async () => {
  if (hasCommand("docker-registry")) registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

function run(
  command: string,
  args: string[],
  input?: string,
): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: "utf8", ...(input === undefined ? {} : { input }) });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function ok(command: string, args: string[]): string {
  const r = run(command, args);
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Runs speck without blocking this process, whose proxy must keep answering meanwhile. */
async function speck(...args: string[]): Promise<string> {
  try {
    return (await execFileAsync(process.execPath, [SPECK, ...args], { encoding: "utf8" })).stdout.trim();
  } catch (error) {
    throw new Error(`speck ${args.join(" ")} failed: ${(error as { stderr?: string }).stderr}`);
  }
}
const digestLine = (out: string) => /^ {2}digest +(sha256:[0-9a-f]{64})$/m.exec(out)?.[1];
/** The digest of what `ref` names, from the bytes skopeo fetches. */
function skopeoDigest(ref: string): string {
  const r = spawnSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`]);
  if (r.status !== 0) throw new Error(`skopeo inspect ${ref} failed: ${r.stderr}`);
  return `sha256:${createHash("sha256").update(r.stdout).digest("hex")}`;
}

test("a multi-platform layout and a single-platform tarball pushed by speck pull back intact with skopeo and docker, and docker runs the site", async (t) => {
  if (!requireCommands(t, ["docker-registry", "skopeo", "docker"], INSTALL)) return;
  const host = registry!.host;
  const layout = join(work, "hello-oci");
  const tarball = join(work, "hello.tar");
  await speck("build", HELLO, "-o", layout, "-t", "acme/hello:1");
  await speck("build", HELLO, "-o", tarball, "-t", "acme/hello:1", "--platform", "linux/amd64");

  const digestFile = join(work, "digest");
  const pushed = await speck("push", layout, `${host}/acme/hello:multi`, "--digest-file", digestFile);
  const multi = digestLine(pushed);
  assert.equal(multi, readLayout(layout).root.digest, "speck prints the layout's digest");
  assert.equal(readFileSync(digestFile, "utf8"), multi, "--digest-file holds the digest");
  assert.match(pushed, /5 uploaded .* 0 mounted.* 0 skipped/);
  assert.equal(skopeoDigest(`${host}/acme/hello:multi`), multi);
  const single = digestLine(await speck("push", tarball, `${host}/acme/hello:single`));
  assert.equal(single, readLayout(tarball).root.digest);
  assert.equal(skopeoDigest(`${host}/acme/hello:single`), single);

  // skopeo copies every platform back into a layout: the same index, manifests and blobs
  const copied = join(work, "copied");
  ok("skopeo", [
    "copy",
    "--all",
    "--src-tls-verify=false",
    `docker://${host}/acme/hello:multi`,
    `oci:${copied}:multi`,
  ]);
  const back = readLayout(copied);
  assert.equal(back.root.digest, multi);
  assert.deepEqual(
    back.images.map((image) => image.descriptor.digest).sort(),
    readLayout(layout)
      .images.map((image) => image.descriptor.digest)
      .sort(),
  );
  for (const image of back.images) {
    for (const layer of image.manifest.layers) for await (const _ of back.blob(layer.digest).open());
  }

  const image = `${host}/acme/hello:multi`;
  const port = await freePort();
  let container = "";
  try {
    ok("docker", ["pull", "-q", image]);
    assert.equal(
      ok("docker", ["inspect", "--format", "{{index .RepoDigests 0}}", image]),
      `${host}/acme/hello@${multi}`,
    );
    container = ok("docker", ["run", "-d", "-p", `127.0.0.1:${port}:8080`, image]);
    let body = "";
    for (let i = 0; i < 50 && body === ""; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`)
        .then((r) => (r.ok ? r.text() : ""))
        .catch(() => "");
      if (body === "") await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(body, readFileSync(join(HELLO, "index.html"), "utf8"));
  } finally {
    if (container) spawnSync("docker", ["rm", "-f", container], { stdio: "ignore" });
    spawnSync("docker", ["rmi", "-f", image], { stdio: "ignore" });
  }
});

test("a second push of the same image uploads no blob, and a push to another repository mounts them", async (t) => {
  if (!requireCommands(t, ["docker-registry", "skopeo"], INSTALL)) return;
  const layout = join(work, "again-oci");
  await speck("build", HELLO, "-o", layout, "-t", "acme/again:1");
  const proxy = await startFaultsProxy({ target: registry!.port });
  const host = `127.0.0.1:${proxy.port}`;
  const uploads = (from: number) =>
    proxy.requests.slice(from).filter((r) => r.path.includes("/blobs/uploads/") && r.method !== "HEAD");
  try {
    const first = await speck("push", layout, `${host}/acme/again:1`);
    assert.match(first, /5 uploaded/);

    let mark = proxy.requests.length;
    const second = await speck("push", layout, `${host}/acme/again:1`);
    assert.match(second, /0 uploaded \(0 B\), 0 mounted, 5 skipped/);
    assert.deepEqual(uploads(mark), [], "the second push starts no upload");
    assert.equal(proxy.requests.slice(mark).filter((r) => r.method === "HEAD").length, 5);

    mark = proxy.requests.length;
    const third = await speck("push", layout, `${host}/acme/mirror:1`, "--mount-from", "acme/again");
    assert.match(third, /0 uploaded \(0 B\), 5 mounted from acme\/again, 0 skipped/);
    const sent = uploads(mark);
    assert.equal(sent.length, 5);
    for (const request of sent) {
      assert.equal(request.method, "POST");
      assert.match(
        request.path,
        /^\/v2\/acme\/mirror\/blobs\/uploads\/\?mount=sha256%3A[0-9a-f]{64}&from=acme%2Fagain$/,
      );
    }
    assert.equal(skopeoDigest(`${registry!.host}/acme/mirror:1`), digestLine(third));
  } finally {
    await proxy.stop();
  }
});

test("speck build --push pushes both platforms and writes the layout, which matches what the registry holds", async (t) => {
  if (!requireCommands(t, ["docker-registry", "skopeo"], INSTALL)) return;
  const layout = join(work, "built-oci");
  const ref = `${registry!.host}/acme/built:2`;
  const out = await speck("build", HELLO, "--push", "-t", ref, "-o", layout);
  const digest = digestLine(out);
  assert.equal(digest, readLayout(layout).root.digest);
  assert.match(out, /speck: pushed 127\.0\.0\.1:\d+\/acme\/built:2 in/);
  assert.equal(skopeoDigest(ref), digest);
  const platforms = JSON.parse(
    ok("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`]),
  ) as {
    manifests: { platform: { architecture: string } }[];
  };
  assert.deepEqual(platforms.manifests.map((m) => m.platform.architecture).sort(), ["amd64", "arm64"]);

  const json = JSON.parse(await speck("build", HELLO, "--push", "-t", ref, "--json")) as {
    push: { digest: string; blobs: { outcome: string }[] };
  };
  assert.equal(json.push.digest, digest, "the same site builds the same image");
  assert.ok(json.push.blobs.every((blob) => blob.outcome === "skipped"));
});

test("speck build --push without --tag, and a push to an invalid reference, fail with one line", () => {
  const noTag = run(process.execPath, [SPECK, "build", HELLO, "--push"]);
  assert.equal(noTag.status, 2);
  assert.equal(
    noTag.stderr,
    "speck: --push needs --tag naming the registry, e.g. --tag ghcr.io/acme/site:1.4\n",
  );
  const badRef = run(process.execPath, [SPECK, "push", join(work, "none"), "127.0.0.1:1/Acme"]);
  assert.equal(badRef.status, 2);
  assert.match(
    badRef.stderr,
    /^speck: invalid image reference "127\.0\.0\.1:1\/Acme": the repository name must be lowercase/,
  );
  assert.equal(badRef.stderr.split("\n").length, 2);
});

test("a push to a registry whose name does not resolve says so at once", () => {
  const layout = join(work, "unresolved-oci");
  ok(process.execPath, [SPECK, "build", HELLO, "-o", layout, "--platform", "linux/amd64"]);
  // .invalid never resolves (RFC 2606)
  const result = run(process.execPath, [SPECK, "push", layout, "registry.speck.invalid/acme/site:1"]);
  assert.equal(result.status, 1);
  assert.match(
    result.stderr,
    /^speck: failed: registry\.speck\.invalid\/acme\/site: GET https:\/\/registry\.speck\.invalid\/v2\/ failed: (ENOTFOUND|EAI_AGAIN): the host name does not resolve; check the registry in the tag, and this machine's DNS\n$/,
  );
});

test("a push to a port where nothing listens fails after three tries with what to check", async () => {
  const layout = join(work, "refused-oci");
  ok(process.execPath, [SPECK, "build", HELLO, "-o", layout, "--platform", "linux/amd64"]);
  const port = await freePort();
  const refused = run(process.execPath, [SPECK, "push", layout, `127.0.0.1:${port}/acme/site:1`]);
  assert.equal(refused.status, 1);
  const lines = refused.stderr.trim().split("\n");
  assert.equal(lines.filter((line) => line.includes("retrying")).length, 2, refused.stderr);
  assert.equal(
    lines.at(-1),
    `speck: failed: 127.0.0.1:${port}/acme/site: GET http://127.0.0.1:${port}/v2/ failed after 3 tries: ` +
      "ECONNREFUSED: nothing listens there; check the registry's host and port, and that it is running",
  );
});
