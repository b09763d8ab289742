// Turns zod issues into one line per problem, naming the key path, the bad value and what is
// accepted: `redirects[0].status: 303 is not accepted; use one of 301, 302, 307, 308`. Unknown keys
// get a "did you mean" when a known key at the same level is close.

import type { z } from "zod";
import { authRuleSchema, ipRuleSchema, proxyRuleSchema } from "./access-schema.ts";
import { compressionSchema, configSchema, headerRuleSchema, redirectSchema } from "./schema.ts";

/** A mistake in the user's configuration or options: the CLI prints its message and exits 2. */
export class ConfigError extends Error {}

/** Known keys of each object level, by key path with list indexes dropped. */
const KNOWN_KEYS: Record<string, string[]> = {
  "": Object.keys(configSchema.shape),
  compression: Object.keys(compressionSchema.shape),
  redirects: Object.keys(redirectSchema.shape),
  headers: Object.keys(headerRuleSchema.shape),
  auth: Object.keys(authRuleSchema.shape),
  "auth.usersFrom": ["env", "file"],
  ipRules: Object.keys(ipRuleSchema.shape),
  proxy: Object.keys(proxyRuleSchema.shape),
};

/** Values never repeated in messages: a user's hash, or a password pasted where a hash belongs. */
function isSecret(path: readonly PropertyKey[]): boolean {
  return path[0] === "auth" && path[2] === "users" && path.length > 3;
}

/** A value as it appears in a message: JSON, shortened. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = typeof value === "bigint" ? `${value}` : JSON.stringify(value);
  if (text === undefined) return typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let at = input;
  for (const key of path)
    at = at !== null && typeof at === "object" ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  return at;
}

/** `redirects[0].status` from ["redirects", 0, "status"]. */
export function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, k) =>
      typeof k === "number"
        ? `${s}[${k}]`
        : /^[A-Za-z_$][\w$]*$/.test(String(k))
          ? s
            ? `${s}.${String(k)}`
            : String(k)
          : `${s}[${JSON.stringify(String(k))}]`,
    "",
  );
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key closest to `word` (case-insensitively), if it is close enough to be a typo. */
export function closestKey(word: string, candidates: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of candidates) {
    const distance = editDistance(word.toLowerCase(), key.toLowerCase());
    if (!best || distance < best.distance) best = { key, distance };
  }
  return best && best.distance <= Math.max(1, Math.min(3, Math.floor(word.length / 3)))
    ? best.key
    : undefined;
}

function issueLines(issue: z.core.$ZodIssue, input: unknown): string[] {
  const where = keyPath(issue.path) || "the configuration";
  const value = valueAt(input, issue.path);
  const shown = isSecret(issue.path) ? "the value (not shown)" : describeValue(value);
  switch (issue.code) {
    case "unrecognized_keys": {
      const level = issue.path.filter((k) => typeof k !== "number").join(".");
      const known = KNOWN_KEYS[level] ?? [];
      return issue.keys.map((key) => {
        const hint = closestKey(key, known);
        const accepted = hint ? `did you mean "${hint}"?` : `known keys: ${known.join(", ")}`;
        return `${keyPath([...issue.path, key])}: unknown option ${describeValue(key)}; ${accepted}`;
      });
    }
    case "invalid_value":
      return [
        `${where}: ${shown} is not accepted; use one of ${issue.values.map((v) => describeValue(v)).join(", ")}`,
      ];
    case "invalid_key":
      return [
        `${where}: the key ${describeValue(issue.path.at(-1))} is not accepted; use ${issue.issues[0]?.message ?? "another key"}`,
      ];
    default:
      return [
        value === undefined
          ? `${where}: missing; use ${issue.message}`
          : `${where}: ${shown} is not accepted; use ${issue.message}`,
      ];
  }
}

/** The message of a ConfigError for `issues` found in `input`, read from `source`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown, source: string): string {
  const lines = issues.flatMap((issue) => issueLines(issue, input));
  return lines.length === 1
    ? `invalid configuration in ${source}: ${lines[0]}`
    : `invalid configuration in ${source}:\n  ${lines.join("\n  ")}`;
}
