// The access rules as bytes: the optional pack section both servers decode (layout in
// docs/access.md, "The access section"). Little-endian, fixed-width records, 8-byte aligned,
// offsets from the section's start; strings live in one area at the end.

import type { Cidr } from "./cidr.ts";
import { KEY_BYTES, MAX_ITERATIONS, MIN_ITERATIONS, SALT_BYTES } from "./password.ts";
import type { AccessRules, AuthRule, IpEntry, IpRule, ProxyRule, UserHash, UserSource } from "./rules.ts";

export const SECTION_MAGIC = "SPKACC01";
export const HEADER_BYTES = 16;
export const RULE_BYTES = 32;
export const CIDR_BYTES = 24;
export const USER_BYTES = 64;
export const PROXY_BYTES = 32;

export const KIND = { ip: 1, auth: 2, proxy: 3 } as const;

/** An auth rule's realm is stored inside its challenge line, which servers send as it is. */
export const CHALLENGE_START = 'WWW-Authenticate: Basic realm="';
export const CHALLENGE_END = '"\r\n';

/** The header line of an auth rule's 401. */
export function challengeLine(realm: string): string {
  return `${CHALLENGE_START}${realm}${CHALLENGE_END}`;
}
export const SOURCE = { users: 0, env: 1, file: 2 } as const;

/** A section that cannot be decoded: the pack is damaged or from another speck. */
export class AccessSectionError extends Error {}

const align8 = (n: number) => (n + 7) & ~7;

/** Bytes of a rule's fixed-width item records. */
function itemBytes(kind: number, rule: IpRule | AuthRule | ProxyRule): number {
  if (kind === KIND.ip) return (rule as IpRule).entries.length * CIDR_BYTES;
  if (kind === KIND.proxy) return PROXY_BYTES;
  const source = (rule as AuthRule).source;
  return source.kind === "users" ? source.users.length * USER_BYTES : 0;
}

function putCidr(view: DataView, at: number, cidr: Cidr, allow: boolean): void {
  for (let i = 0; i < 16; i++) view.setUint8(at + i, cidr.address[i]!);
  view.setUint8(at + 16, cidr.bits);
  view.setUint8(at + 17, allow ? 1 : 0);
}

/** Encodes `rules` as the access section. */
export function encodeAccessSection(rules: AccessRules): Uint8Array {
  const ordered = [
    ...rules.ip.map((rule) => ({ kind: KIND.ip, rule })),
    ...rules.auth.map((rule) => ({ kind: KIND.auth, rule })),
    ...rules.proxy.map((rule) => ({ kind: KIND.proxy, rule })),
  ];
  let at = HEADER_BYTES + ordered.length * RULE_BYTES + rules.trustedProxies.length * CIDR_BYTES;
  const itemsAt = ordered.map(({ kind, rule }) => {
    const start = at;
    at += itemBytes(kind, rule);
    return start;
  });
  const fixed = new Uint8Array(at);
  const view = new DataView(fixed.buffer);
  const strings: Uint8Array[] = [];
  let stringEnd = at;
  /**
   * Appends `before`, a string and `after` to the string area and writes the string's offset and
   * length at `where`.
   */
  const putString = (where: number, text: string, before = "", after = ""): void => {
    const bytes = new TextEncoder().encode(text);
    const whole = new TextEncoder().encode(`${before}${text}${after}`);
    view.setUint32(where, bytes.length === 0 && before === "" ? 0 : stringEnd + before.length, true);
    view.setUint32(where + 4, bytes.length, true);
    strings.push(whole);
    stringEnd += whole.length;
  };
  fixed.set(new TextEncoder().encode(SECTION_MAGIC), 0);
  view.setUint32(8, ordered.length, true);
  view.setUint32(12, rules.trustedProxies.length, true);
  const trustedAt = HEADER_BYTES + ordered.length * RULE_BYTES;
  rules.trustedProxies.forEach((cidr, i) => {
    putCidr(view, trustedAt + i * CIDR_BYTES, cidr, true);
  });
  ordered.forEach(({ kind, rule }, i) => {
    const record = HEADER_BYTES + i * RULE_BYTES;
    const items = itemsAt[i]!;
    view.setUint8(record, kind);
    putString(record + 8, rule.path);
    view.setUint32(record + 24, items, true);
    view.setUint32(record + 28, itemBytes(kind, rule), true);
    if (kind === KIND.ip) {
      const entries = (rule as IpRule).entries;
      view.setUint32(record + 4, entries.length, true);
      entries.forEach((e, j) => {
        putCidr(view, items + j * CIDR_BYTES, e.cidr, e.allow);
      });
    } else if (kind === KIND.auth) {
      const { realm, source } = rule as AuthRule;
      putString(record + 16, realm, CHALLENGE_START, CHALLENGE_END);
      view.setUint8(record + 1, SOURCE[source.kind]);
      if (source.kind === "users") {
        view.setUint32(record + 4, source.users.length, true);
        source.users.forEach((user, j) => {
          const u = items + j * USER_BYTES;
          putString(u, user.name);
          view.setUint32(u + 8, user.iterations, true);
          fixed.set(user.salt, u + 16);
          fixed.set(user.key, u + 32);
        });
      } else putString(record + 24, source.kind === "env" ? source.name : source.path);
    } else {
      const proxy = rule as ProxyRule;
      view.setUint32(record + 4, 1, true);
      putString(record + 16, proxy.host);
      view.setUint32(items, proxy.connectTimeout, true);
      view.setUint32(items + 4, proxy.timeout, true);
      view.setBigUint64(items + 8, BigInt(proxy.maxBody), true);
      view.setUint16(items + 16, proxy.port, true);
      putString(items + 20, proxy.base);
    }
  });
  const section = new Uint8Array(align8(stringEnd));
  section.set(fixed, 0);
  let s = fixed.length;
  for (const bytes of strings) {
    section.set(bytes, s);
    s += bytes.length;
  }
  return section;
}

