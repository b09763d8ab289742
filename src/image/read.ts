// Reads an image back from an OCI layout folder or from a tarball holding one (what writeLayout
// and writeDockerArchive produce, and what skopeo, buildx and `docker save` write): index.json,
// the manifests and configs it reaches, and the blobs as streams checked against their digests.
// The round-trip tests use it, and so does `speck push <layout-or-tarball>`.

import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Blob, sha256Digest, verified } from "./blob.ts";
import { fileError, ImageError } from "./errors.ts";
import { blobPath, OCI_LAYOUT_FILE } from "./layout.ts";
import {
  ANNOTATION,
  type Descriptor,
  type ImageConfig,
  type Index,
  type Manifest,
  MEDIA_TYPE,
} from "./oci.ts";
import type { Platform } from "./platform.ts";
import type { ImageSource, PlatformImage } from "./source.ts";
import { listTarFile } from "./tar-read.ts";

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const INDEX_TYPES = new Set<string>([MEDIA_TYPE.index, MEDIA_TYPE.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MEDIA_TYPE.manifest, MEDIA_TYPE.dockerManifest]);

/** An image read from a layout: the ImageSource plus index.json and Docker's manifest.json if any. */
export interface ReadImage extends ImageSource {
  /** The parsed index.json of the layout. */
  readonly layoutIndex: Index;
  /** The parsed manifest.json of a docker-loadable tarball, when there is one. */
  readonly dockerManifest?: unknown;
}

/** The files of a layout, wherever they are stored. */
interface Files {
  readonly where: string;
  size(name: string): number | undefined;
  open(name: string): AsyncIterable<Uint8Array>;
  read(name: string): Uint8Array;
}

function folderFiles(dir: string): Files {
  return {
    where: dir,
    size(name) {
      try {
        const stat = statSync(join(dir, name));
        return stat.isFile() ? stat.size : undefined;
      } catch {
        return undefined;
      }
    },
    open: (name) => createReadStream(join(dir, name)),
    read: (name) => readFileSync(join(dir, name)),
  };
}

async function* nothing(): AsyncGenerator<Uint8Array> {}

