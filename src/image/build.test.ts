import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { collect } from "./blob.ts";
import { type BuildOptions, buildImage, DEFAULT_USER } from "./build.ts";
import { ANNOTATION, type Index, MEDIA_TYPE } from "./oci.ts";
import { PLATFORMS } from "./platform.ts";
import { standInServer } from "./stand-in.ts";
import { listTar } from "./tar-read.ts";

const CREATED = 1_700_000_000;
const pack = new TextEncoder().encode("pack bytes ".repeat(100));
const options: BuildOptions = {
  platforms: PLATFORMS.map((platform) => ({ platform, server: standInServer(platform) })),
  pack,
  created: CREATED,
  tag: "ghcr.io/acme/site:1.4",
  metadata: { title: "Site", source: "https://github.com/acme/site", revision: "abc123", version: "1.4" },
  labels: { team: "web" },
};

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

test("buildImage() makes one config and manifest per platform and an index over them", async () => {
  const image = await buildImage(options);
  assert.equal(image.root.mediaType, MEDIA_TYPE.index);
  const index = JSON.parse(Buffer.from(image.rootBytes).toString()) as Index;
  assert.deepEqual(
    index.manifests.map((m) => m.platform),
    [
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ],
  );
  assert.equal(index.annotations?.[ANNOTATION.created], "2023-11-14T22:13:20Z");
  assert.equal(image.refName, "1.4");
  assert.equal(image.imageName, "ghcr.io/acme/site:1.4");
  for (const [i, platformImage] of image.images.entries()) {
    assert.equal(platformImage.descriptor.digest, index.manifests[i]!.digest);
    assert.equal(sha256(platformImage.manifestBytes), platformImage.descriptor.digest);
    assert.equal(sha256(platformImage.configBytes), platformImage.manifest.config.digest);
    const { config, manifest } = platformImage;
    assert.equal(config.architecture, platformImage.platform.architecture);
    assert.equal(config.variant, platformImage.platform.architecture === "arm64" ? "v8" : undefined);
    assert.deepEqual(config.config?.Entrypoint, ["/speck", "/site.pack"]);
    assert.deepEqual(config.config?.ExposedPorts, { "8080/tcp": {} });
    assert.deepEqual(config.config?.Env, ["PORT=8080"]);
    assert.equal(config.config?.User, DEFAULT_USER);
    assert.deepEqual(config.config?.Healthcheck?.Test, ["CMD", "/speck", "--health"]);
    assert.equal(config.config?.Labels?.team, "web");
    assert.equal(config.config?.Labels?.[ANNOTATION.revision], "abc123");
    assert.equal(config.created, "2023-11-14T22:13:20Z");
    assert.equal(config.history?.length, manifest.layers.length);
    assert.equal(manifest.annotations?.[ANNOTATION.source], "https://github.com/acme/site");
    assert.equal(manifest.annotations?.[ANNOTATION.version], "1.4");
    assert.equal(manifest.layers.length, 2);
    for (const [j, layer] of manifest.layers.entries()) {
      const blob = await collect(image.blob(layer.digest).open());
      assert.equal(layer.mediaType, MEDIA_TYPE.layer);
      assert.equal(sha256(blob), layer.digest);
      assert.equal(blob.byteLength, layer.size);
      assert.equal(sha256(gunzipSync(blob)), config.rootfs.diff_ids[j], "diff_id is the digest of the tar");
    }
  }
  assert.equal(
    image.images[0]!.manifest.layers[1]!.digest,
    image.images[1]!.manifest.layers[1]!.digest,
    "one pack blob",
  );
  assert.notEqual(image.images[0]!.manifest.layers[0]!.digest, image.images[1]!.manifest.layers[0]!.digest);
});

test("buildImage() puts the server at /speck (0555) and the pack at /site.pack (0444)", async () => {
  const image = await buildImage({ ...options, platforms: options.platforms.slice(0, 1) });
  assert.equal(image.root.mediaType, MEDIA_TYPE.manifest, "a single platform needs no index");
  const [serverLayer, packLayer] = image.images[0]!.manifest.layers;
  const serverTar = gunzipSync(await collect(image.blob(serverLayer!.digest).open()));
  const packTar = gunzipSync(await collect(image.blob(packLayer!.digest).open()));
  const [server] = listTar(serverTar);
  const [packEntry] = listTar(packTar);
  assert.deepEqual([server!.name, server!.mode, server!.mtime, server!.uid], ["speck", 0o555, CREATED, 0]);
  assert.deepEqual(
    [packEntry!.name, packEntry!.mode, packEntry!.size],
    ["site.pack", 0o444, pack.byteLength],
  );
  assert.deepEqual(
    packTar.subarray(packEntry!.offset, packEntry!.offset + packEntry!.size),
    Buffer.from(pack),
  );
  const summary = image.summary.platforms[0]!;
  assert.equal(summary.imageSize, summary.configSize + summary.serverLayerSize + image.summary.packLayerSize);
  assert.equal(summary.serverBytes, options.platforms[0]!.server.byteLength);
  assert.equal(image.summary.digest, image.root.digest);
  assert.equal(image.summary.packBytes, pack.byteLength);
});

test("buildImage() is reproducible and the pack's form (bytes, chunks, file) does not matter", async () => {
  const dir = mkdtempSync(join(tmpdir(), "speck-build-"));
  try {
    const file = join(dir, "site.pack");
    writeFileSync(file, pack);
    const a = await buildImage(options);
    const b = await buildImage({ ...options, pack: [pack.subarray(0, 7), pack.subarray(7)] });
    const c = await buildImage({ ...options, pack: file, keepInMemory: 0 });
    assert.equal(b.root.digest, a.root.digest);
    assert.equal(c.root.digest, a.root.digest);
    const later = await buildImage({ ...options, created: CREATED + 1 });
    assert.notEqual(later.root.digest, a.root.digest);
    // A layer not kept in memory is compressed again when read, and checked against its digest.
    const packDigest = c.images[0]!.manifest.layers[1]!.digest;
    assert.equal(sha256(await collect(c.blob(packDigest).open())), packDigest);
    writeFileSync(file, Buffer.concat([pack.subarray(0, 10), Buffer.from("X"), pack.subarray(11)]));
    await assert.rejects(collect(c.blob(packDigest).open()), /layer sha256:\w+ changed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("buildImage() rejects bad options with one clear line", async () => {
  const cases: [Partial<BuildOptions>, RegExp][] = [
    [{ tag: "Acme/Site" }, /invalid image reference "Acme\/Site": the repository name must be lowercase/],
    [{ platforms: [{ platform: "linux/arm/v7", server: pack }] }, /unsupported platform "linux\/arm\/v7"/],
    [{ platforms: [] }, /no platform to build/],
    [{ platforms: [options.platforms[0]!, options.platforms[0]!] }, /platform linux\/amd64 is given twice/],
    [
      { platforms: [{ platform: "linux/amd64", server: new Uint8Array(0) }] },
      /server for linux\/amd64 is empty/,
    ],
    [{ user: "0:0" }, /invalid user "0:0": use a numeric non-root/],
    [{ user: "nobody" }, /invalid user "nobody"/],
    [{ port: 70000 }, /invalid port 70000/],
    [{ created: -5 }, /invalid creation time -5/],
    [{ pack: "/nonexistent/site.pack" }, /cannot read \/nonexistent\/site.pack: no such file or directory/],
  ];
  for (const [change, pattern] of cases) {
    await assert.rejects(buildImage({ ...options, ...change }), (error: Error) => {
      assert.equal(error.name, "ImageError");
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes("\n"), "one line");
      return true;
    });
  }
});
