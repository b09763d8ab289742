// The site compiler: scans the folder and decides every route and its complete responses (files,
// directory indexes, clean URLs, trailing-slash canonicalisation, redirects, the SPA fallback and the
// error pages), with headers, precompressed variants, ETags and Last-Modified, as a PackInput.

import { readFileSync, statSync } from "node:fs";
import picomatch from "picomatch";
import type { SpeckConfig } from "../config/schema.ts";
import {
  ERROR_STATUSES,
  type ErrorStatus,
  type Header,
  type PackInput,
  type PrefixRedirect,
  type Redirect,
  type Resource,
  type Route,
  type Variant,
} from "../pack/model.ts";
import { STATUS_TEXT } from "../pack/status.ts";
import {
  type CompressionJob,
  type CompressionStats,
  compressAll,
  contentHash,
  defaultCacheDir,
} from "./compress.ts";
import { contentType, IMMUTABLE, isCompressible, isFingerprinted, REVALIDATE } from "./content-type.ts";
import { SiteError } from "./errors.ts";
import { type SiteFile, scanSite } from "./scan.ts";

export interface CompileOptions {
  /** Compression cache folder; null disables the cache. Default: defaultCacheDir(). */
  cacheDir?: string | null;
  onProgress?: (done: number, total: number) => void;
}

