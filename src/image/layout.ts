// Writes an OCI image layout folder (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
// `oci-layout`, `index.json` naming the root by its tag, and every blob under `blobs/sha256/`.

import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { verified } from "./blob.ts";
import { canonicalJsonBytes } from "./json.ts";
import { ANNOTATION, type Descriptor, descriptor, type Index, MEDIA_TYPE } from "./oci.ts";
import { writeFile, writeFolderAtomically } from "./output.ts";
import { blobDigests, type ImageSource } from "./source.ts";

export const OCI_LAYOUT_FILE = "oci-layout";
export const OCI_LAYOUT_BYTES = canonicalJsonBytes({ imageLayoutVersion: "1.0.0" });

/** The path of a blob inside a layout: `blobs/sha256/<hex>`. */
export function blobPath(digest: string): string {
  const [algorithm, hex] = digest.split(":");
  return `blobs/${algorithm}/${hex}`;
}

/** The name annotations of a root descriptor in index.json: the tag and the full name. */
export function nameAnnotations(source: ImageSource): Record<string, string> {
  return {
    ...(source.refName ? { [ANNOTATION.refName]: source.refName } : {}),
    ...(source.imageName ? { [ANNOTATION.containerdName]: source.imageName } : {}),
  };
}

/** index.json of a layout holding `root` under the names of `source`. */
export function layoutIndex(source: ImageSource, root: Descriptor): Uint8Array {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.index,
    manifests: [
      descriptor(root, {
        ...(root.platform ? { platform: root.platform } : {}),
        annotations: nameAnnotations(source),
      }),
    ],
  };
  return canonicalJsonBytes(index);
}

async function* bytes(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

/**
 * Writes `source` as an OCI image layout folder at `dir`, atomically: a temporary folder beside
 * it is filled, then renamed. An existing layout (or empty folder) at `dir` is replaced.
 */
export async function writeLayout(source: ImageSource, dir: string): Promise<void> {
  await writeFolderAtomically(
    dir,
    (existing) => existsSync(join(existing, OCI_LAYOUT_FILE)),
    async (tmp) => {
      await writeFile(join(tmp, OCI_LAYOUT_FILE), bytes(OCI_LAYOUT_BYTES));
      await mkdir(join(tmp, "blobs", "sha256"), { recursive: true });
      for (const digest of blobDigests(source)) {
        const blob = source.blob(digest);
        await writeFile(
          join(tmp, blobPath(digest)),
          verified(blob.open(), blob.digest, blob.size, `blob ${digest}`),
        );
      }
      await writeFile(join(tmp, "index.json"), bytes(layoutIndex(source, source.root)));
    },
  );
}
