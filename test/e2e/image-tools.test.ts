// The image part against real tools: skopeo and umoci accept the layout and the tarball, skopeo
// converts them to docker-archive and back, and two builds of the same site from different
// folders and times are identical when SOURCE_DATE_EPOCH is set.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { collect } from "../../src/image/blob.ts";
import {
  buildImage,
  type Image,
  PLATFORMS,
  readLayout,
  resolveCreated,
  writeDockerArchive,
  writeLayout,
} from "../../src/image/index.ts";
import { standInServer } from "../../src/image/stand-in.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-image-tools-"));
after(() => rmSync(work, { recursive: true, force: true }));

const TAG = "localhost:5000/acme/site:1.4";
const run = (command: string, args: string[]) =>
  execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** A site folder and a stand-in for its pack (the pack part builds the real one). */
function makeSite(dir: string, mtime: number): string {
  const files: [string, string][] = [
    ["index.html", "<h1>hello</h1>\n"],
    ["about/index.html", "<p>about</p>\n"],
    ["style.css", "body{margin:0}\n"],
  ];
  for (const [name, body] of files) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), body);
    utimesSync(join(dir, name), mtime, mtime);
  }
  const pack = join(dir, "..", `${dir.split("/").pop()}.pack`);
  writeFileSync(pack, files.map(([name, body]) => `${name}\n${body}`).join(""));
  return pack;
}

async function buildSite(siteDir: string, env: NodeJS.ProcessEnv, platforms = PLATFORMS): Promise<Image> {
  const pack = makeSite(siteDir, Number(env.TEST_MTIME));
  return buildImage({
    platforms: platforms.map((platform) => ({ platform, server: standInServer(platform) })),
    pack,
    created: resolveCreated(siteDir, env),
    tag: TAG,
    metadata: { title: "tools test" },
  });
}

