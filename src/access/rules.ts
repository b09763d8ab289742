// The access rules as data, and how a request is judged against them: path prefixes, IP lists
// (first match wins), the client address behind trusted proxies. The same model is encoded in the
// pack's access section (section.ts) and judged the same way by both servers (docs/access.md).

import { type Cidr, cidrContains, parseAddress } from "./cidr.ts";

/** One line of an IP list: `allow` or `deny` the addresses in `cidr`. */
export interface IpEntry {
  allow: boolean;
  cidr: Cidr;
}

/** IP entries for the paths under `path`; the first entry matching the client decides. */
export interface IpRule {
  path: string;
  entries: IpEntry[];
}

/** A user's salted PBKDF2-HMAC-SHA256 hash (password.ts). */
export interface UserHash {
  name: string;
  iterations: number;
  salt: Uint8Array;
  key: Uint8Array;
}

/** Where a rule's users come from: built in, or read when the server starts. */
export type UserSource =
  | { kind: "users"; users: UserHash[] }
  | { kind: "env"; name: string }
  | { kind: "file"; path: string };

/** Basic auth for the paths under `path`. */
export interface AuthRule {
  path: string;
  realm: string;
  source: UserSource;
}

/** Header fields that describe one connection, never forwarded by a proxy (RFC 9110, section 7.6.1). */
export const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
] as const;

/** Requests under `path` go to http://host:port + base + the rest of the path. */
export interface ProxyRule {
  path: string;
  host: string;
  port: number;
  /** The upstream path prefix, "" or "/base" (no trailing slash). */
  base: string;
  /** Milliseconds to connect. */
  connectTimeout: number;
  /** Milliseconds the upstream may stay silent (before its head or between body bytes). */
  timeout: number;
  /** Largest request body forwarded, in bytes (413 above). */
  maxBody: number;
}

/** Everything a server needs to enforce access: decoded from the section by both servers. */
export interface AccessRules {
  /** Peers whose X-Forwarded-For is believed. */
  trustedProxies: Cidr[];
  ip: IpRule[];
  auth: AuthRule[];
  proxy: ProxyRule[];
}

/** A rule path in canonical form: starts with "/", no trailing "/" unless it is "/". */
export function canonicalPrefix(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.replace(/\/+$/, "") || "/" : path;
}

/** True when `path` (a normalised request path) is `prefix` or below it, segment-wise. */
export function underPrefix(prefix: string, path: string): boolean {
  if (prefix === "/") return true;
  return path === prefix || (path.startsWith(prefix) && path[prefix.length] === "/");
}

/** The first rule whose prefix covers `path` (rules are tried in order). */
export function firstRule<T extends { path: string }>(rules: readonly T[], path: string): T | undefined {
  return rules.find((rule) => underPrefix(rule.path, path));
}

/** Whether `address` may proceed under `rule`: the first matching entry decides; none matching allows. */
export function ipAllowed(rule: IpRule, address: Uint8Array): boolean {
  for (const entry of rule.entries) if (cidrContains(entry.cidr, address)) return entry.allow;
  return true;
}

/**
 * The client's address: the peer, unless the peer is a trusted proxy; then X-Forwarded-For is read
 * from its right end, skipping trusted proxies, and the first untrusted address is the client. Entries
 * are split at commas with spaces and tabs around them ignored, and empty ones skipped; a malformed
 * entry stops the walk at the last address that was believed.
 */
export function clientAddress(
  peer: Uint8Array,
  forwardedFor: readonly string[],
  trusted: readonly Cidr[],
): Uint8Array {
  const isTrusted = (a: Uint8Array) => trusted.some((cidr) => cidrContains(cidr, a));
  let client = peer;
  const hops = forwardedFor
    .flatMap((value) => value.split(","))
    .map((hop) => hop.replace(/^[ \t]+|[ \t]+$/g, ""))
    .filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0 && isTrusted(client); i--) {
    const hop = parseAddress(hops[i]!);
    if (!hop) break;
    client = hop;
  }
  return client;
}
