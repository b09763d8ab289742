// The one shape every image has here, whether just built or read back from a layout or a
// tarball: the root a tag names, the image of each platform, and the blobs by digest. Every
// writer (layout, docker archive, registry push) takes this shape, so any source goes to any
// output.

import type { Blob } from "./blob.ts";
import { ImageError } from "./errors.ts";
import type { Descriptor, ImageConfig, Manifest } from "./oci.ts";
import { type Platform, platformName } from "./platform.ts";

/** The image of one platform: its manifest and config, parsed and as bytes. */
export interface PlatformImage {
  readonly platform: Platform;
  /** The manifest's descriptor, with `platform`. */
  readonly descriptor: Descriptor;
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  readonly config: ImageConfig;
  readonly configBytes: Uint8Array;
}

/** An image of one or several platforms. */
export interface ImageSource {
  /** What a tag names: an index over several platforms, or the manifest of a single one. */
  readonly root: Descriptor;
  readonly rootBytes: Uint8Array;
  readonly images: readonly PlatformImage[];
  /** The tag part of the name (`org.opencontainers.image.ref.name`), e.g. "1.4". */
  readonly refName?: string;
  /** The full name (`io.containerd.image.name`), e.g. "ghcr.io/acme/site:1.4". */
  readonly imageName?: string;
  /** The blob with `digest` (manifests, configs, layers and the index); throws if unknown. */
  blob(digest: string): Blob;
}

/** Every blob digest of `source`, sorted: the root, then manifests, configs and layers. */
export function blobDigests(source: ImageSource): string[] {
  const digests = new Set<string>([source.root.digest]);
  for (const image of source.images) {
    digests.add(image.descriptor.digest);
    digests.add(image.manifest.config.digest);
    for (const layer of image.manifest.layers) digests.add(layer.digest);
  }
  return [...digests].sort();
}

/** The image for `platform`, or the only one when no platform is given. */
export function selectImage(source: ImageSource, platform?: Platform): PlatformImage {
  if (!platform) {
    if (source.images.length === 1) return source.images[0]!;
    const names = source.images.map((image) => platformName(image.platform)).join(", ");
    throw new ImageError(`the image has several platforms (${names}); choose one with --platform`);
  }
  const wanted = platformName(platform);
  const image = source.images.find(
    (candidate) =>
      candidate.platform.os === platform.os &&
      candidate.platform.architecture === platform.architecture &&
      (platform.variant === undefined || candidate.platform.variant === platform.variant),
  );
  if (!image) {
    const names = source.images.map((candidate) => platformName(candidate.platform)).join(", ");
    throw new ImageError(
      `the image has no ${wanted} platform (it has ${names}); build it with --platform ${wanted}`,
    );
  }
  return image;
}
