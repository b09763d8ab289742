// Reads and validates a pack: every offset and length is checked against the file before use, so a
// corrupt or truncated pack is refused with a clear error instead of reading out of bounds.

import { accessFeatureBits } from "../access/features.ts";
import { AccessSectionError, decodeAccessSection } from "../access/section.ts";
import { fnv1a64 } from "./hash.ts";
import {
  ACCESS_VERSION,
  ENCODINGS,
  ERROR,
  ERROR_SIZE,
  FLAG_APPEND_QUERY,
  H,
  HEADER_SIZE,
  MAGIC,
  NOT_MODIFIED_STATUS_LINE,
  PARTIAL_STATUS_LINE,
  PREFIX_SIZE,
  ROUTE,
  routeSize,
  SERVER_STRINGS,
  SLOT_SIZE,
  STRING_SIZE,
  VARIANTS_AT,
  VERSION,
  variantAt,
} from "./layout.ts";
import { ACCESS_ERROR_STATUSES, type AccessErrorStatus, ERROR_STATUSES, type ErrorStatus } from "./model.ts";

/** A pack that fails validation; the message says what is wrong and where. */
export class PackError extends Error {}

export interface PackVariant {
  encoding: (typeof ENCODINGS)[number];
  /** The complete head without Date, Connection and the final CRLF (a redirect's ends in its Location;
   * an error response's is built from its stored status line and fields plus its Content-Length). */
  full: Uint8Array;
  /** The 206 head without Content-Range and Content-Length; empty except on 200 routes (the pack
   * stores only where its fields are in the 200 head). */
  partial: Uint8Array;
  /** The 304 head; empty except on 200 routes (its fields are the last of the 200 head's). */
  notModified: Uint8Array;
  /** The entity tag with its quotes, or empty. */
  etag: Uint8Array;
  body: Uint8Array;
}

export interface PackRoute {
  /** The normalised request path; empty for the SPA fallback and error responses. */
  path: string;
  status: number;
  kind: "resource" | "redirect";
  /** The Last-Modified value as sent (IMF-fixdate), or empty when the route has none. */
  lastModifiedText: Uint8Array;
  /** Redirects: the request's `?query` is appended to the Location. */
  appendQuery: boolean;
  /** By encoding slot: identity, gzip, br; undefined where absent. */
  variants: (PackVariant | undefined)[];
}

export interface PackPrefixRedirect {
  prefix: Uint8Array;
  status: number;
  /** The full head, ending in `Location: <target prefix>` without CRLF. */
  head: Uint8Array;
  appendQuery: boolean;
}

