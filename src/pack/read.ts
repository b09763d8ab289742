// Reads and validates a pack: every offset and length is checked against the file before use, so a
// corrupt or truncated pack is refused with a clear error instead of reading out of bounds.

import { fnv1a64 } from "./hash.ts";
import { ERROR_STATUSES, type ErrorStatus } from "./model.ts";
import {
  ENCODINGS,
  ERROR_SLOTS,
  HEADER_SIZE,
  MAGIC,
  PREFIX_SIZE,
  ROUTE_SIZE,
  SLOT_SIZE,
  VARIANT_SIZE,
  VERSION,
} from "./write.ts";

export class PackError extends Error {}

export interface PackVariant {
  encoding: (typeof ENCODINGS)[number];
  full: Uint8Array;
  partial: Uint8Array;
  notModified: Uint8Array;
  etag: Uint8Array;
  body: Uint8Array;
}

export interface PackRoute {
  path: string;
  status: number;
  kind: "resource" | "redirect";
  lastModified: number;
  /** By encoding slot: identity, gzip, br; undefined where absent. */
  variants: (PackVariant | undefined)[];
}

export interface PackPrefixRedirect {
  prefix: Uint8Array;
  head: Uint8Array;
}

export interface Pack {
  bytes: Uint8Array;
  routeCount: number;
  lookup(path: Uint8Array): PackRoute | undefined;
  routes(): PackRoute[];
  prefixRedirects: PackPrefixRedirect[];
  spa: PackRoute | undefined;
  errors: Record<ErrorStatus, PackRoute>;
}

const decoder = new TextDecoder();

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Parses `bytes` as a pack; throws PackError naming the first inconsistency. */
export function readPack(bytes: Uint8Array): Pack {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (what: string): never => {
    throw new PackError(`not a valid speck pack: ${what}`);
  };
  if (bytes.length < HEADER_SIZE || !equal(bytes.subarray(0, 8), MAGIC))
    fail("bad magic (is this a .pack file?)");
  const version = view.getUint32(8, true);
  if (version !== VERSION) fail(`version ${version}, this speck reads version ${VERSION}`);
  if (view.getBigUint64(56, true) !== BigInt(bytes.length))
    fail(`size ${bytes.length} differs from the recorded size (truncated?)`);
  const u64 = (at: number): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(bytes.length)) fail(`offset ${v} at ${at} is past the end`);
    return Number(v);
  };
  const slice = (offset: number, length: number, what: string): Uint8Array => {
    if (offset + length > bytes.length) fail(`${what} runs past the end`);
    return bytes.subarray(offset, offset + length);
  };
  const record = (at: number, size: number, what: string): number => {
    if (at % 8 !== 0 || at + size > bytes.length) fail(`${what} at ${at} is misaligned or past the end`);
    return at;
  };

  const slotBits = view.getUint32(12, true);
  if (slotBits > 40) fail(`hash table of 2^${slotBits} slots`);
  const slots = 2 ** slotBits;
  const tableAt = record(u64(16), slots * SLOT_SIZE, "hash table");
  const routeCount = view.getUint32(36, true);

  const routeCache = new Map<number, PackRoute>();
  const route = (at: number): PackRoute => {
    const cached = routeCache.get(at);
    if (cached) return cached;
    record(at, ROUTE_SIZE, "route");
    const kindByte = view.getUint8(at + 14);
    if (kindByte !== 1 && kindByte !== 2) fail(`route at ${at} has kind ${kindByte}`);
    const mask = view.getUint8(at + 15);
    const variants = ENCODINGS.map((encoding, slot): PackVariant | undefined => {
      if (!(mask & (1 << slot))) return undefined;
      const v = at + 24 + slot * VARIANT_SIZE;
      return {
        encoding,
        full: slice(u64(v), view.getUint32(v + 8, true), "head"),
        partial: slice(u64(v + 16), view.getUint32(v + 12, true), "partial head"),
        notModified: slice(u64(v + 24), view.getUint32(v + 32, true), "304 head"),
        etag: slice(u64(v + 40), view.getUint32(v + 36, true), "etag"),
        body: slice(u64(v + 48), u64(v + 56), "body"),
      };
    });
    if (!variants[0]) fail(`route at ${at} has no identity variant`);
    const result: PackRoute = {
      path: decoder.decode(slice(u64(at), view.getUint32(at + 8, true), "path")),
      status: view.getUint16(at + 12, true),
      kind: kindByte === 1 ? "resource" : "redirect",
      lastModified: Number(view.getBigUint64(at + 16, true)),
      variants,
    };
    routeCache.set(at, result);
    return result;
  };

  const prefixAt = u64(24);
  const prefixRedirects = Array.from({ length: view.getUint32(32, true) }, (_, i) => {
    const at = record(prefixAt + i * PREFIX_SIZE, PREFIX_SIZE, "prefix redirect");
    return {
      prefix: slice(u64(at), view.getUint32(at + 8, true), "prefix"),
      head: slice(u64(at + 16), view.getUint32(at + 12, true), "prefix head"),
    };
  });
  const spaAt = u64(40);
  const errorsAt = record(u64(48), ERROR_SLOTS * 8, "error table");
  const errors = Object.fromEntries(
    ERROR_STATUSES.map((status, ordinal) => [status, route(u64(errorsAt + ordinal * 8))]),
  ) as Record<ErrorStatus, PackRoute>;

  return {
    bytes,
    routeCount,
    prefixRedirects,
    spa: spaAt === 0 ? undefined : route(spaAt),
    errors,
    lookup(path) {
      const hash = fnv1a64(path);
      let slot = Number(hash & BigInt(slots - 1));
      for (let probes = 0; probes < slots; probes++) {
        const at = tableAt + slot * SLOT_SIZE;
        const target = u64(at + 8);
        if (target === 0) return undefined;
        if (view.getBigUint64(at, true) === hash) {
          const r = route(target);
          if (equal(slice(u64(target), view.getUint32(target + 8, true), "path"), path)) return r;
        }
        slot = (slot + 1) & (slots - 1);
      }
      return undefined;
    },
    routes() {
      const out: PackRoute[] = [];
      for (let slot = 0; slot < slots; slot++) {
        const target = u64(tableAt + slot * SLOT_SIZE + 8);
        if (target !== 0) out.push(route(target));
      }
      return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
  };
}
