// Serialises a PackInput into the pack format (docs/pack-format.md): precomputed heads for every
// variant, the hash table, the prefix redirect, error and strings tables, then the bodies. The output
// is a list of chunks, bodies left in their files among them, so multi-gigabyte sites stream to disk
// without one giant buffer; the writer also accounts for where the bytes go (PackStats).

import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { accessFeatureBits } from "../access/features.ts";
import { AccessSectionError, decodeAccessSection } from "../access/section.ts";
import { fnv1a64 } from "./hash.ts";
import { formatHttpDate } from "./http-date.ts";
import {
  ACCESS_ERROR_ORDINAL,
  ACCESS_VERSION,
  ENCODINGS,
  ERROR,
  ERROR_SIZE,
  FIELDS_LIMIT,
  FLAG_APPEND_QUERY,
  H,
  HEADER_SIZE,
  MAGIC,
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
import {
  ACCESS_ERROR_STATUSES,
  type AccessErrorStatus,
  type Body,
  bodyLength,
  ERROR_STATUSES,
  type ErrorStatus,
  type FileBody,
  type Header,
  type PackInput,
  type Redirect,
  type Resource,
} from "./model.ts";
import { largestRoutes, type PackStats } from "./stats.ts";
import { statusLine } from "./status.ts";

/** Headers a 304 repeats from the 200 (RFC 9110, section 15.4.5). */
const NOT_MODIFIED_HEADERS = new Set([
  "cache-control",
  "content-location",
  "etag",
  "expires",
  "last-modified",
  "vary",
]);
/** Headers the pack writes itself or the server adds at run time. */
const RESERVED_HEADERS = new Set([
  "accept-ranges",
  "connection",
  "content-encoding",
  "content-length",
  "content-range",
  "date",
  "etag",
  "keep-alive",
  "last-modified",
  "location",
  "transfer-encoding",
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const encoder = new TextEncoder();
/** Where a 200 head's fields start: after `HTTP/1.1 200 OK` CRLF. */
const FIELDS_AFTER_200 = statusLine(200).length;
const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Pieces up to this size are found again by their bytes as a string key; larger ones by length. */
const SMALL_PIECE = 1024;

/** A piece of the pack: bytes, or a body still in its file. */
export type PackChunk = Body;

/** A pack ready to be written: its chunks in file order, its size, and where its bytes go. */
export interface PackBytes {
  /** The first chunk holds the header and the tables (everything up to the heap). */
  chunks: [Uint8Array, ...PackChunk[]];
  size: number;
  stats: PackStats;
}

/** What a piece of the heap is, for PackStats; paths and server strings count as the index. */
type PieceKind = "headers" | "identity" | "gzip" | "br" | "index";

/**
 * Bytes laid out after the records: each piece gets an offset when added, and a piece equal to one
 * added before gets that one's offset (a directory's `/` and `/index.html`, or the same head, are
 * written once). A piece's bytes count towards its kind when it is first stored.
 */
class Heap {
  readonly chunks: PackChunk[] = [];
  size = 0;
  readonly stored: Record<PieceKind, number> = { headers: 0, identity: 0, gzip: 0, br: 0, index: 0 };
  private readonly small = new Map<string, number>();
  private readonly large = new Map<number, { bytes: Uint8Array; at: number }[]>();
  private readonly files = new Map<string, number>();
  constructor(readonly start: number) {}
  add(piece: Body, kind: PieceKind): number {
    const length = bodyLength(piece);
    if (length === 0) return this.start + this.size;
    const known = this.find(piece);
    if (known !== undefined) return known;
    const at = this.start + this.size;
    this.chunks.push(piece);
    this.size += length;
    this.stored[kind] += length;
    if (!(piece instanceof Uint8Array)) this.files.set(fileKey(piece), at);
    else if (length <= SMALL_PIECE) this.small.set(Buffer.from(piece).toString("latin1"), at);
    else this.large.set(length, [...(this.large.get(length) ?? []), { bytes: piece, at }]);
    return at;
  }
  private find(piece: Body): number | undefined {
    if (!(piece instanceof Uint8Array)) return this.files.get(fileKey(piece));
    if (piece.length <= SMALL_PIECE) return this.small.get(Buffer.from(piece).toString("latin1"));
    return this.findLarge(piece);
  }
  private findLarge(bytes: Uint8Array): number | undefined {
    const view = (piece: Uint8Array) => Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    const same = (other: Uint8Array) => other === bytes || view(other).equals(view(bytes));
    return this.large.get(bytes.length)?.find((piece) => same(piece.bytes))?.at;
  }
}

const fileKey = (body: FileBody): string => `${body.size}:${body.hash}`;

function fail(what: string): never {
  throw new Error(`pack: ${what}`);
}

function checkHeaders(headers: readonly Header[], where: string): void {
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) fail(`${where}: header name ${JSON.stringify(name)} is not a token`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) fail(`${where}: ${name} is written by the pack itself`);
    if (/[\0-\x08\n-\x1f\x7f]/.test(value))
      fail(`${where}: the value of ${name} contains a control character`);
  }
}

/**
 * True for a normalised request path: "/" then segments, no "//", no "." or ".." segment, no NUL
 * (the last segment may be empty: a trailing "/").
 */
export function isNormalisedPath(path: string): boolean {
  if (!path.startsWith("/") || path.includes("\0")) return false;
  return path
    .slice(1)
    .split("/")
    .every((segment, i, all) =>
      segment === "" ? i === all.length - 1 : segment !== "." && segment !== "..",
    );
}

function checkLocation(location: string, where: string): void {
  if (!/^[\x21-\x7e]+$/.test(location))
    fail(`${where}: Location ${JSON.stringify(location)} must be printable ASCII without spaces`);
}

function headerLines(headers: readonly Header[]): string {
  return headers.map(([name, value]) => `${name}: ${value}\r\n`).join("");
}

/** The query is appended only to a Location that has neither a query nor a fragment of its own. */
const appendsQuery = (location: string): boolean => !location.includes("?") && !location.includes("#");

function redirectHead(status: number, headers: readonly Header[], location: string): string {
  return `${statusLine(status)}${headerLines(headers)}Content-Length: 0\r\nLocation: ${location}`;
}

interface VariantHeads {
  full: string;
  /** A 200 answers ranges with a 206 and conditionals with a 304, whose heads are its fields under
   * another status line: all of them (206), or the last `notModifiedFields` (304). */
  ranged: boolean;
  fields: string;
  notModifiedFields: string;
}

const keptBy304 = ([name]: Header): boolean => NOT_MODIFIED_HEADERS.has(name.toLowerCase());

function resourceHeads(resource: Resource, status: number, index: number): VariantHeads {
  const variant = resource.variants[index]!;
  const extra: Header[] = [];
  if (variant.encoding !== "identity") extra.push(["Content-Encoding", variant.encoding]);
  if (resource.variants.length > 1) extra.push(["Vary", "Accept-Encoding"]);
  if (variant.etag) extra.push(["ETag", variant.etag]);
  if (resource.lastModified !== undefined)
    extra.push(["Last-Modified", formatHttpDate(resource.lastModified)]);
  if (status === 200) extra.push(["Accept-Ranges", "bytes"]);
  const all = [...resource.headers, ...extra];
  // the lines a 304 repeats go last, so its head is a run of the 200 head's bytes
  const notModifiedFields = headerLines(all.filter(keptBy304));
  const fields = headerLines(all.filter((header) => !keptBy304(header))) + notModifiedFields;
  return {
    full: `${statusLine(status)}${fields}Content-Length: ${bodyLength(variant.body)}\r\n`,
    ranged: status === 200,
    fields,
    notModifiedFields,
  };
}

function writeVariant(
  view: DataView,
  v: number,
  heap: Heap,
  heads: VariantHeads,
  etag: string,
  variant: { encoding: PieceKind; body: Body },
  where: string,
): number {
  const full = encoder.encode(heads.full);
  const etagBytes = encoder.encode(etag);
  const fullAt = heap.add(full, "headers");
  view.setBigUint64(v, BigInt(fullAt), true);
  view.setUint32(v + 8, full.length, true);
  if (heads.ranged) {
    // the 206 and 304 heads are not stored: the record points at their fields in the full head
    const fields = encoder.encode(heads.fields).length;
    const notModified = encoder.encode(heads.notModifiedFields).length;
    checkFieldsLength(fields, where);
    view.setUint32(v + 12, fields, true);
    view.setBigUint64(v + 16, BigInt(fullAt + FIELDS_AFTER_200), true);
    view.setBigUint64(v + 24, BigInt(fullAt + FIELDS_AFTER_200 + fields - notModified), true);
    view.setUint32(v + 32, notModified, true);
  }
  view.setUint32(v + 36, etagBytes.length, true);
  view.setBigUint64(v + 40, BigInt(heap.add(etagBytes, "headers")), true);
  view.setBigUint64(v + 48, BigInt(heap.add(variant.body, variant.encoding)), true);
  view.setBigUint64(v + 56, BigInt(bodyLength(variant.body)), true);
  return full.length + etagBytes.length + bodyLength(variant.body);
}

/**
 * Writes one route record at `at` (its heads and bodies go into the heap); returns its size and
 * the bytes of its heads, ETags, Last-Modified text and bodies.
 */
function writeRoute(
  view: DataView,
  at: number,
  heap: Heap,
  path: string,
  response: Resource | Redirect,
  status: number,
  where: string,
): { size: number; bytes: number } {
  const pathBytes = encoder.encode(path);
  view.setBigUint64(at + ROUTE.path, BigInt(heap.add(pathBytes, "index")), true);
  view.setUint32(at + ROUTE.pathLength, pathBytes.length, true);
  view.setUint16(at + ROUTE.status, status, true);
  view.setUint8(at + ROUTE.kind, response.kind === "resource" ? 1 : 2);
  checkHeaders(response.headers, where);
  if (response.kind === "redirect") {
    checkLocation(response.location, where);
    view.setUint8(at + ROUTE.mask, 1);
    view.setUint32(at + ROUTE.flags, appendsQuery(response.location) ? FLAG_APPEND_QUERY : 0, true);
    const head = encoder.encode(redirectHead(status, response.headers, response.location));
    view.setBigUint64(at + VARIANTS_AT, BigInt(heap.add(head, "headers")), true);
    view.setUint32(at + VARIANTS_AT + 8, head.length, true);
    return { size: routeSize(1), bytes: head.length };
  }
  let bytes = 0;
  if (response.lastModified !== undefined) {
    const lmText = encoder.encode(formatHttpDate(checkLastModified(response.lastModified, where)));
    view.setBigUint64(at + ROUTE.lastModified, BigInt(heap.add(lmText, "headers")), true);
    view.setUint32(at + ROUTE.lastModifiedLength, lmText.length, true);
    bytes += lmText.length;
  }
  const mask = variantMask(response, where);
  view.setUint8(at + ROUTE.mask, mask);
  response.variants.forEach((variant, index) => {
    if (variant.etag !== undefined && !/^"[\x21\x23-\x7e\x80-\xff]*"$/.test(variant.etag))
      fail(`${where}: ETag ${variant.etag} is not a quoted strong entity tag`);
    const v = at + variantAt(mask, ENCODINGS.indexOf(variant.encoding));
    const heads = resourceHeads(response, status, index);
    bytes += writeVariant(view, v, heap, heads, variant.etag ?? "", variant, where);
  });
  return { size: routeSize(mask), bytes };
}

function checkLastModified(seconds: number, where: string): number {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > 253402300799)
    fail(`${where}: Last-Modified ${seconds} is not a time between 1970 and 9999`);
  return seconds;
}