/** Decodes an access section; throws AccessSectionError naming the first inconsistency. */
export function decodeAccessSection(section: Uint8Array): AccessRules {
  const fail = (what: string): never => {
    throw new AccessSectionError(`access section: ${what}`);
  };
  if (section.length < HEADER_BYTES || new TextDecoder().decode(section.subarray(0, 8)) !== SECTION_MAGIC)
    fail(`no "${SECTION_MAGIC}" magic at its start`);
  if (section.length % 8 !== 0) fail(`its length ${section.length} is not a multiple of 8`);
  const view = new DataView(section.buffer, section.byteOffset, section.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  const need = (at: number, length: number, what: string): void => {
    if (at + length > section.length) fail(`${what} at ${at} (+${length}) runs past the end`);
  };
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const string = (where: number, what: string): string => {
    const [at, length] = [u32(where), u32(where + 4)];
    need(at, length, what);
    try {
      return utf8.decode(section.subarray(at, at + length));
    } catch {
      return fail(`${what} at ${at} is not UTF-8`);
    }
  };
  const cidrs = (at: number, count: number, what: string): IpEntry[] => {
    need(at, count * CIDR_BYTES, what);
    return Array.from({ length: count }, (_, i) => {
      const e = at + i * CIDR_BYTES;
      const bits = section[e + 16]!;
      if (bits > 128) fail(`${what} entry ${i} has ${bits} prefix bits`);
      return { allow: section[e + 17] === 1, cidr: { address: section.slice(e, e + 16), bits } };
    });
  };
  const ruleCount = u32(8);
  const trustedCount = u32(12);
  need(HEADER_BYTES, ruleCount * RULE_BYTES, "the rule records");
  const rules: AccessRules = {
    trustedProxies: cidrs(HEADER_BYTES + ruleCount * RULE_BYTES, trustedCount, "trusted proxies").map(
      (e) => e.cidr,
    ),
    ip: [],
    auth: [],
    proxy: [],
  };
  for (let i = 0; i < ruleCount; i++) {
    const record = HEADER_BYTES + i * RULE_BYTES;
    const what = `rule ${i}`;
    const path = string(record + 8, `${what}'s path`);
    const count = u32(record + 4);
    const items = u32(record + 24);
    const kind = section[record]!;
    if (kind === KIND.ip) rules.ip.push({ path, entries: cidrs(items, count, what) });
    else if (kind === KIND.auth) {
      const realm = string(record + 16, `${what}'s realm`);
      const realmAt = u32(record + 16);
      const latin1 = (from: number, to: number) =>
        from < 0 || to > section.length ? "" : String.fromCharCode(...section.subarray(from, to));
      if (
        !/^[\x20-\x7e]+$/.test(realm) ||
        /["\\]/.test(realm) ||
        latin1(realmAt - CHALLENGE_START.length, realmAt) !== CHALLENGE_START ||
        latin1(realmAt + realm.length, realmAt + realm.length + CHALLENGE_END.length) !== CHALLENGE_END
      )
        fail(`${what}'s realm is not printable ASCII inside its challenge line`);
      const sourceKind = section[record + 1]!;
      let source: UserSource;
      if (sourceKind === SOURCE.env)
        source = { kind: "env", name: string(record + 24, `${what}'s variable`) };
      else if (sourceKind === SOURCE.file)
        source = { kind: "file", path: string(record + 24, `${what}'s file`) };
      else if (sourceKind === SOURCE.users) {
        need(items, count * USER_BYTES, `${what}'s users`);
        const users: UserHash[] = Array.from({ length: count }, (_, j) => {
          const u = items + j * USER_BYTES;
          const iterations = u32(u + 8);
          if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS)
            fail(
              `${what}'s user ${j} has ${iterations} iterations (not ${MIN_ITERATIONS} to ${MAX_ITERATIONS})`,
            );
          return {
            name: string(u, `${what}'s user ${j}`),
            iterations,
            salt: section.slice(u + 16, u + 16 + SALT_BYTES),
            key: section.slice(u + 32, u + 32 + KEY_BYTES),
          };
        });
        source = { kind: "users", users };
      } else return fail(`${what} has the unknown user source ${sourceKind}`);
      rules.auth.push({ path, realm, source });
    } else if (kind === KIND.proxy) {
      need(items, PROXY_BYTES, `${what}'s proxy record`);
      rules.proxy.push({
        path,
        host: string(record + 16, `${what}'s host`),
        connectTimeout: u32(items),
        timeout: u32(items + 4),
        maxBody: Number(view.getBigUint64(items + 8, true)),
        port: view.getUint16(items + 16, true),
        base: string(items + 20, `${what}'s base path`),
      });
    } else fail(`${what} has the unknown kind ${kind}`);
  }
  return rules;
}
