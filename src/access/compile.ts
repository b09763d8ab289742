// From the validated configuration to the access rules, and the run-time half: users named by an
// environment variable or a secret file, read once when a server starts.

import { readFileSync } from "node:fs";
import { ConfigError } from "../config/errors.ts";
import { type Cidr, parseCidr } from "./cidr.ts";
import { parsePasswordHash } from "./password.ts";
import { type AccessRules, type AuthRule, canonicalPrefix, type UserHash } from "./rules.ts";
import { encodeAccessSection } from "./section.ts";
import { parseUpstream } from "./upstream.ts";

/** The access options as they come out of the config schema. */
export interface AccessConfig {
  auth: {
    path: string;
    realm: string;
    users?: Record<string, string> | undefined;
    usersFrom?: { env: string } | { file: string } | undefined;
  }[];
  ipRules: { path: string; rules: string[] }[];
  trustedProxies: string[];
  proxy: { path: string; upstream: string; connectTimeout: number; timeout: number; maxBodySize: number }[];
}

/** A credential source that cannot be used: the server must not start unprotected (exit 2). */
export class AccessError extends ConfigError {}

const cidr = (text: string): Cidr => parseCidr(text) as Cidr;

/** The rules of a configuration the schema has accepted (user names sorted, for stable bytes). */
export function compileAccess(config: AccessConfig): AccessRules {
  return {
    trustedProxies: config.trustedProxies.map(cidr),
    ip: config.ipRules.map((rule) => ({
      path: canonicalPrefix(rule.path),
      entries: rule.rules.map((entry) => {
        const [action, range] = entry.split(/ +/);
        return { allow: action === "allow", cidr: cidr(range!) };
      }),
    })),
    auth: config.auth.map(
      (rule): AuthRule => ({
        path: canonicalPrefix(rule.path),
        realm: rule.realm,
        source: rule.usersFrom
          ? "env" in rule.usersFrom
            ? { kind: "env", name: rule.usersFrom.env }
            : { kind: "file", path: rule.usersFrom.file }
          : {
              kind: "users",
              users: Object.keys(rule.users ?? {})
                .sort()
                .map((name) => ({
                  name,
                  ...(parsePasswordHash(rule.users![name]!) as Omit<UserHash, "name">),
                })),
            },
      }),
    ),
    proxy: config.proxy.map((rule) => {
      const { host, port, base } = parseUpstream(rule.upstream) as Exclude<
        ReturnType<typeof parseUpstream>,
        string
      >;
      return {
        path: canonicalPrefix(rule.path),
        host,
        port,
        base,
        connectTimeout: rule.connectTimeout,
        timeout: rule.timeout,
        maxBody: rule.maxBodySize,
      };
    }),
  };
}

/** The access section for `config`, or undefined when it has no access rules. */
export function accessSection(config: AccessConfig): Uint8Array | undefined {
  const used = config.auth.length + config.ipRules.length + config.proxy.length > 0;
  return used ? encodeAccessSection(compileAccess(config)) : undefined;
}

/** What an entry of a run-time user source must be (both servers give this text). */
export const ENTRY_FORM =
  'entries "user:$pbkdf2-sha256$i=N$salt$key" as printed by speck hash-password --user (a name of 1 to 64 printable characters without ":", 1000 to 1000000 iterations)';

/**
 * Users from "user:hash" entries, one or more per line separated by spaces, tabs or CRs (blank
 * lines and lines whose first entry starts with "#" skipped), exactly as the native server reads
 * them (src/native/server/access/users.ts); `where` names the source in errors, which never repeat
 * an entry.
 */
export function parseUserLines(text: string, where: string): UserHash[] {
  const users: UserHash[] = [];
  text.split("\n").forEach((line, i) => {
    const entries = line.split(/[ \t\r]+/).filter((entry) => entry !== "");
    if (entries.length === 0 || entries[0]!.startsWith("#")) return;
    for (const entry of entries) {
      const colon = entry.indexOf(":");
      const name = entry.slice(0, colon);
      const parsed = /^[\x21-\x7e]{1,64}$/.test(name) ? parsePasswordHash(entry.slice(colon + 1)) : undefined;
      if (parsed === undefined || typeof parsed === "string")
        throw new AccessError(`${where}, line ${i + 1}: not accepted; use ${ENTRY_FORM}`);
      users.push({ name, ...parsed });
    }
  });
  if (users.length === 0) throw new AccessError(`${where}: no "user:hash" entries; nobody could log in`);
  return users.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The rules with every env/file source replaced by the users it holds. `env` is the server's
 * environment; SPECK_AUTH_FILE, when set, replaces the path of every file source. Throws
 * AccessError naming the rule when a source is missing, unreadable or empty.
 */
export function resolveUsers(rules: AccessRules, env: NodeJS.ProcessEnv): AccessRules {
  const auth = rules.auth.map((rule, i): AuthRule => {
    const name = `auth rule ${i} (path "${rule.path}", realm "${rule.realm}")`;
    const source = rule.source;
    if (source.kind === "users") return rule;
    if (source.kind === "env") {
      const value = env[source.name];
      if (value === undefined)
        throw new AccessError(
          `${name}: the environment variable ${source.name} is not set; refusing to serve unprotected`,
        );
      return { ...rule, source: { kind: "users", users: parseUserLines(value, `${name}: ${source.name}`) } };
    }
    const path = env.SPECK_AUTH_FILE || source.path;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      throw new AccessError(
        `${name}: cannot read the credential file ${path} (${code}); refusing to serve unprotected`,
      );
    }
    return { ...rule, source: { kind: "users", users: parseUserLines(text, `${name}: ${path}`) } };
  });
  return { ...rules, auth };
}