function checkFieldsLength(length: number, where: string): void {
  if (length > FIELDS_LIMIT)
    fail(
      `${where}: its headers take ${length} bytes, more than the ${FIELDS_LIMIT} a response may have (shorten the header rules that match it)`,
    );
}

/** Largest error page body (its length is a u32 in the error table). */
const ERROR_BODY_LIMIT = 0xffffffff;

/** Writes the error table entry at `at`: the identity variant's status line, fields and body. */
function writeError(
  view: DataView,
  at: number,
  heap: Heap,
  page: Resource,
  status: number,
  where: string,
): void {
  checkHeaders(page.headers, where);
  variantMask(page, where); // refuses duplicate variants and a page without identity
  if (page.lastModified !== undefined) checkLastModified(page.lastModified, where);
  const identity = page.variants.findIndex((variant) => variant.encoding === "identity");
  const line = encoder.encode(statusLine(status));
  const fields = encoder.encode(resourceHeads(page, status, identity).fields);
  const body = page.variants[identity]!.body;
  if (bodyLength(body) > ERROR_BODY_LIMIT) fail(`${where}: the page is over 4 GiB`);
  checkFieldsLength(fields.length, where);
  view.setBigUint64(at + ERROR.statusLine, BigInt(heap.add(line, "headers")), true);
  view.setUint32(at + ERROR.statusLineLength, line.length, true);
  view.setUint16(at + ERROR.status, status, true);
  view.setBigUint64(at + ERROR.body, BigInt(heap.add(body, "identity")), true);
  view.setUint32(at + ERROR.bodyLength, bodyLength(body), true);
  view.setUint32(at + ERROR.fieldsLength, fields.length, true);
  view.setBigUint64(at + ERROR.fields, BigInt(heap.add(fields, "headers")), true);
}

