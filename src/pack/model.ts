// The contract between the site compiler and the pack writer: every decision about a site, made
// at build time, in memory (large bodies stay in their files until the pack is written). The pack
// writer turns it into bytes (docs/pack-format.md); nothing here knows that layout, and nothing
// downstream re-decides what is in here.

export type Encoding = "identity" | "gzip" | "br";

/** A header as it goes on the wire; names keep the case the site compiler chose. */
export type Header = readonly [name: string, value: string];

/**
 * A body left in its file until the pack is written, so a site need not fit in memory: `size` bytes
 * whose SHA-256 is `hash` (equal bodies are stored once, found by it).
 */
export interface FileBody {
  readonly file: string;
  readonly size: number;
  readonly hash: string;
}

export type Body = Uint8Array | FileBody;

export function bodyLength(body: Body): number {
  return body instanceof Uint8Array ? body.length : body.size;
}

export interface Variant {
  encoding: Encoding;
  body: Body;
  /** Strong entity tag including its quotes, e.g. `"3f2a9c-br"`; absent when ETags are off. */
  etag?: string;
}

/** A representation served from bytes: a file, the SPA fallback or a custom error page. */
export interface Resource {
  kind: "resource";
  /** Headers the site decided (Content-Type, Cache-Control, X-Content-Type-Options, user rules). */
  headers: readonly Header[];
  /** Seconds since the epoch; absent when Last-Modified is off. */
  lastModified?: number;
  /** Identity always, first; gzip and br only where they were kept. */
  variants: readonly Variant[];
}

export interface Redirect {
  kind: "redirect";
  status: 301 | 302 | 307 | 308;
  /** Absolute path or absolute URL; the request's query string is appended by the server. */
  location: string;
  headers: readonly Header[];
}

/** An exact, normalised request path (starts with "/", decoded, no dot segments, no "//"). */
export interface Route {
  path: string;
  response: Resource | Redirect;
}

/** Paths under `prefix` (which ends in "/") redirect to `target` + the rest of the path. */
export interface PrefixRedirect {
  prefix: string;
  status: 301 | 302 | 307 | 308;
  target: string;
  headers: readonly Header[];
}

/** Statuses the server produces itself; each gets a complete precomputed response. */
export const ERROR_STATUSES = [400, 404, 405, 408, 413, 414, 416, 431, 500, 501, 505] as const;
export type ErrorStatus = (typeof ERROR_STATUSES)[number];
/** Statuses of access refusals and proxy failures; their responses are in packs with access rules only. */
export const ACCESS_ERROR_STATUSES = [401, 403, 502, 504] as const;
export type AccessErrorStatus = (typeof ACCESS_ERROR_STATUSES)[number];

/** A site's access rules (docs/access.md) and the responses their refusals and failures send. */
export interface AccessInput {
  /** The access section's bytes (encodeAccessSection). */
  section: Uint8Array;
  errors: Readonly<Record<AccessErrorStatus, Resource>>;
}

export interface PackInput {
  /** Exact routes; paths are unique. */
  routes: readonly Route[];
  /** Checked in order when no exact route matches; longest prefixes should come first. */
  prefixRedirects: readonly PrefixRedirect[];
  /** Served with 200 for unknown paths whose last segment has no "." (client-side routes). */
  spa?: Resource;
  /** Error responses; `404` is the site's notFound page when it has one. */
  errors: Readonly<Record<ErrorStatus, Resource>>;
  /** Absent for a site without access rules (its pack stays version 11). */
  access?: AccessInput;
}
