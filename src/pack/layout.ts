// Sizes, offsets and fixed contents of the pack format (docs/pack-format.md), shared by the writer and
// the reader so the two cannot drift apart.

import { statusLine } from "./status.ts";

export const MAGIC = new TextEncoder().encode("speck\0pk");
/** Version 11: no access section. Version 12: version 11 plus the access section and its error
 * responses; a version-11 reader refuses it, so an older server never serves its rules' paths
 * unprotected. The writer writes version 11 whenever it can. (Versions 1 to 10 laid route records,
 * error responses or the strings table out differently; readers of these refuse them.) */
export const VERSION = 11;
export const ACCESS_VERSION = 12;

export const HEADER_SIZE = 128;
export const SLOT_SIZE = 16;
export const VARIANT_SIZE = 64;
/** Route record fields (docs/pack-format.md, "Route record"); the variants start at VARIANTS_AT. */
export const ROUTE = {
  path: 0,
  pathLength: 8,
  status: 12,
  kind: 14,
  mask: 15,
  lastModified: 16,
  lastModifiedLength: 24,
  flags: 28,
} as const;
export const VARIANTS_AT = 32;
/** The status lines a 206 and a 304 head start with; the pack stores only their fields (in the 200 head). */
export const PARTIAL_STATUS_LINE = new TextEncoder().encode(statusLine(206));
export const NOT_MODIFIED_STATUS_LINE = new TextEncoder().encode(statusLine(304));
export const PREFIX_SIZE = 32;
/** Error ordinals are below this (the native server tells them from rule addresses by it). */
export const ERROR_SLOTS = 16;
/** An error table entry (docs/pack-format.md, "Error table"): the status line and the header fields
 * are stored apart, so every error page with the same fields shares one copy of them. */
export const ERROR_SIZE = 40;
/** Most bytes of a response's header fields (between its status line and Content-Length): the native
 * server copies those of a 206 or an error response into the response's dynamic bytes
 * (src/native/server/http/state.ts, DYN_SIZE), which must hold them. Node's HTTP client refuses
 * heads over 16 KiB anyway. */
export const FIELDS_LIMIT = 16384;
export const ERROR = {
  statusLine: 0,
  statusLineLength: 8,
  status: 12,
  body: 16,
  bodyLength: 24,
  fieldsLength: 28,
  fields: 32,
} as const;
export const STRING_SIZE = 16;

/** The encodings of a route's variants, by bit of its variant mask; a record holds the variants it
 * has, in this order. */
export const ENCODINGS = ["identity", "gzip", "br"] as const;

const bitsBelow = (mask: number, bit: number): number => {
  let count = 0;
  for (let b = 0; b < bit; b++) count += (mask >> b) & 1;
  return count;
};

/** Bytes of a route record with these variants. */
export const routeSize = (mask: number): number =>
  VARIANTS_AT + bitsBelow(mask, ENCODINGS.length) * VARIANT_SIZE;

/** Where in its record the variant of bit `bit` of `mask` is. */
export const variantAt = (mask: number, bit: number): number =>
  VARIANTS_AT + bitsBelow(mask, bit) * VARIANT_SIZE;

/** Header field offsets. */
export const H = {
  version: 8,
  slotBits: 12,
  fileSize: 16,
  table: 24,
  routes: 32,
  routeCount: 40,
  prefixCount: 44,
  prefixes: 48,
  spa: 56,
  errors: 64,
  strings: 72,
  stringCount: 80,
  /** Version 12: the access feature bits (src/access/features.ts), the section's offset and length. */
  accessFeatures: 84,
  access: 88,
  accessLength: 96,
} as const;

/** Error table ordinals of the access errors (401, 403, 502, 504), after the 11 of version 11. */
export const ACCESS_ERROR_ORDINAL = 11;

/** Route flag: a redirect appends the request's `?query` to its Location. */
export const FLAG_APPEND_QUERY = 1;

/** Byte classes (string 0): one byte per octet, these bits. */
export const CLASS = {
  /** tchar of RFC 9110: methods and header names. */
  token: 1,
  /** 0x21-0x7E: bytes of a request-target. */
  target: 2,
  /** HTAB, 0x20-0x7E, 0x80-0xFF: bytes of a header value. */
  fieldValue: 4,
  /** A-Z a-z 0-9 - . _ ~ /: copied into a prefix redirect's Location without escaping. */
  locationSafe: 8,
  /** 0-9 A-F a-f. */
  hex: 16,
  /** 0-9. */
  digit: 32,
  /** SP and HTAB. */
  whitespace: 64,
} as const;

function byteClasses(): Uint8Array {
  const table = new Uint8Array(256);
  const mark = (bit: number, test: (c: number) => boolean) => {
    for (let c = 0; c < 256; c++) if (test(c)) table[c]! |= bit;
  };
  const alnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  const of = (chars: string) => (c: number) => chars.includes(String.fromCharCode(c));
  mark(CLASS.token, (c) => alnum(c) || of("!#$%&'*+-.^_`|~")(c));
  mark(CLASS.target, (c) => c >= 0x21 && c <= 0x7e);
  mark(CLASS.fieldValue, (c) => c === 9 || (c >= 0x20 && c <= 0x7e) || c >= 0x80);
  mark(CLASS.locationSafe, (c) => alnum(c) || of("-._~/")(c));
  mark(CLASS.hex, (c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102));
  mark(CLASS.digit, (c) => c >= 48 && c <= 57);
  mark(CLASS.whitespace, (c) => c === 9 || c === 32);
  return table;
}

const text = new TextEncoder();

/**
 * The strings table: constant bytes the server needs, in the pack so the native server's code
 * does not carry them. Indexes are part of the format.
 */
export const SERVER_STRINGS: readonly Uint8Array[] = [
  byteClasses(),
  text.encode("Connection: close\r\n"),
  text.encode("Connection: keep-alive\r\n"),
  text.encode("Content-Range: bytes "),
  text.encode("Content-Length: "),
  text.encode("\r\n"),
];

/** Indexes into SERVER_STRINGS; the native server's response templates end at a 0 byte, so the
 * strings they name are 1 and up. */
export const STRING = {
  byteClasses: 0,
  connectionClose: 1,
  connectionKeepAlive: 2,
  contentRange: 3,
  contentLength: 4,
  crlf: 5,
} as const;