export interface Pack {
  bytes: Uint8Array;
  routeCount: number;
  /** The exact route for a normalised path, by hash lookup as the native server does it. */
  lookup(path: Uint8Array): PackRoute | undefined;
  /** Every exact route, sorted by path. */
  routes(): PackRoute[];
  prefixRedirects: PackPrefixRedirect[];
  spa: PackRoute | undefined;
  /** The error responses; 401, 403, 502 and 504 only in packs with an access section. */
  errors: Record<ErrorStatus, PackRoute> & Partial<Record<AccessErrorStatus, PackRoute>>;
  /** The stored pieces the error heads are made of (status lines and shared fields), for stats. */
  errorHeadPieces: Uint8Array[];
  /** The access section (docs/access.md) and the feature bits it needs, in version-8 packs. */
  access: { section: Uint8Array; features: number } | undefined;
  /** The server strings table (docs/pack-format.md, "Strings"). */
  strings: Uint8Array[];
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

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
    fail("bad magic (is this a .pack file written by speck?)");
  const version = view.getUint32(H.version, true);
  if (version !== VERSION && version !== ACCESS_VERSION)
    fail(`version ${version}, this speck reads versions ${VERSION} and ${ACCESS_VERSION} (rebuild the pack)`);
  const recorded = view.getBigUint64(H.fileSize, true);
  if (recorded !== BigInt(bytes.length))
    fail(`the file has ${bytes.length} bytes but its header says ${recorded} (truncated?)`);
  const u64 = (at: number): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(bytes.length)) fail(`the offset or length ${v} at byte ${at} is past the end`);
    return Number(v);
  };
  const slice = (offset: number, length: number, what: string): Uint8Array => {
    if (offset + length > bytes.length) fail(`the ${what} at byte ${offset} runs past the end`);
    return bytes.subarray(offset, offset + length);
  };
  const none = bytes.subarray(0, 0);
  /** A 206 or 304 head: its status line and the fields the record points at (in the 200 head). */
  const headOf = (line: Uint8Array, offset: number, length: number, what: string): Uint8Array =>
    Buffer.concat([line, slice(offset, length, `${what} fields`)]);
  const record = (at: number, size: number, what: string): number => {
    if (at % 8 !== 0 || at < HEADER_SIZE || at + size > bytes.length)
      fail(`the ${what} at byte ${at} is misaligned or out of bounds`);
    return at;
  };

  const slotBits = view.getUint32(H.slotBits, true);
  if (slotBits < 1 || slotBits > 40) fail(`a hash table of 2^${slotBits} slots`);
  const slots = 2 ** slotBits;
  const tableAt = record(u64(H.table), slots * SLOT_SIZE, "hash table");
  const routeCount = view.getUint32(H.routeCount, true);
  if (routeCount * 2 > slots) fail(`${routeCount} routes in ${slots} slots (the table must stay half empty)`);

  const routeCache = new Map<number, PackRoute>();
  const route = (at: number): PackRoute => {
    const cached = routeCache.get(at);
    if (cached) return cached;
    record(at, VARIANTS_AT, "route");
    const kindByte = view.getUint8(at + ROUTE.kind);
    if (kindByte !== 1 && kindByte !== 2) fail(`the route at byte ${at} has kind ${kindByte}`);
    const mask = view.getUint8(at + ROUTE.mask);
    if (mask > 7 || (kindByte === 2 && mask !== 1)) fail(`the route at byte ${at} has variant mask ${mask}`);
    record(at, routeSize(mask), "route");
    const ranged = kindByte === 1 && view.getUint16(at + ROUTE.status, true) === 200;
    const variants = ENCODINGS.map((encoding, bit): PackVariant | undefined => {
      if (!(mask & (1 << bit))) return undefined;
      const v = at + variantAt(mask, bit);
      return {
        encoding,
        full: slice(u64(v), view.getUint32(v + 8, true), "head"),
        partial: ranged
          ? headOf(PARTIAL_STATUS_LINE, u64(v + 16), view.getUint32(v + 12, true), "206")
          : none,
        notModified: ranged
          ? headOf(NOT_MODIFIED_STATUS_LINE, u64(v + 24), view.getUint32(v + 32, true), "304")
          : none,
        etag: slice(u64(v + 40), view.getUint32(v + 36, true), "ETag"),
        body: slice(u64(v + 48), u64(v + 56), "body"),
      };
    });
    if (!variants[0]) fail(`the route at byte ${at} has no identity variant`);
    const result: PackRoute = {
      path: decoder.decode(slice(u64(at + ROUTE.path), view.getUint32(at + ROUTE.pathLength, true), "path")),
      status: view.getUint16(at + ROUTE.status, true),
      kind: kindByte === 1 ? "resource" : "redirect",
      lastModifiedText: slice(
        u64(at + ROUTE.lastModified),
        view.getUint32(at + ROUTE.lastModifiedLength, true),
        "Last-Modified text",
      ),
      appendQuery: (view.getUint32(at + ROUTE.flags, true) & FLAG_APPEND_QUERY) !== 0,
      variants,
    };
    routeCache.set(at, result);
    return result;
  };

  const prefixAt = u64(H.prefixes);
  const prefixRedirects = Array.from({ length: view.getUint32(H.prefixCount, true) }, (_, i) => {
    const at = record(prefixAt + i * PREFIX_SIZE, PREFIX_SIZE, "prefix redirect");
    return {
      prefix: slice(u64(at), view.getUint32(at + 8, true), "prefix"),
      head: slice(u64(at + 16), view.getUint32(at + 12, true), "prefix redirect head"),
      status: view.getUint16(at + 24, true),
      appendQuery: (view.getUint32(at + 28, true) & FLAG_APPEND_QUERY) !== 0,
    };
  });
  const stringsAt = u64(H.strings);
  const stringCount = view.getUint32(H.stringCount, true);
  if (stringCount < SERVER_STRINGS.length)
    fail(`${stringCount} server strings, expected ${SERVER_STRINGS.length}`);
  record(stringsAt, stringCount * STRING_SIZE, "strings table");
  const strings = Array.from({ length: stringCount }, (_, i) =>
    slice(u64(stringsAt + i * STRING_SIZE), u64(stringsAt + i * STRING_SIZE + 8), "server string"),
  );
  const spaAt = u64(H.spa);
  const hasAccess = version === ACCESS_VERSION;
  const errorStatuses = [...ERROR_STATUSES, ...(hasAccess ? ACCESS_ERROR_STATUSES : [])];
  const errorsAt = record(u64(H.errors), errorStatuses.length * ERROR_SIZE, "error table");
  const errorHeadPieces: Uint8Array[] = [];
  const errors = Object.fromEntries(
    errorStatuses.map((status, ordinal) => {
      const at = errorsAt + ordinal * ERROR_SIZE;
      const stored = view.getUint16(at + ERROR.status, true);
      if (stored !== status) fail(`error entry ${ordinal} has status ${stored}, expected ${status}`);
      const line = slice(
        u64(at + ERROR.statusLine),
        view.getUint32(at + ERROR.statusLineLength, true),
        "status line",
      );
      const fields = slice(
        u64(at + ERROR.fields),
        view.getUint32(at + ERROR.fieldsLength, true),
        "error fields",
      );
      const body = slice(u64(at + ERROR.body), view.getUint32(at + ERROR.bodyLength, true), "error body");
      errorHeadPieces.push(line, fields);
      const identity: PackVariant = {
        encoding: "identity",
        full: Buffer.concat([line, fields, encoder.encode(`Content-Length: ${body.length}\r\n`)]),
        partial: none,
        notModified: none,
        etag: none,
        body,
      };
      const response: PackRoute = {
        path: "",
        status,
        kind: "resource",
        lastModifiedText: none,
        appendQuery: false,
        variants: [identity, undefined, undefined],
      };
      return [status, response];
    }),
  ) as Pack["errors"];
  let access: Pack["access"];
  if (hasAccess) {
    const section = slice(record(u64(H.access), 0, "access section"), u64(H.accessLength), "access section");
    const features = view.getUint32(H.accessFeatures, true);
    try {
      const needed = accessFeatureBits(decodeAccessSection(section));
      if (needed !== features)
        fail(`the header's access features ${features} are not the section's ${needed}`);
    } catch (error) {
      if (error instanceof AccessSectionError) fail(error.message);
      throw error;
    }
    access = { section, features };
  } else if (view.getUint32(H.accessFeatures, true) !== 0 || view.getBigUint64(H.access, true) !== 0n)
    fail(`a version ${VERSION} pack with access fields set`);

  // Every route is checked now, so serving never meets a bad record.
  let filled = 0;
  for (let slot = 0; slot < slots; slot++) {
    const at = tableAt + slot * SLOT_SIZE;
    const target = u64(at + 8);
    if (target === 0) continue;
    filled++;
    const r = route(target);
    if (view.getBigUint64(at, true) !== fnv1a64(slice(u64(target), view.getUint32(target + 8, true), "path")))
      fail(`hash table slot ${slot} does not hold the hash of ${JSON.stringify(r.path)}`);
  }
  if (filled !== routeCount) fail(`the hash table holds ${filled} routes, the header says ${routeCount}`);

  return {
    bytes,
    routeCount,
    prefixRedirects,
    spa: spaAt === 0 ? undefined : route(spaAt),
    errors,
    errorHeadPieces,
    access,
    strings,
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
