// Serialises a PackInput into the pack format (docs/pack-format.md): precomputed heads for every
// variant, the hash table, the prefix redirect and error tables, then the bodies. The output is a
// list of chunks so multi-gigabyte sites stream to disk without one giant buffer.

import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { fnv1a64 } from "./hash.ts";
import { formatHttpDate } from "./http-date.ts";
import {
  ERROR_STATUSES,
  type Header,
  type PackInput,
  type Redirect,
  type Resource,
  type Route,
} from "./model.ts";
import { statusLine } from "./status.ts";

export const MAGIC = new TextEncoder().encode("speck\0pk");
export const VERSION = 1;
export const HEADER_SIZE = 64;
export const SLOT_SIZE = 16;
export const ROUTE_SIZE = 216;
export const VARIANT_SIZE = 64;
export const PREFIX_SIZE = 32;
export const ERROR_SLOTS = 16;
export const ENCODINGS = ["identity", "gzip", "br"] as const;
/** Headers a 304 repeats from the 200 (RFC 9110, section 15.4.5). */
const NOT_MODIFIED_HEADERS = new Set([
  "cache-control",
  "content-location",
  "etag",
  "expires",
  "last-modified",
  "vary",
]);

const encoder = new TextEncoder();
const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Bytes laid out after the records: each piece gets an offset when added. */
class Heap {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  constructor(readonly start: number) {}
  add(bytes: Uint8Array): number {
    const at = this.start + this.size;
    if (bytes.length > 0) this.chunks.push(bytes);
    this.size += bytes.length;
    return at;
  }
}

function headerLines(headers: readonly Header[]): string {
  return headers.map(([name, value]) => `${name}: ${value}\r\n`).join("");
}

interface VariantHeads {
  full: string;
  partial: string;
  notModified: string;
}

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
  const lines = headerLines(all);
  return {
    full: `${statusLine(status)}${lines}Content-Length: ${variant.body.length}\r\n`,
    partial: status === 200 ? `${statusLine(206)}${lines}` : "",
    notModified:
      status === 200
        ? `${statusLine(304)}${headerLines(all.filter(([name]) => NOT_MODIFIED_HEADERS.has(name.toLowerCase())))}`
        : "",
  };
}

function redirectHead(status: number, headers: readonly Header[], location: string): string {
  return `${statusLine(status)}${headerLines(headers)}Content-Length: 0\r\nLocation: ${location}`;
}

/** Writes one route record (and its heads and bodies into the heap) at `at` in `records`. */
function writeRoute(
  view: DataView,
  at: number,
  heap: Heap,
  path: string,
  response: Resource | Redirect,
  status: number,
): void {
  const pathBytes = encoder.encode(path);
  view.setBigUint64(at, BigInt(heap.add(pathBytes)), true);
  view.setUint32(at + 8, pathBytes.length, true);
  view.setUint16(at + 12, status, true);
  view.setUint8(at + 14, response.kind === "resource" ? 1 : 2);
  if (response.kind === "redirect") {
    view.setUint8(at + 15, 1);
    const head = encoder.encode(redirectHead(status, response.headers, response.location));
    view.setBigUint64(at + 24, BigInt(heap.add(head)), true);
    view.setUint32(at + 24 + 8, head.length, true);
    return;
  }
  view.setBigUint64(at + 16, BigInt(response.lastModified ?? 0), true);
  let mask = 0;
  response.variants.forEach((variant, index) => {
    const slot = ENCODINGS.indexOf(variant.encoding);
    if (slot < 0 || mask & (1 << slot))
      throw new Error(`pack: ${path} has a duplicate or unknown ${variant.encoding} variant`);
    mask |= 1 << slot;
    const heads = resourceHeads(response, status, index);
    const v = at + 24 + slot * VARIANT_SIZE;
    const full = encoder.encode(heads.full);
    const partial = encoder.encode(heads.partial);
    const notModified = encoder.encode(heads.notModified);
    const etag = encoder.encode(variant.etag ?? "");
    view.setBigUint64(v, BigInt(heap.add(full)), true);
    view.setUint32(v + 8, full.length, true);
    view.setUint32(v + 12, partial.length, true);
    view.setBigUint64(v + 16, BigInt(heap.add(partial)), true);
    view.setBigUint64(v + 24, BigInt(heap.add(notModified)), true);
    view.setUint32(v + 32, notModified.length, true);
    view.setUint32(v + 36, etag.length, true);
    view.setBigUint64(v + 40, BigInt(heap.add(etag)), true);
    view.setBigUint64(v + 48, BigInt(heap.add(variant.body)), true);
    view.setBigUint64(v + 56, BigInt(variant.body.length), true);
  });
  if (!(mask & 1)) throw new Error(`pack: ${path} has no identity variant`);
  view.setUint8(at + 15, mask);
}