/** The variant mask of a response (a redirect has only its head, in the identity slot). */
function variantMask(response: Resource | Redirect, where: string): number {
  if (response.kind === "redirect") return 1;
  let mask = 0;
  for (const variant of response.variants) {
    const bit = ENCODINGS.indexOf(variant.encoding);
    if (bit < 0 || mask & (1 << bit)) fail(`${where} has a duplicate or unknown ${variant.encoding} variant`);
    mask |= 1 << bit;
  }
  if (!(mask & 1)) fail(`${where} has no identity variant`);
  return mask;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The pack as chunks in file order, with its total size and where its bytes go. */
export function packChunks(input: PackInput): PackBytes {
  const routes = [...input.routes].sort(byPath);
  for (let i = 0; i < routes.length; i++) {
    const path = routes[i]!.path;
    if (!isNormalisedPath(path))
      fail(
        `the route path ${JSON.stringify(path)} is not normalised (no "//", "." or ".." segments, no NUL)`,
      );
    if (i > 0 && path === routes[i - 1]!.path) fail(`the path ${path} has two routes`);
  }
  let slotBits = 1;
  while (2 ** slotBits < routes.length * 2) slotBits++;
  const slots = 2 ** slotBits;

  const tableAt = HEADER_SIZE;
  const routesAt = tableAt + slots * SLOT_SIZE;
  const access = input.access;
  let features = 0;
  if (access) {
    try {
      features = accessFeatureBits(decodeAccessSection(access.section));
    } catch (error) {
      if (error instanceof AccessSectionError) fail(error.message);
      throw error;
    }
  }
  const errorStatuses = [...ERROR_STATUSES, ...(access ? ACCESS_ERROR_STATUSES : [])];
  const errorPages = errorStatuses.map((status, ordinal) => {
    const page =
      ordinal < ACCESS_ERROR_ORDINAL
        ? input.errors[status as ErrorStatus]
        : access?.errors[status as AccessErrorStatus];
    if (!page) fail(`the ${status} error response is missing`);
    return { status, page, where: `the ${status} error response` };
  });
  const recordsSize = [
    ...routes.map((route) => routeSize(variantMask(route.response, `route ${route.path}`))),
    ...(input.spa ? [routeSize(variantMask(input.spa, "the SPA fallback"))] : []),
  ].reduce((sum, size) => sum + size, 0);
  const prefixAt = routesAt + recordsSize;
  const errorsAt = prefixAt + input.prefixRedirects.length * PREFIX_SIZE;
  const stringsAt = errorsAt + errorPages.length * ERROR_SIZE;
  const accessAt = align8(stringsAt + SERVER_STRINGS.length * STRING_SIZE);
  const heapAt = align8(accessAt + (access?.section.length ?? 0));
  const records = new Uint8Array(heapAt);
  const view = new DataView(records.buffer);
  const heap = new Heap(heapAt);

  records.set(MAGIC, 0);
  view.setUint32(H.version, access ? ACCESS_VERSION : VERSION, true);
  view.setUint32(H.slotBits, slotBits, true);
  view.setBigUint64(H.table, BigInt(tableAt), true);
  view.setBigUint64(H.routes, BigInt(routesAt), true);
  view.setUint32(H.routeCount, routes.length, true);
  view.setUint32(H.prefixCount, input.prefixRedirects.length, true);
  view.setBigUint64(H.prefixes, BigInt(prefixAt), true);
  view.setBigUint64(H.errors, BigInt(errorsAt), true);
  view.setBigUint64(H.strings, BigInt(stringsAt), true);
  view.setUint32(H.stringCount, SERVER_STRINGS.length, true);
  if (access) {
    view.setUint32(H.accessFeatures, features, true);
    view.setBigUint64(H.access, BigInt(accessAt), true);
    view.setBigUint64(H.accessLength, BigInt(access.section.length), true);
    records.set(access.section, accessAt);
  }

  SERVER_STRINGS.forEach((bytes, i) => {
    view.setBigUint64(stringsAt + i * STRING_SIZE, BigInt(heap.add(bytes, "index")), true);
    view.setBigUint64(stringsAt + i * STRING_SIZE + 8, BigInt(bytes.length), true);
  });
  let next = routesAt;
  const sizes: { path: string; bytes: number }[] = [];
  for (const route of routes) {
    const at = next;
    const status = route.response.kind === "redirect" ? route.response.status : 200;
    const written = writeRoute(view, at, heap, route.path, route.response, status, `route ${route.path}`);
    next += written.size;
    sizes.push({ path: route.path, bytes: written.bytes });
    const hash = fnv1a64(encoder.encode(route.path));
    let slot = Number(hash & BigInt(slots - 1));
    while (view.getBigUint64(tableAt + slot * SLOT_SIZE + 8, true) !== 0n) slot = (slot + 1) & (slots - 1);
    view.setBigUint64(tableAt + slot * SLOT_SIZE, hash, true);
    view.setBigUint64(tableAt + slot * SLOT_SIZE + 8, BigInt(at), true);
  }
  if (input.spa) {
    view.setBigUint64(H.spa, BigInt(next), true);
    next += writeRoute(view, next, heap, "", input.spa, 200, "the SPA fallback").size;
  }
  errorPages.forEach(({ status, page, where }, ordinal) => {
    writeError(view, errorsAt + ordinal * ERROR_SIZE, heap, page, status, where);
  });
  input.prefixRedirects.forEach((rule, i) => {
    const at = prefixAt + i * PREFIX_SIZE;
    const where = `prefix redirect ${rule.prefix}`;
    if (!rule.prefix.endsWith("/") || !isNormalisedPath(rule.prefix))
      fail(`${where}: the prefix must be a normalised path ending with "/"`);
    checkHeaders(rule.headers, where);
    checkLocation(rule.target, where);
    const prefix = encoder.encode(rule.prefix);
    const head = encoder.encode(redirectHead(rule.status, rule.headers, rule.target));
    view.setBigUint64(at, BigInt(heap.add(prefix, "index")), true);
    view.setUint32(at + 8, prefix.length, true);
    view.setUint32(at + 12, head.length, true);
    view.setBigUint64(at + 16, BigInt(heap.add(head, "headers")), true);
    view.setUint16(at + 24, rule.status, true);
    view.setUint32(at + 28, appendsQuery(rule.target) ? FLAG_APPEND_QUERY : 0, true);
  });
  const size = heapAt + heap.size;
  view.setBigUint64(H.fileSize, BigInt(size), true);
  const { headers, identity, gzip, br } = heap.stored;
  const stats: PackStats = {
    total: size,
    routes: routes.length,
    headers,
    identity,
    gzip,
    br,
    index: size - headers - identity - gzip - br,
    largest: largestRoutes(sizes),
  };
  return { chunks: [records, ...heap.chunks], size, stats };
}

/** File bodies are read in pieces of this size. */
const READ_PIECE = 1 << 20;

/** The bytes of a file body, read as they are needed; refuses a file that changed since it was scanned. */
function* fileBytes(body: FileBody): Generator<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(body.file, "r");
  } catch (error) {
    fail(`cannot read ${body.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    let left = body.size;
    while (left > 0) {
      const piece = Buffer.allocUnsafe(Math.min(READ_PIECE, left));
      const read = readSync(fd, piece, 0, piece.length, null);
      if (read === 0) break;
      left -= read;
      yield read === piece.length ? piece : piece.subarray(0, read);
    }
    if (left !== 0 || readSync(fd, Buffer.alloc(1), 0, 1, null) !== 0)
      fail(`${body.file} changed while the pack was being written; build again`);
  } finally {
    closeSync(fd);
  }
}

/** Chunks below this size are copied together into pieces of up to READ_PIECE. */
const SMALL_CHUNK = 64 * 1024;

/**
 * The pack's bytes in file order, in pieces of up to a MiB: small chunks (heads, paths, small
 * bodies) copied together, so that gzip and write see a few large pieces rather than one per head,
 * and file bodies read a piece at a time.
 */
export function* packPieces(pack: PackBytes): Generator<Uint8Array> {
  let batch = Buffer.allocUnsafe(READ_PIECE);
  let filled = 0;
  function* flush(): Generator<Uint8Array> {
    if (filled === 0) return;
    yield batch.subarray(0, filled);
    batch = Buffer.allocUnsafe(READ_PIECE);
    filled = 0;
  }
  for (const chunk of pack.chunks) {
    if (chunk instanceof Uint8Array && chunk.length < SMALL_CHUNK) {
      if (filled + chunk.length > READ_PIECE) yield* flush();
      batch.set(chunk, filled);
      filled += chunk.length;
      continue;
    }
    yield* flush();
    if (chunk instanceof Uint8Array) yield chunk;
    else yield* fileBytes(chunk);
  }
  yield* flush();
}

/** Largest pack held in one buffer (Node's limit for a Uint8Array). */
export const JOINED_PACK_LIMIT = 2 ** 32 - 1;

/** The whole pack in one buffer (file bodies read into it). */
export function joinPack(pack: PackBytes): Uint8Array {
  if (pack.size > JOINED_PACK_LIMIT)
    fail(`the pack takes ${pack.size} bytes, more than the ${JOINED_PACK_LIMIT} one buffer can hold`);
  const out = new Uint8Array(pack.size);
  let at = 0;
  for (const piece of packPieces(pack)) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** The whole pack in memory, deterministic for a given input (routes are sorted by path). */
export function writePack(input: PackInput): Uint8Array {
  return joinPack(packChunks(input));
}

/** Streams the pack to `path` through a temporary file renamed when complete; returns its size. */
export function writePackFile(input: PackInput, path: string): number {
  const pack = packChunks(input);
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(temporary, "w", 0o644);
    try {
      for (const piece of packPieces(pack)) {
        let written = 0;
        while (written < piece.length) written += writeSync(fd, piece, written, piece.length - written);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return pack.size;
}
