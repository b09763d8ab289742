// Writes one platform of an image as a single tarball that `docker load` and `podman load` both
// accept: an OCI layout (`oci-layout`, `index.json`, `blobs/sha256/...`) plus Docker's
// `manifest.json` (https://github.com/moby/moby/blob/master/image/spec/v1.2.md, "Combined Image
// JSON + Filesystem Changeset Format"), the same shape `docker save` writes since Docker 25.

import { canonicalJsonBytes } from "./json.ts";
import { blobPath, layoutIndex, OCI_LAYOUT_BYTES, OCI_LAYOUT_FILE } from "./layout.ts";
import { secondsOf } from "./oci.ts";
import { writeFileAtomically } from "./output.ts";
import type { Platform } from "./platform.ts";
import { familiarName, parseReference } from "./reference.ts";
import { type ImageSource, selectImage } from "./source.ts";
import { type TarEntry, tarStream } from "./tar.ts";

/** Docker's manifest.json for one image of `source`. */
export function dockerManifest(source: ImageSource, platform?: Platform): Uint8Array {
  const image = selectImage(source, platform);
  const repoTags = source.imageName ? [familiarName(parseReference(source.imageName))] : [];
  return canonicalJsonBytes([
    {
      Config: blobPath(image.manifest.config.digest),
      RepoTags: repoTags,
      Layers: image.manifest.layers.map((layer) => blobPath(layer.digest)),
    },
  ]);
}

/** The entries of the tarball for one platform of `source`. */
export function archiveEntries(source: ImageSource, platform?: Platform): TarEntry[] {
  const image = selectImage(source, platform);
  const digests = new Set([image.descriptor.digest, image.manifest.config.digest]);
  for (const layer of image.manifest.layers) digests.add(layer.digest);
  return [
    { type: "file", path: OCI_LAYOUT_FILE, content: OCI_LAYOUT_BYTES },
    { type: "file", path: "index.json", content: layoutIndex(source, image.descriptor) },
    { type: "file", path: "manifest.json", content: dockerManifest(source, platform) },
    ...[...digests].map(
      (digest): TarEntry => ({ type: "file", path: blobPath(digest), content: source.blob(digest) }),
    ),
  ];
}

/**
 * Writes one platform of `source` (the only one unless `platform` is given) to the tarball
 * `file`, atomically. Entries carry the image's creation time, so the bytes are reproducible.
 */
export async function writeDockerArchive(
  source: ImageSource,
  file: string,
  platform?: Platform,
): Promise<void> {
  const image = selectImage(source, platform);
  const mtime = secondsOf(image.config.created) ?? 0;
  await writeFileAtomically(file, tarStream(archiveEntries(source, platform), mtime));
}