/** The pack as chunks in file order, plus its total size. */
export function packChunks(input: PackInput): { chunks: Uint8Array[]; size: number } {
  const routes = [...input.routes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < routes.length; i++)
    if (routes[i]!.path === routes[i - 1]!.path)
      throw new Error(`pack: the path ${routes[i]!.path} has two routes`);
  let slotBits = 1;
  while (1 << slotBits < routes.length * 2) slotBits++;
  const slots = 1 << slotBits;

  const tableAt = HEADER_SIZE;
  const routesAt = tableAt + slots * SLOT_SIZE;
  const extraRoutes = (input.spa ? 1 : 0) + ERROR_STATUSES.length;
  const prefixAt = routesAt + (routes.length + extraRoutes) * ROUTE_SIZE;
  const errorsAt = prefixAt + input.prefixRedirects.length * PREFIX_SIZE;
  const heapAt = align8(errorsAt + ERROR_SLOTS * 8);
  const records = new Uint8Array(heapAt);
  const view = new DataView(records.buffer);
  const heap = new Heap(heapAt);

  records.set(MAGIC, 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, slotBits, true);
  view.setBigUint64(16, BigInt(tableAt), true);
  view.setBigUint64(24, BigInt(prefixAt), true);
  view.setUint32(32, input.prefixRedirects.length, true);
  view.setUint32(36, routes.length, true);
  view.setBigUint64(48, BigInt(errorsAt), true);

  routes.forEach((route: Route, i) => {
    const at = routesAt + i * ROUTE_SIZE;
    const status = route.response.kind === "redirect" ? route.response.status : 200;
    writeRoute(view, at, heap, route.path, route.response, status);
    const hash = fnv1a64(encoder.encode(route.path));
    let slot = Number(hash & BigInt(slots - 1));
    while (view.getBigUint64(tableAt + slot * SLOT_SIZE + 8, true) !== 0n) slot = (slot + 1) & (slots - 1);
    view.setBigUint64(tableAt + slot * SLOT_SIZE, hash, true);
    view.setBigUint64(tableAt + slot * SLOT_SIZE + 8, BigInt(at), true);
  });
  let next = routesAt + routes.length * ROUTE_SIZE;
  if (input.spa) {
    writeRoute(view, next, heap, "", input.spa, 200);
    view.setBigUint64(40, BigInt(next), true);
    next += ROUTE_SIZE;
  }
  ERROR_STATUSES.forEach((status, ordinal) => {
    writeRoute(view, next, heap, "", input.errors[status], status);
    view.setBigUint64(errorsAt + ordinal * 8, BigInt(next), true);
    next += ROUTE_SIZE;
  });
  input.prefixRedirects.forEach((rule, i) => {
    const at = prefixAt + i * PREFIX_SIZE;
    if (!rule.prefix.endsWith("/")) throw new Error(`pack: prefix redirect ${rule.prefix} must end with "/"`);
    const prefix = encoder.encode(rule.prefix);
    const head = encoder.encode(redirectHead(rule.status, rule.headers, rule.target));
    view.setBigUint64(at, BigInt(heap.add(prefix)), true);
    view.setUint32(at + 8, prefix.length, true);
    view.setUint32(at + 12, head.length, true);
    view.setBigUint64(at + 16, BigInt(heap.add(head)), true);
  });
  const size = heapAt + heap.size;
  view.setBigUint64(56, BigInt(size), true);
  return { chunks: [records, ...heap.chunks], size };
}

/** The whole pack in memory (sites up to the 4 GiB a Buffer holds; use writePackFile beyond). */
export function writePack(input: PackInput): Uint8Array {
  const { chunks, size } = packChunks(input);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Streams the pack to `path` through a temporary file renamed when complete. */
export function writePackFile(input: PackInput, path: string): number {
  const { chunks, size } = packChunks(input);
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(temporary, "w", 0o644);
    try {
      for (const c of chunks) {
        let written = 0;
        while (written < c.length) written += writeSync(fd, c, written, c.length - written);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return size;
}
