// The TypeScript reading of what the native server's resolver reads (src/native/server/proxy/
// resolve.ts): /etc/hosts lines, resolv.conf, DNS queries and answers; and a DNS server on loopback
// (node:dgram) that answers from a table, for tests that resolve names natively.

import { createSocket, type Socket } from "node:dgram";
import { parseAddress } from "../../src/access/cidr.ts";

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
const fold = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** The address of the first hosts line listing `name` (ASCII case folded) whose address parses. */
export function hostsLookup(text: Uint8Array, name: Uint8Array): Uint8Array | null {
  const wanted = fold(latin1(name));
  for (const raw of latin1(text).split("\n")) {
    const [address, ...names] = raw
      .split("#")[0]!
      .split(/[ \t\v\f\r]+/)
      .filter((f) => f !== "");
    if (address === undefined || !names.some((n) => fold(n) === wanted)) continue;
    const parsed = parseAddress(address);
    if (parsed) return parsed;
  }
  return null;
}

export interface ResolvConf {
  nameservers: Uint8Array[];
  search: string[];
  ndots: number;
}

/** resolv.conf as glibc reads it, within the native resolver's limits (3 servers, 6 domains in 256 bytes). */
export function parseResolvConf(text: Uint8Array): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], ndots: 1 };
  for (const line of latin1(text).split("\n")) {
    const keyword = /^(nameserver|search|domain|options)[ \t]/.exec(line)?.[1];
    if (!keyword) continue;
    const words = line
      .slice(keyword.length + 1)
      .split(/[ \t]+/)
      .filter((w) => w !== "");
    if (keyword === "nameserver") {
      const address = words[0] === undefined ? null : parseAddress(words[0]);
      if (address && conf.nameservers.length < 3) conf.nameservers.push(address);
    } else if (keyword === "options") {
      for (const word of words)
        if (word.startsWith("ndots:")) conf.ndots = Math.min(15, Number(/^\d*/.exec(word.slice(6))![0] || 0));
    } else if (words.length > 0) {
      conf.search = [];
      let used = 0;
      for (const word of words.slice(0, keyword === "domain" ? 1 : 6)) {
        if (used + word.length > 256) break;
        used += word.length;
        conf.search.push(word);
      }
    }
  }
  return conf;
}

export const A = 1;
export const AAAA = 28;

/** A query for `name` (a trailing "." allowed) with `domain` appended, or null when it is no DNS name. */
export function dnsQuery(id: number, type: number, name: Uint8Array, domain: Uint8Array): Uint8Array | null {
  const labels = (bytes: Uint8Array): number[][] | null => {
    if (bytes.length === 0) return [];
    const parts = latin1(bytes).split(".");
    if (parts.length > 1 && parts.at(-1) === "") parts.pop();
    if (parts.some((p) => p.length === 0 || p.length > 63)) return null;
    return parts.map((p) => [p.length, ...Buffer.from(p, "latin1")]);
  };
  if (name.length + domain.length > 253) return null;
  const first = labels(name);
  const second = labels(domain);
  if (!first || !second || first.length + second.length === 0) return null;
  const wire = [...first.flat(), ...second.flat(), 0];
  if (wire.length > 255) return null;
  return Uint8Array.from([
    id >> 8,
    id & 0xff,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    ...wire,
    type >> 8,
    type & 0xff,
    0,
    1,
  ]);
}

export type Answer =
  | { kind: "ignore" | "noData" | "failed" | "noName" }
  | { kind: "found"; address: Uint8Array; ttl: number };

