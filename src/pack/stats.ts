// Where a pack's bytes go: heads, identity bodies, gzip and brotli bodies, index; and the largest routes.

import type { Pack } from "./read.ts";

export interface PackStats {
  total: number;
  routes: number;
  /** Precomputed heads, ETags and Last-Modified texts. */
  headers: number;
  identity: number;
  gzip: number;
  br: number;
  /** Header, tables, records, paths and server strings. */
  index: number;
  largest: { path: string; bytes: number }[];
}

/** The `top` largest routes, largest first (ties by path). */
export function largestRoutes(sizes: { path: string; bytes: number }[], top = 5): PackStats["largest"] {
  return sizes.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1)).slice(0, top);
}

/** Where the pack's bytes go: heads (with ETags and Last-Modified texts), bodies per encoding, index. */
export function packStats(pack: Pack, top = 5): PackStats {
  const stats: PackStats = {
    total: pack.bytes.length,
    routes: pack.routeCount,
    headers: 0,
    identity: 0,
    gzip: 0,
    br: 0,
    index: 0,
    largest: [],
  };
  const sizes: { path: string; bytes: number }[] = [];
  // routes may share bytes (the writer stores each distinct piece once): count each piece once
  const seen = new Set<string>();
  const once = (piece: Uint8Array) => {
    const key = `${piece.byteOffset}:${piece.length}`;
    if (seen.has(key)) return 0;
    seen.add(key);
    return piece.length;
  };
  // an error response's head is built by the reader from stored pieces: count those instead
  for (const piece of pack.errorHeadPieces) stats.headers += once(piece);
  for (const error of Object.values(pack.errors)) stats.identity += once(error.variants[0]!.body);
  for (const route of [...pack.routes(), ...(pack.spa ? [pack.spa] : [])]) {
    let bytes = route.lastModifiedText.length;
    stats.headers += once(route.lastModifiedText);
    for (const v of route.variants) {
      if (!v) continue;
      // (the 206 and 304 heads' fields are in the 200 head)
      const pieces = [v.full, v.etag];
      stats.headers += pieces.reduce((sum, piece) => sum + once(piece), 0);
      stats[v.encoding] += once(v.body);
      bytes += pieces.reduce((sum, piece) => sum + piece.length, 0) + v.body.length;
    }
    if (route.path) sizes.push({ path: route.path, bytes });
  }
  for (const p of pack.prefixRedirects) stats.headers += once(p.head);
  stats.index = stats.total - stats.headers - stats.identity - stats.gzip - stats.br;
  stats.largest = largestRoutes(sizes, top);
  return stats;
}
