import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeDockerArchive } from "./archive.ts";
import { collect } from "./blob.ts";
import { type BuildOptions, buildImage } from "./build.ts";
import { writeLayout } from "./layout.ts";
import { ANNOTATION, MEDIA_TYPE } from "./oci.ts";
import { PLATFORMS } from "./platform.ts";
import { readLayout } from "./read.ts";
import type { ImageSource } from "./source.ts";
import { standInServer } from "./stand-in.ts";
import { listTarFile } from "./tar-read.ts";

const work = mkdtempSync(join(tmpdir(), "speck-layout-"));
after(() => rmSync(work, { recursive: true, force: true }));

const options: BuildOptions = {
  platforms: PLATFORMS.map((platform) => ({ platform, server: standInServer(platform) })),
  pack: new TextEncoder().encode("the pack\n".repeat(50)),
  created: 1_700_000_000,
  tag: "localhost:5000/acme/site:1.4",
};

async function sameImage(actual: ImageSource, expected: ImageSource): Promise<void> {
  assert.deepEqual(actual.root, { ...expected.root, annotations: actual.root.annotations });
  assert.deepEqual(Buffer.from(actual.rootBytes), Buffer.from(expected.rootBytes));
  assert.deepEqual(
    actual.images.map((image) => [image.platform, image.descriptor.digest, image.config]),
    expected.images.map((image) => [image.platform, image.descriptor.digest, image.config]),
  );
  for (const image of expected.images) {
    for (const layer of image.manifest.layers) {
      const actualBytes = Buffer.from(await collect(actual.blob(layer.digest).open()));
      assert.deepEqual(actualBytes, Buffer.from(await collect(expected.blob(layer.digest).open())));
    }
  }
}

test("writeLayout() then readLayout() gives back the same image", async () => {
  const image = await buildImage(options);
  const dir = join(work, "layout");
  await writeLayout(image, dir);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8")), {
    imageLayoutVersion: "1.0.0",
  });
  const back = readLayout(dir);
  await sameImage(back, image);
  assert.equal(back.layoutIndex.manifests.length, 1);
  assert.equal(back.root.mediaType, MEDIA_TYPE.index);
  assert.equal(back.root.annotations?.[ANNOTATION.refName], "1.4");
  assert.equal(back.root.annotations?.[ANNOTATION.containerdName], "localhost:5000/acme/site:1.4");
  assert.equal(readLayout(dir, "1.4").root.digest, image.root.digest);
  assert.throws(() => readLayout(dir, "2.0"), /has no single image named "2.0" \(it has: 1.4\)/);
  const blobs = readdirSync(join(dir, "blobs", "sha256")).sort();
  assert.equal(blobs.length, 8, "index, 2 manifests, 2 configs, 2 servers, 1 pack");
  assert.equal((statSync(dir).mode & 0o777).toString(8), "755");
});

test("readLayout() notices a blob that does not match its digest", async () => {
  const image = await buildImage(options);
  const dir = join(work, "tampered");
  await writeLayout(image, dir);
  const packDigest = image.images[0]!.manifest.layers[1]!.digest;
  const path = join(dir, "blobs", "sha256", packDigest.slice(7));
  const bytes = readFileSync(path);
  bytes[bytes.length - 1]! ^= 1;
  writeFileSync(path, bytes);
  await assert.rejects(collect(readLayout(dir).blob(packDigest).open()), /blob sha256:\w+ changed/);
  const configPath = join(dir, "blobs", "sha256", image.images[0]!.manifest.config.digest.slice(7));
  writeFileSync(configPath, "{}");
  assert.throws(() => readLayout(dir), /does not match its descriptor/);
});

