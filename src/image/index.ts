// The public API of the image part: build an image from servers and a pack, write it as an OCI
// layout folder or a docker-loadable tarball, read either back. See docs/image.md.

export { writeDockerArchive } from "./archive.ts";
export { type Blob, sha256Digest } from "./blob.ts";
export {
  type BuildOptions,
  buildImage,
  DEFAULT_HEALTHCHECK,
  DEFAULT_PORT,
  DEFAULT_USER,
  type Image,
  type ImageMetadata,
  type ImageSummary,
  PACK_MODE,
  PACK_PATH,
  type PlatformSummary,
  runConfig,
  SERVER_PATH,
} from "./build.ts";
export { dockerfile } from "./dockerfile.ts";
export { ImageError } from "./errors.ts";
export { writeLayout } from "./layout.ts";
export { gitMetadata, resolveCreated } from "./metadata.ts";
export {
  ANNOTATION,
  type Descriptor,
  type ImageConfig,
  type Index,
  type Manifest,
  MEDIA_TYPE,
} from "./oci.ts";
export { PLATFORMS, type Platform, parsePlatform, parsePlatforms, platformName } from "./platform.ts";
export { type ReadImage, readLayout } from "./read.ts";
export { familiarName, fullName, parseReference, parseTag, type Reference } from "./reference.ts";
export { blobDigests, type ImageSource, type PlatformImage, selectImage } from "./source.ts";
