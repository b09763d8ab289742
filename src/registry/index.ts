// The public API of the registry part: push an image to any registry that speaks the
// distribution API, with docker's and podman's credentials. See docs/registry.md.

export type { CredentialSource, Credentials } from "./credentials.ts";
export { configCredentials, credentialFiles, givenCredentials } from "./credentials.ts";
export { CredentialsError, RegistryError } from "./errors.ts";
export {
  DEFAULT_CHUNK_SIZE,
  type PushEvent,
  PushedBlobs,
  type PushedManifest,
  type PushOptions,
  type PushSummary,
  pushImage,
} from "./push.ts";
export { DEFAULT_RETRY, type RetryEvent, type RetryPolicy } from "./retry.ts";
export type { BlobOutcome, BlobResult } from "./upload.ts";