function tarFiles(file: string, fileSize: number): Files {
  const entries = new Map(
    listTarFile(file, fileSize)
      .filter((entry) => entry.type === "0")
      .map((entry) => [entry.name.replace(/^\.\//, ""), entry]),
  );
  const entry = (name: string) => {
    const found = entries.get(name);
    if (!found) throw new ImageError(`${file} has no ${name}`);
    return found;
  };
  return {
    where: file,
    size: (name) => entries.get(name)?.size,
    open(name) {
      const { offset, size } = entry(name);
      return size === 0 ? nothing() : createReadStream(file, { start: offset, end: offset + size - 1 });
    },
    read(name) {
      const { offset, size } = entry(name);
      const buffer = Buffer.alloc(size);
      const fd = openSync(file, "r");
      try {
        let done = 0;
        while (done < size) {
          const read = readSync(fd, buffer, done, size - done, offset + done);
          if (read === 0) throw new ImageError(`${file} is truncated in ${name}`);
          done += read;
        }
      } finally {
        closeSync(fd);
      }
      return buffer;
    },
  };
}

function parseJson<T>(files: Files, name: string): T {
  try {
    return JSON.parse(Buffer.from(files.read(name)).toString("utf8")) as T;
  } catch (error) {
    throw new ImageError(`${files.where}: ${name} is not valid JSON (${(error as Error).message})`);
  }
}

function blobOf(files: Files, digest: string): Blob {
  if (!DIGEST.test(digest)) throw new ImageError(`${files.where}: unsupported digest "${digest}"`);
  const name = blobPath(digest);
  const size = files.size(name);
  if (size === undefined) throw new ImageError(`${files.where}: blob ${digest} is missing`);
  return {
    digest,
    size,
    open: () => verified(files.open(name), digest, size, `${files.where}: blob ${digest}`),
  };
}

function readBlob(files: Files, descriptor: Descriptor): Uint8Array {
  blobOf(files, descriptor.digest); // checks the digest's form and that the blob exists
  const bytes = files.read(blobPath(descriptor.digest));
  if (bytes.byteLength !== descriptor.size || sha256Digest(bytes) !== descriptor.digest) {
    throw new ImageError(`${files.where}: blob ${descriptor.digest} does not match its descriptor`);
  }
  return bytes;
}

function platformOf(descriptor: Descriptor, config: ImageConfig): Platform {
  const platform = descriptor.platform ?? config;
  return {
    os: platform.os,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
  };
}

function readPlatformImage(files: Files, descriptor: Descriptor): PlatformImage {
  const manifestBytes = readBlob(files, descriptor);
  const manifest = JSON.parse(Buffer.from(manifestBytes).toString("utf8")) as Manifest;
  const configBytes = readBlob(files, manifest.config);
  const config = JSON.parse(Buffer.from(configBytes).toString("utf8")) as ImageConfig;
  for (const layer of manifest.layers) blobOf(files, layer.digest);
  return {
    platform: platformOf(descriptor, config),
    descriptor,
    manifest,
    manifestBytes,
    config,
    configBytes,
  };
}

function chooseRoot(files: Files, index: Index, ref: string | undefined): Descriptor {
  const roots = index.manifests.filter(
    (entry) => INDEX_TYPES.has(entry.mediaType) || MANIFEST_TYPES.has(entry.mediaType),
  );
  const names = roots.map((entry) => entry.annotations?.[ANNOTATION.refName]).filter(Boolean);
  if (ref !== undefined) {
    const named = roots.filter(
      (entry) =>
        entry.annotations?.[ANNOTATION.refName] === ref ||
        entry.annotations?.[ANNOTATION.containerdName] === ref,
    );
    if (named.length === 1) return named[0]!;
    throw new ImageError(
      `${files.where} has no single image named "${ref}" (it has: ${names.join(", ") || "no names"})`,
    );
  }
  if (roots.length === 1) return roots[0]!;
  throw new ImageError(
    `${files.where} holds ${roots.length} images; name one (${names.join(", ") || "they have no names"})`,
  );
}

/**
 * Reads the image in the OCI layout folder or tarball at `path`. When the layout holds several
 * images, `ref` picks one by its `org.opencontainers.image.ref.name` (or full name). Manifests
 * and configs are read and checked now; blobs are streamed, and checked, when opened.
 */
export function readLayout(path: string, ref?: string): ReadImage {
  const where = resolve(path);
  let files: Files;
  try {
    const stat = statSync(where);
    files = stat.isDirectory() ? folderFiles(where) : tarFiles(where, stat.size);
  } catch (error) {
    throw error instanceof ImageError ? error : fileError("read", where, error);
  }
  if (files.size(OCI_LAYOUT_FILE) === undefined || files.size("index.json") === undefined) {
    throw new ImageError(`${where} is not an OCI image layout: it lacks ${OCI_LAYOUT_FILE} or index.json`);
  }
  const layoutIndex = parseJson<Index>(files, "index.json");
  const root = chooseRoot(files, layoutIndex, ref);
  const rootBytes = readBlob(files, root);
  let images: PlatformImage[];
  if (INDEX_TYPES.has(root.mediaType)) {
    const index = JSON.parse(Buffer.from(rootBytes).toString("utf8")) as Index;
    images = index.manifests
      .filter((entry) => MANIFEST_TYPES.has(entry.mediaType) && entry.platform?.os !== "unknown")
      .map((entry) => readPlatformImage(files, entry));
  } else {
    images = [readPlatformImage(files, root)];
  }
  const refName = root.annotations?.[ANNOTATION.refName];
  const imageName = root.annotations?.[ANNOTATION.containerdName];
  return {
    root,
    rootBytes,
    images,
    layoutIndex,
    ...(refName ? { refName } : {}),
    ...(imageName ? { imageName } : {}),
    ...(files.size("manifest.json") !== undefined
      ? { dockerManifest: parseJson<unknown>(files, "manifest.json") }
      : {}),
    blob: (digest: string) => blobOf(files, digest),
  };
}
