// URL paths and redirect destinations as they go on the wire: percent-encoding for Location, the
// shape of a normalised request path, and validation of what users write in redirect rules.

import { isNormalisedPath } from "../pack/write.ts";
import { SiteError } from "./errors.ts";

const UNRESERVED = /[A-Za-z0-9\-._~/]/;

/**
 * Percent-encodes a decoded URL path for a Location header: every byte of its UTF-8 form outside
 * `A-Z a-z 0-9 - . _ ~ /` becomes `%XX` (upper-case hex), as the servers encode a splat.
 */
export function encodePath(path: string): string {
  let out = "";
  for (const char of path) {
    if (UNRESERVED.test(char)) out += char;
    else
      for (const byte of Buffer.from(char, "utf8"))
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** A redirect rule's source path, checked: decoded, normalised, no control characters. */
export function checkSourcePath(path: string, where: string): void {
  if (/[\0-\x1f\x7f]/.test(path))
    throw new SiteError(`${where}: the source ${JSON.stringify(path)} contains a control character`);
  if (!isNormalisedPath(path))
    throw new SiteError(
      `${where}: the source ${JSON.stringify(path)} is not a normalised path (no "//", "." or ".." segments)`,
    );
  if (/%[0-9A-Fa-f]{2}/.test(path))
    throw new SiteError(
      `${where}: write the source ${JSON.stringify(path)} decoded (e.g. "/a b" rather than "/a%20b")`,
    );
}

/**
 * A redirect destination ready for the Location header: a path starting with "/" or an absolute
 * http(s) URL; characters outside printable ASCII are percent-encoded; control characters refused.
 */
export function locationFor(destination: string, where: string): string {
  if (/[\0-\x1f\x7f]/.test(destination))
    throw new SiteError(
      `${where}: the destination ${JSON.stringify(destination)} contains a control character`,
    );
  if (/^https?:\/\//i.test(destination)) {
    let url: URL;
    try {
      url = new URL(destination);
    } catch {
      throw new SiteError(`${where}: the destination ${JSON.stringify(destination)} is not a valid URL`);
    }
    // printable ASCII stays as written; otherwise URL's serialisation encodes the path and the host
    return /^[\x21-\x7e]+$/.test(destination) ? destination : url.href;
  }
  if (!destination.startsWith("/") || destination.startsWith("//"))
    throw new SiteError(
      `${where}: the destination ${JSON.stringify(destination)} must be a path starting with "/" or an http(s):// URL`,
    );
  return destination.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
}
