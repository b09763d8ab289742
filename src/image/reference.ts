// Image references (`[registry[:port]/]path[:tag][@digest]`), checked against the grammar of
// distribution/reference and normalised the way docker does (docker.io, library/, :latest).

import { ImageError } from "./errors.ts";

/** A parsed image reference. `domain` is "docker.io" when the text named none. */
export interface Reference {
  readonly domain: string;
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const MAX_NAME_LENGTH = 255;
export const DEFAULT_DOMAIN = "docker.io";

function invalid(text: string, why: string): ImageError {
  return new ImageError(`invalid image reference "${text}": ${why} (expected e.g. ghcr.io/acme/site:1.4)`);
}

/** Parses and validates an image reference; throws an ImageError naming the faulty part. */
export function parseReference(text: string): Reference {
  if (text === "") throw invalid(text, "it is empty");
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(text, `"${digest}" is not a digest like sha256:<64 hex digits>`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag))
      throw invalid(text, `tag "${tag}" must be 1-128 of [A-Za-z0-9_.-], not starting with . or -`);
  }
  if (rest.length > MAX_NAME_LENGTH)
    throw invalid(text, `the name is longer than ${MAX_NAME_LENGTH} characters`);
  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  // a capitalised first part without '.' or ':' is a repository name in the wrong case, as docker
  // before 25 reads it (later ones take it for a registry host, which `docker load` here refuses)
  const hasDomain = slash !== -1 && (/[.:]/.test(first) || first === "localhost");
  const domain = hasDomain ? first : DEFAULT_DOMAIN;
  const path = hasDomain ? rest.slice(slash + 1) : rest;
  if (hasDomain && !DOMAIN.test(domain)) throw invalid(text, `"${domain}" is not a registry host[:port]`);
  if (path === "") throw invalid(text, "the repository name is missing");
  for (const component of path.split("/")) {
    if (component !== component.toLowerCase()) throw invalid(text, "the repository name must be lowercase");
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(
        text,
        `"${component}" must be lowercase letters and digits separated by '.', '_', '__' or '-'`,
      );
    }
  }
  const normalisedPath = domain === DEFAULT_DOMAIN && !path.includes("/") ? `library/${path}` : path;
  return { domain, path: normalisedPath, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Parses the `--tag` of a build: a reference without a digest; the tag defaults to "latest". */
export function parseTag(text: string): Reference & { readonly tag: string } {
  const reference = parseReference(text);
  if (reference.digest)
    throw invalid(text, "a built image is named by a tag, not a digest; drop the @sha256:...");
  return { ...reference, tag: reference.tag ?? "latest" };
}

/** The fully qualified form: `docker.io/library/site:latest`. */
export function fullName(reference: Reference): string {
  return `${reference.domain}/${reference.path}${reference.tag ? `:${reference.tag}` : ""}${reference.digest ? `@${reference.digest}` : ""}`;
}

/** The short form docker prints: `site:latest`, `acme/site:1.4`, `ghcr.io/acme/site:1.4`. */
export function familiarName(reference: Reference): string {
  let name = `${reference.domain}/${reference.path}`;
  if (reference.domain === DEFAULT_DOMAIN) {
    name = reference.path.startsWith("library/") ? reference.path.slice("library/".length) : reference.path;
  }
  return `${name}${reference.tag ? `:${reference.tag}` : ""}${reference.digest ? `@${reference.digest}` : ""}`;
}