/** What the native resolver makes of `message` in answer to `query` (see dns_answer). */
export function dnsAnswer(message: Uint8Array, query: Uint8Array): Answer {
  const m = message;
  const u16 = (at: number) => (m[at]! << 8) | m[at + 1]!;
  if (m.length < query.length || m[0] !== query[0] || m[1] !== query[1]) return { kind: "ignore" };
  if ((m[2]! & 0x80) === 0 || u16(4) !== 1) return { kind: "ignore" };
  for (let i = 12; i < query.length; i++) if (m[i] !== query[i]) return { kind: "ignore" };
  if ((m[2]! & 0x7a) !== 0) return { kind: "failed" };
  const rcode = m[3]! & 15;
  if (rcode === 3) return { kind: "noName" };
  if (rcode !== 0) return { kind: "failed" };
  const type = (query[query.length - 4]! << 8) | query[query.length - 3]!;
  let at = query.length;
  for (let left = u16(6); left > 0; left--) {
    for (;;) {
      if (at >= m.length) return { kind: "failed" };
      const b = m[at++]!;
      if (b === 0) break;
      if (b < 64) at += b;
      else if (b < 0xc0) return { kind: "failed" };
      else {
        at += 1;
        break;
      }
    }
    if (at + 10 > m.length) return { kind: "failed" };
    const length = u16(at + 8);
    if (at + 10 + length > m.length) return { kind: "failed" };
    if (u16(at) === type && u16(at + 2) === 1 && length === (type === AAAA ? 16 : 4)) {
      const rdata = m.subarray(at + 10, at + 10 + length);
      const address =
        type === AAAA
          ? Uint8Array.from(rdata)
          : Uint8Array.from([...new Array(10).fill(0), 255, 255, ...rdata]);
      const ttl = ((m[at + 4]! << 24) | (m[at + 5]! << 16) | (m[at + 6]! << 8) | m[at + 7]!) >>> 0;
      return { kind: "found", address, ttl };
    }
    at += 10 + length;
  }
  return { kind: "noData" };
}

/** One answer record: an owner name (a pointer to the question when omitted), type, class, TTL, data. */
export interface RecordSpec {
  type: number;
  data: Uint8Array;
  ttl?: number;
  class?: number;
  /** Labels written out instead of a pointer. */
  owner?: string;
}

/** A response to `query` with `rcode`, the given records and header flag bits (0x02: truncated). */
export function dnsResponse(query: Uint8Array, rcode: number, records: RecordSpec[], flags = 0): Uint8Array {
  const out = [...query];
  out[2] = 0x80 | query[2]! | flags;
  out[3] = 0x80 | rcode;
  out[6] = records.length >> 8;
  out[7] = records.length & 0xff;
  for (const r of records) {
    if (r.owner === undefined) out.push(0xc0, 12);
    else
      for (const label of [...r.owner.split(".").filter((l) => l), ""])
        out.push(label.length, ...Buffer.from(label));
    const ttl = r.ttl ?? 60;
    const cls = r.class ?? 1;
    out.push(
      r.type >> 8,
      r.type & 0xff,
      cls >> 8,
      cls & 0xff,
      ttl >>> 24,
      (ttl >> 16) & 0xff,
      (ttl >> 8) & 0xff,
      ttl & 0xff,
    );
    out.push(r.data.length >> 8, r.data.length & 0xff, ...r.data);
  }
  return Uint8Array.from(out);
}

/** The name a query asks for, as text ("api.example"), and its type. */
export function questionOf(query: Uint8Array): { name: string; type: number } {
  const labels: string[] = [];
  let at = 12;
  while (query[at]! !== 0) {
    labels.push(latin1(query.subarray(at + 1, at + 1 + query[at]!)));
    at += 1 + query[at]!;
  }
  return { name: labels.join("."), type: (query[at + 1]! << 8) | query[at + 2]! };
}

export interface DnsServer {
  port: number;
  /** Every question asked, in order ("name type"). */
  asked: string[];
  close(): Promise<void>;
}

/**
 * A DNS server on `host` (127.0.0.1) answering A and AAAA questions from `names` (name → addresses
 * as text, changeable while it runs); unknown names get NXDOMAIN; with `silent`, no answer at all.
 */
export async function startDnsServer(
  names: Record<string, string[]>,
  options: { silent?: boolean; ttl?: number; host?: string; port?: number } = {},
): Promise<DnsServer> {
  const socket: Socket = createSocket("udp4");
  const asked: string[] = [];
  socket.on("message", (message, peer) => {
    const query = new Uint8Array(message);
    if (query.length < 17) return;
    const { name, type } = questionOf(query);
    asked.push(`${name} ${type}`);
    if (options.silent) return;
    const addresses = names[name.toLowerCase()];
    const records = (addresses ?? [])
      .map((text) => ({ text, bytes: parseAddress(text)! }))
      .filter(({ text }) => text.includes(":") === (type === AAAA))
      .map(({ bytes }) => ({
        type,
        data: type === AAAA ? bytes : bytes.subarray(12),
        ttl: options.ttl ?? 60,
      }));
    socket.send(dnsResponse(query, addresses ? 0 : 3, records), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  return {
    port: socket.address().port,
    asked,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