test("the stand-in server runs natively and under qemu-aarch64", (t) => {
  if (!requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")) return;
  for (const platform of PLATFORMS) {
    const file = join(work, `stand-in-${platform.architecture}`);
    writeFileSync(file, standInServer(platform, `hi from ${platform.architecture}\n`));
    chmodSync(file, 0o755);
    const out =
      platform.architecture === "arm64" ? run("qemu-aarch64-static", [file]) : run(file, ["/site.pack"]);
    assert.equal(out, `hi from ${platform.architecture}\n`);
  }
});

test("two builds from different folders and times agree byte for byte with SOURCE_DATE_EPOCH", async () => {
  const outputs: { image: Image; tar: Buffer; index: string }[] = [];
  for (const [name, mtime] of [
    ["one", 1_600_000_000],
    ["two", 1_700_000_000],
  ] as const) {
    const root = join(work, `repro-${name}`);
    mkdirSync(root);
    const image = await buildSite(join(root, "site"), {
      SOURCE_DATE_EPOCH: "1650000000",
      TEST_MTIME: String(mtime),
    });
    await writeLayout(image, join(root, "layout"));
    await writeDockerArchive(image, join(root, "site.tar"), PLATFORMS[0]);
    outputs.push({
      image,
      tar: readFileSync(join(root, "site.tar")),
      index: readFileSync(join(root, "layout", "index.json"), "utf8"),
    });
  }
  const [one, two] = outputs as [(typeof outputs)[0], (typeof outputs)[0]];
  assert.equal(one.image.root.digest, two.image.root.digest);
  assert.deepEqual(
    one.image.images.map((image) => image.descriptor.digest),
    two.image.images.map((image) => image.descriptor.digest),
  );
  assert.equal(one.index, two.index);
  assert.ok(one.tar.equals(two.tar), "byte-identical tarballs");
  assert.equal(one.image.images[0]!.config.created, "2022-04-15T05:20:00Z");

  // Without SOURCE_DATE_EPOCH (and outside git) the newest file's time is used: meaningful, not the clock.
  const root = join(work, "repro-three");
  mkdirSync(root);
  const three = await buildSite(join(root, "site"), { TEST_MTIME: "1700000000" });
  assert.equal(three.images[0]!.config.created, "2023-11-14T22:13:20Z");
  assert.notEqual(three.root.digest, one.image.root.digest);
});

test("skopeo inspects the layout per platform and the tarball both as docker-archive and oci-archive", async (t) => {
  if (!requireCommands(t, ["skopeo"], "apt-get install skopeo")) return;
  const image = await buildSite(join(work, "skopeo-site"), {
    SOURCE_DATE_EPOCH: "1650000000",
    TEST_MTIME: "1",
  });
  const layout = join(work, "skopeo-layout");
  await writeLayout(image, layout);
  const raw = run("skopeo", ["inspect", "--raw", `oci:${layout}:1.4`]);
  assert.equal(raw, Buffer.from(image.rootBytes).toString());
  for (const [i, platform] of PLATFORMS.entries()) {
    const args = ["inspect", "--override-os", "linux", "--override-arch", platform.architecture];
    if (platform.variant) args.push("--override-variant", platform.variant);
    const inspected = JSON.parse(run("skopeo", [...args, `oci:${layout}:1.4`]));
    assert.equal(inspected.Digest, image.root.digest, "skopeo reports the digest the tag names");
    assert.equal(inspected.Architecture, platform.architecture);
    assert.deepEqual(
      inspected.Layers,
      image.images[i]!.manifest.layers.map((layer) => layer.digest),
    );
    assert.equal(inspected.Created, "2022-04-15T05:20:00Z");
  }
  const tarball = join(work, "skopeo.tar");
  await writeDockerArchive(image, tarball, PLATFORMS[1]);
  const viaDocker = JSON.parse(
    run("skopeo", ["inspect", "--override-arch", "arm64", `docker-archive:${tarball}`]),
  );
  assert.deepEqual(viaDocker.RepoTags, []);
  assert.equal(viaDocker.Architecture, "arm64");
  assert.equal(viaDocker.Layers.length, 2);
  const viaOci = JSON.parse(run("skopeo", ["inspect", "--override-arch", "arm64", `oci-archive:${tarball}`]));
  assert.equal(viaOci.Digest, image.images[1]!.descriptor.digest);
});

test("skopeo copies the layout to a docker-archive and back without changing the filesystem", async (t) => {
  if (!requireCommands(t, ["skopeo"], "apt-get install skopeo")) return;
  const image = await buildSite(
    join(work, "copy-site"),
    { SOURCE_DATE_EPOCH: "1650000000", TEST_MTIME: "1" },
    [PLATFORMS[0]!],
  );
  const layout = join(work, "copy-layout");
  await writeLayout(image, layout);
  const archive = join(work, "copy-docker.tar");
  const back = join(work, "copy-back");
  run("skopeo", ["copy", "-q", `oci:${layout}:1.4`, `docker-archive:${archive}:acme/site:1.4`]);
  run("skopeo", ["copy", "-q", `docker-archive:${archive}`, `oci:${back}:back`]);
  const original = image.images[0]!;
  const copied = readLayout(back, "back").images[0]!;
  assert.deepEqual(copied.config.rootfs.diff_ids, original.config.rootfs.diff_ids);
  // containers/image converts the config through OCI's struct, which has no Healthcheck.
  const { Healthcheck: _dropped, ...runConfig } = original.config.config!;
  assert.deepEqual(copied.config.config, runConfig);
  const copiedLayers = await Promise.all(
    copied.manifest.layers.map(async (layer) => {
      const blob = Buffer.from(await collect(readLayout(back, "back").blob(layer.digest).open()));
      return blob[0] === 0x1f ? gunzipSync(blob) : blob;
    }),
  );
  const originalLayers = await Promise.all(
    original.manifest.layers.map(async (layer) => gunzipSync(await collect(image.blob(layer.digest).open()))),
  );
  assert.deepEqual(copiedLayers, originalLayers);

  // An OCI archive written by skopeo reads back with the digest unchanged.
  const ociArchive = join(work, "copy-oci.tar");
  run("skopeo", ["copy", "-q", `oci:${layout}:1.4`, `oci-archive:${ociArchive}:1.4`]);
  assert.equal(readLayout(ociArchive).root.digest, image.root.digest);
});

test("umoci unpacks the layout: /speck 0555 and /site.pack 0444 owned by root, run as 65532", async (t) => {
  if (!requireCommands(t, ["umoci"], "apt-get install umoci")) return;
  // umoci 0.4 resolves a tag to exactly one manifest, so it unpacks a single-platform layout.
  const image = await buildSite(
    join(work, "umoci-site"),
    { SOURCE_DATE_EPOCH: "1650000000", TEST_MTIME: "1" },
    [PLATFORMS[0]!],
  );
  const layout = join(work, "umoci-layout");
  await writeLayout(image, layout);
  const bundle = join(work, "umoci-bundle");
  run("umoci", ["unpack", "--image", `${layout}:1.4`, bundle]);
  const rootfs = join(bundle, "rootfs");
  assert.deepEqual(readdirSync(rootfs).sort(), ["site.pack", "speck"]);
  const server = statSync(join(rootfs, "speck"));
  const pack = statSync(join(rootfs, "site.pack"));
  assert.equal((server.mode & 0o7777).toString(8), "555");
  assert.equal((pack.mode & 0o7777).toString(8), "444");
  assert.deepEqual([server.uid, server.gid, pack.uid, pack.gid], [0, 0, 0, 0]);
  assert.equal(Math.floor(server.mtimeMs / 1000), 1_650_000_000);
  assert.equal(
    readFileSync(join(rootfs, "site.pack"), "utf8"),
    readFileSync(join(work, "umoci-site.pack"), "utf8"),
  );
  const runtime = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
  assert.deepEqual(runtime.process.args, ["/speck", "/site.pack"]);
  assert.deepEqual([runtime.process.user.uid, runtime.process.user.gid], [65532, 65532]);
  assert.ok(runtime.process.env.includes("PORT=8080"));
});
