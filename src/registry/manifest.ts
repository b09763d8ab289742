// Puts manifests and indexes: `PUT /v2/<name>/manifests/<reference>` with the manifest's own media
// type as Content-Type, the reference being a digest (each platform's manifest) or the tag (what
// the tag names, last). The registry's `Docker-Content-Digest` answer must be the digest of the
// bytes sent, so the tag is known to name exactly what was built.

import { sha256Digest } from "../image/blob.ts";
import { header, type RegistryClient } from "./client.ts";
import { RegistryError } from "./errors.ts";
import { shortDigest } from "./upload.ts";

/** Puts `bytes` (of `mediaType`) as `reference` (a tag or its digest); returns the digest. */
export async function putManifest(
  client: RegistryClient,
  reference: string,
  mediaType: string,
  bytes: Uint8Array,
): Promise<string> {
  const digest = sha256Digest(bytes);
  const what = `putting manifest ${shortDigest(digest)}${reference === digest ? "" : ` as ${reference}`}`;
  const response = await client.request({
    method: "PUT",
    target: `manifests/${reference}`,
    headers: { "content-type": mediaType },
    body: bytes,
    what,
  });
  if (response.status < 200 || response.status >= 300) throw client.unexpected(what, response);
  const answered = header(response, "docker-content-digest");
  if (answered && answered !== digest) {
    throw new RegistryError(`${client.where}: ${what}: the registry stored it as ${answered}, not ${digest}`);
  }
  return digest;
}