export interface SiteReport {
  files: number;
  routes: number;
  redirects: number;
  compression: CompressionStats;
  variants: { gzip: number; br: number };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN_HEADERS = new Set([
  "accept-ranges",
  "connection",
  "content-encoding",
  "content-length",
  "content-range",
  "date",
  "etag",
  "keep-alive",
  "last-modified",
  "transfer-encoding",
  "vary",
]);

function checkHeader(name: string, value: string, where: string): void {
  if (!TOKEN.test(name))
    throw new SiteError(`${where}: header name ${JSON.stringify(name)} is not a valid token`);
  if (FORBIDDEN_HEADERS.has(name.toLowerCase()))
    throw new SiteError(`${where}: ${name} is set by speck itself and cannot be configured`);
  if (/[\r\n\0]/.test(value)) throw new SiteError(`${where}: the value of ${name} contains CR, LF or NUL`);
}

function checkLocation(location: string, where: string): void {
  if (!/^[\x21-\x7e]+$/.test(location))
    throw new SiteError(
      `${where}: destination ${JSON.stringify(location)} must be printable ASCII without spaces (percent-encode it)`,
    );
}

/** Sets `name` (case-insensitively replacing an earlier value). */
function setHeader(headers: Header[], name: string, value: string): void {
  const at = headers.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
  if (at >= 0) headers.splice(at, 1);
  headers.push([name, value]);
}

function sourceDateEpoch(): number | undefined {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw new SiteError(`SOURCE_DATE_EPOCH=${raw} is not a whole number of seconds`);
  return Number(raw);
}

function errorPage(status: ErrorStatus, headers: Header[]): Resource {
  const title = `${status} ${STATUS_TEXT[status]}`;
  const body = new TextEncoder().encode(
    `<!doctype html>\n<meta charset="utf-8">\n<title>${title}</title>\n<h1>${title}</h1>\n`,
  );
  return { kind: "resource", headers, variants: [{ encoding: "identity", body }] };
}

/** Compiles the site described by `config` into a PackInput. */
export async function compileSite(
  config: SpeckConfig,
  options: CompileOptions = {},
): Promise<{ input: PackInput; report: SiteReport }> {
  let rootStats: ReturnType<typeof statSync>;
  try {
    rootStats = statSync(config.root);
  } catch {
    throw new SiteError(`site folder ${config.root} does not exist`);
  }
  if (!rootStats.isDirectory()) throw new SiteError(`site folder ${config.root} is not a folder`);
  const files = scanSite(config.root, config.exclude);
  if (files.length === 0) throw new SiteError(`site folder ${config.root} has no files to serve`);
  const epoch = sourceDateEpoch();

  const headerRules = config.headers.map((rule, i) => {
    for (const [name, value] of Object.entries(rule.headers))
      checkHeader(name, value, `headers[${i}] (${rule.source})`);
    return { match: picomatch(rule.source, { dot: true }), headers: Object.entries(rule.headers) };
  });

  // Content, hashes and compression jobs for every file.
  const contents = files.map((f) => readFileSync(f.absolute));
  const hashes = contents.map((c) => contentHash(c));
  const jobs: CompressionJob[] = [];
  const jobOwners: { file: number; coding: "gzip" | "br" }[] = [];
  files.forEach((f, i) => {
    const type = contentType(f.relative);
    if (!isCompressible(type) || contents[i]!.length < config.compression.minSize) return;
    for (const coding of [...config.compression.encodings].sort()) {
      jobs.push({
        bytes: contents[i]!,
        hash: hashes[i]!,
        coding,
        text: type.startsWith("text/") || type.includes("javascript") || type.includes("json"),
      });
      jobOwners.push({ file: i, coding });
    }
  });
  const { results, stats } = await compressAll(
    jobs,
    options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir,
    options.onProgress,
  );
  const compressed = files.map(() => new Map<"gzip" | "br", Uint8Array>());
  jobOwners.forEach((owner, j) => {
    const original = contents[owner.file]!.length;
    if (results[j]!.length <= original * (1 - config.compression.minSaving))
      compressed[owner.file]!.set(owner.coding, results[j]!);
  });
  const variantsKept = { gzip: 0, br: 0 };

  const resources = files.map((f, i): Resource => {
    const type = contentType(f.relative);
    const headers: Header[] = [
      ["Content-Type", type],
      ["Cache-Control", isFingerprinted(f.relative) ? IMMUTABLE : REVALIDATE],
      ["X-Content-Type-Options", "nosniff"],
    ];
    for (const rule of headerRules)
      if (rule.match(`/${f.relative}`)) for (const [n, v] of rule.headers) setHeader(headers, n, v);
    const tag = hashes[i]!.slice(0, 16);
    const variants: Variant[] = [
      { encoding: "identity", body: contents[i]!, ...(config.etag ? { etag: `"${tag}"` } : {}) },
    ];
    const gz = compressed[i]!.get("gzip");
    const br = compressed[i]!.get("br");
    if (gz) variants.push({ encoding: "gzip", body: gz, ...(config.etag ? { etag: `"${tag}-gz"` } : {}) });
    if (br) variants.push({ encoding: "br", body: br, ...(config.etag ? { etag: `"${tag}-br"` } : {}) });
    if (gz) variantsKept.gzip++;
    if (br) variantsKept.br++;
    const resource: Resource = { kind: "resource", headers, variants };
    if (config.lastModified) resource.lastModified = epoch ?? f.mtime;
    return resource;
  });

  // Routes, with every collision reported by both origins.
  const routes = new Map<string, { response: Resource | Redirect; origin: string }>();
  const add = (path: string, response: Resource | Redirect, origin: string): void => {
    const existing = routes.get(path);
    if (existing) throw new SiteError(`${path} is claimed twice: by ${existing.origin} and by ${origin}`);
    routes.set(path, { response, origin });
  };
  const redirectTo = (location: string): Redirect => ({
    kind: "redirect",
    status: 308,
    location,
    headers: [],
  });
  const byRelative = new Map(files.map((f, i) => [f.relative, i]));
  const indexFor = new Map<string, string>();
  for (const f of files) {
    const slash = f.relative.lastIndexOf("/");
    const dir = slash < 0 ? "" : f.relative.slice(0, slash);
    const base = f.relative.slice(slash + 1);
    const rank = config.index.indexOf(base);
    if (rank < 0) continue;
    const current = indexFor.get(dir);
    if (current === undefined || config.index.indexOf(current) > rank) indexFor.set(dir, base);
  }
  const slashed = config.trailingSlash !== "never";
  files.forEach((f: SiteFile, i) => {
    const origin = f.relative;
    const slash = f.relative.lastIndexOf("/");
    const dir = slash < 0 ? "" : f.relative.slice(0, slash);
    const base = f.relative.slice(slash + 1);
    if (indexFor.get(dir) === base) {
      const dirPath = dir ? `/${dir}` : "";
      const canonical = dir === "" ? "/" : slashed ? `${dirPath}/` : dirPath;
      add(canonical, resources[i]!, origin);
      if (dir !== "")
        add(
          slashed ? dirPath : `${dirPath}/`,
          redirectTo(canonical),
          `${origin} (${slashed ? "adds" : "drops"} the trailing slash)`,
        );
      if (config.cleanUrls) add(`/${f.relative}`, redirectTo(canonical), `${origin} (clean URL)`);
      else add(`/${f.relative}`, resources[i]!, origin);
      return;
    }
    if (config.cleanUrls && base.endsWith(".html") && base.length > 5) {
      const page = `/${f.relative.slice(0, -5)}`;
      const canonical = config.trailingSlash === "always" ? `${page}/` : page;
      add(canonical, resources[i]!, origin);
      add(`/${f.relative}`, redirectTo(canonical), `${origin} (clean URL)`);
      add(
        config.trailingSlash === "always" ? page : `${page}/`,
        redirectTo(canonical),
        `${origin} (trailing slash)`,
      );
      return;
    }
    add(`/${f.relative}`, resources[i]!, origin);
  });

  const prefixRedirects: PrefixRedirect[] = [];
  config.redirects.forEach((rule, i) => {
    const where = `redirects[${i}] (${rule.source})`;
    checkLocation(rule.destination, where);
    if (rule.source.endsWith("/*")) {
      if (!rule.destination.endsWith(":splat"))
        throw new SiteError(
          `${where}: a prefix rule's destination must end with ":splat", e.g. "/new/:splat"`,
        );
      prefixRedirects.push({
        prefix: rule.source.slice(0, -1),
        status: rule.status,
        target: rule.destination.slice(0, -6),
        headers: [],
      });
    } else {
      if (rule.destination.includes(":splat"))
        throw new SiteError(`${where}: ":splat" needs a source ending in "/*"`);
      const existing = routes.get(rule.source);
      if (existing) throw new SiteError(`${where} shadows ${existing.origin}; remove the file or the rule`);
      add(
        rule.source,
        { kind: "redirect", status: rule.status, location: rule.destination, headers: [] },
        where,
      );
    }
  });
  prefixRedirects.sort((a, b) => b.prefix.length - a.prefix.length || (a.prefix < b.prefix ? -1 : 1));

  const fileResource = (name: string, what: string): Resource => {
    const i = byRelative.get(name.replace(/^\/+/, ""));
    if (i === undefined)
      throw new SiteError(`${what}: ${name} is not a file of the site folder ${config.root}`);
    return resources[i]!;
  };
  const spa = config.spa ? fileResource(config.spa, "spa") : undefined;
  const notFoundName = config.notFound ?? (byRelative.has("404.html") ? "404.html" : undefined);
  const base: Header[] = [
    ["Content-Type", "text/html; charset=utf-8"],
    ["X-Content-Type-Options", "nosniff"],
  ];
  const errors = Object.fromEntries(
    ERROR_STATUSES.map((status) => {
      if (status === 404 && notFoundName) {
        const page = fileResource(notFoundName, "notFound");
        return [
          status,
          {
            kind: "resource",
            headers: page.headers,
            variants: [{ encoding: "identity", body: page.variants[0]!.body }],
          },
        ];
      }
      return [status, errorPage(status, status === 405 ? [...base, ["Allow", "GET, HEAD"]] : base)];
    }),
  ) as Record<ErrorStatus, Resource>;

  const routeList: Route[] = [...routes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, { response }]) => ({ path, response }));
  return {
    input: { routes: routeList, prefixRedirects, ...(spa ? { spa } : {}), errors },
    report: {
      files: files.length,
      routes: routeList.length,
      redirects: routeList.filter((r) => r.response.kind === "redirect").length + prefixRedirects.length,
      compression: stats,
      variants: variantsKept,
    },
  };
}
