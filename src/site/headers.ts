// Response headers a route gets: speck's defaults (Content-Type, Cache-Control, nosniff), then the
// user's glob rules in order, each rule adding or replacing (case-insensitively) what came before.
// Rules are checked here so nothing that would break the wire format reaches the pack.

import picomatch from "picomatch";
import type { SpeckConfig } from "../config/schema.ts";
import type { Header } from "../pack/model.ts";
import { IMMUTABLE, isFingerprinted, REVALIDATE } from "./content-type.ts";
import { SiteError } from "./errors.ts";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Headers speck or the server writes, which rules may not set. */
export const RESERVED_HEADERS = [
  "Accept-Ranges",
  "Connection",
  "Content-Encoding",
  "Content-Length",
  "Content-Range",
  "Date",
  "ETag",
  "Keep-Alive",
  "Last-Modified",
  "Location",
  "Transfer-Encoding",
  "Vary",
];
const RESERVED = new Set(RESERVED_HEADERS.map((h) => h.toLowerCase()));

export interface HeaderRule {
  /** `headers[i] (source)`, for messages. */
  where: string;
  matches: (path: string) => boolean;
  headers: Header[];
}

function checkHeader(name: string, value: string, where: string): void {
  if (!TOKEN.test(name))
    throw new SiteError(
      `${where}: header name ${JSON.stringify(name)} is not a valid token (letters, digits, -)`,
    );
  if (RESERVED.has(name.toLowerCase()))
    throw new SiteError(`${where}: ${name} is set by speck itself and cannot be configured`);
  if (/[\0-\x08\n-\x1f\x7f]/.test(value))
    throw new SiteError(
      `${where}: the value of ${name} contains a control character (CR, LF, NUL, ...): ${JSON.stringify(value)}`,
    );
}

/** Validates the user's header rules and compiles their globs. */
export function compileHeaderRules(rules: SpeckConfig["headers"]): HeaderRule[] {
  return rules.map((rule, i) => {
    const where = `headers[${i}] (${rule.source})`;
    const headers = Object.entries(rule.headers).map(([name, value]): Header => {
      checkHeader(name, value, where);
      return [name, value.trim()];
    });
    return { where, matches: picomatch(rule.source, { dot: true }), headers };
  });
}

/** Sets `name`, replacing an earlier value of any case. */
export function setHeader(headers: Header[], name: string, value: string): void {
  const at = headers.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
  if (at >= 0) headers.splice(at, 1);
  headers.push([name, value]);
}

/** Applies every rule matching any of `paths` (the URL paths of one response), in rule order. */
export function applyRules(
  base: readonly Header[],
  rules: readonly HeaderRule[],
  paths: readonly string[],
): Header[] {
  const headers = [...base];
  for (const rule of rules)
    if (paths.some((p) => rule.matches(p)))
      for (const [name, value] of rule.headers) setHeader(headers, name, value);
  return headers;
}

/** speck's defaults for a file: its type, a caching policy from its name, and nosniff. */
export function defaultHeaders(relative: string, type: string): Header[] {
  return [
    ["Content-Type", type],
    ["Cache-Control", isFingerprinted(relative) ? IMMUTABLE : REVALIDATE],
    ["X-Content-Type-Options", "nosniff"],
  ];
}