test("writeLayout() replaces an earlier layout but refuses to overwrite other folders", async () => {
  const dir = join(work, "again");
  await writeLayout(await buildImage(options), dir);
  const next = await buildImage({ ...options, created: options.created + 60 });
  await writeLayout(next, dir);
  assert.equal(readLayout(dir).root.digest, next.root.digest);
  const other = join(work, "not-a-layout");
  mkdirSync(other);
  writeFileSync(join(other, "keep.txt"), "mine");
  await assert.rejects(
    writeLayout(next, other),
    /not-a-layout exists and is not an image layout; remove it or choose another --output/,
  );
  assert.deepEqual(readdirSync(other), ["keep.txt"]);
});

test("writeDockerArchive() writes one platform as OCI layout plus manifest.json, readable back", async () => {
  const image = await buildImage(options);
  const file = join(work, "site.tar");
  await writeDockerArchive(image, file, PLATFORMS[1]);
  const names = listTarFile(file, statSync(file).size).map((entry) => entry.name);
  assert.deepEqual(names.slice(0, 2), ["blobs/", "blobs/sha256/"]);
  assert.deepEqual(names.slice(-3), ["index.json", "manifest.json", "oci-layout"]);
  const back = readLayout(file);
  const arm = image.images[1]!;
  assert.equal(back.root.digest, arm.descriptor.digest);
  assert.equal(back.images.length, 1);
  await sameImage(back, { ...image, root: arm.descriptor, rootBytes: arm.manifestBytes, images: [arm] });
  const layers = arm.manifest.layers.map((layer) => `blobs/sha256/${layer.digest.slice(7)}`);
  assert.deepEqual(back.dockerManifest, [
    {
      Config: `blobs/sha256/${arm.manifest.config.digest.slice(7)}`,
      Layers: layers,
      RepoTags: ["localhost:5000/acme/site:1.4"],
    },
  ]);
  await assert.rejects(
    writeDockerArchive(image, join(work, "x.tar")),
    /several platforms \(linux\/amd64, linux\/arm64\/v8\); choose one/,
  );
});

test("writeDockerArchive() is byte-for-byte reproducible", async () => {
  const a = join(work, "a.tar");
  const b = join(work, "b.tar");
  await writeDockerArchive(await buildImage(options), a, PLATFORMS[0]);
  await writeDockerArchive(
    await buildImage({ ...options, pack: [options.pack as Uint8Array] }),
    b,
    PLATFORMS[0],
  );
  assert.deepEqual(readFileSync(a), readFileSync(b));
});

test("unwritable outputs get one clear line and leave nothing behind", async () => {
  const image = await buildImage(options);
  await assert.rejects(
    writeLayout(image, "/sys/speck-out"),
    /^ImageError: cannot write \/sys\/speck-out: [^\n]+$/,
  );
  await assert.rejects(
    writeDockerArchive(image, "/sys/speck.tar", PLATFORMS[0]),
    /^ImageError: cannot write \/sys\/speck.tar: /,
  );
  writeFileSync(join(work, "file"), "");
  await assert.rejects(
    writeLayout(image, join(work, "file", "out")),
    /cannot write .*file\/out: .*not a directory|not a folder/,
  );
  await assert.rejects(
    writeLayout(image, join(work, "missing", "out")),
    /cannot write .*missing\/out: no such file or directory/,
  );

  // A failure half-way (a blob that breaks while streaming) leaves neither the target nor a temporary.
  const parent = join(work, "half");
  mkdirSync(parent);
  const broken: ImageSource = {
    ...image,
    blob(digest) {
      const blob = image.blob(digest);
      if (digest !== image.images[0]!.manifest.layers[1]!.digest) return blob;
      return {
        ...blob,
        async *open() {
          yield new Uint8Array(10);
          throw new Error("disk on fire");
        },
      };
    },
  };
  await assert.rejects(writeLayout(broken, join(parent, "out")), /disk on fire/);
  await assert.rejects(writeDockerArchive(broken, join(parent, "out.tar"), PLATFORMS[0]), /disk on fire/);
  assert.deepEqual(readdirSync(parent), []);
});
