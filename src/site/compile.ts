// The site compiler: scans the folder and decides every route and its complete responses (files,
// directory indexes, clean URLs, trailing-slash canonicalisation, redirects, the SPA fallback and the
// error pages), with headers, precompressed variants, ETags and Last-Modified, as a PackInput.

import { readFileSync, statSync } from "node:fs";
import { accessSection } from "../access/compile.ts";
import type { SpeckConfig } from "../config/schema.ts";
import type {
  Body,
  ErrorStatus,
  PackInput,
  PrefixRedirect,
  Resource,
  Route,
  Variant,
} from "../pack/model.ts";
import {
  type Coding,
  type CompressionJob,
  type CompressionStats,
  compressAll,
  contentHash,
  defaultCacheDir,
  fileContentHash,
} from "./compress.ts";
import { contentType, isCompressible } from "./content-type.ts";
import { accessErrorPages, errorPages } from "./error-pages.ts";
import { SiteError } from "./errors.ts";
import { applyRules, compileHeaderRules, defaultHeaders } from "./headers.ts";
import { readSibling, splitPrecompressed } from "./precompressed.ts";
import { planRoutes } from "./routes.ts";
import { type SiteFile, scanSite } from "./scan.ts";

export interface CompileOptions {
  /** Compression cache folder; null disables the cache. Default: defaultCacheDir(). */
  cacheDir?: string | null;
  /** Called as compressed variants are ready (from the cache or computed). */
  onProgress?: (done: number, total: number) => void;
  /** Paths of files or folders to leave out of the site: the command's own outputs, when inside it. */
  leaveOut?: readonly string[];
}

export interface SiteReport {
  files: number;
  /** Bytes of all files. */
  bytes: number;
  routes: number;
  /** Redirect routes and prefix rules, generated and configured. */
  redirects: number;
  compression: CompressionStats;
  /** Variants kept (smaller by at least compression.minSaving). */
  variants: { gzip: number; br: number };
  /** Things that work but are probably not meant, one line each. */
  warnings: string[];
}

function sourceDateEpoch(): number | undefined {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw new SiteError(`SOURCE_DATE_EPOCH=${raw} is not a whole number of seconds`);
  return Number(raw);
}

/** Whether a compressed variant saves enough: a fraction below 1, or a number of bytes. */
function savesEnough(original: number, compressed: number, minSaving: number): boolean {
  const saved = original - compressed;
  return saved > 0 && saved >= (minSaving < 1 ? minSaving * original : minSaving);
}

/**
 * Files above this size stay in their files until the pack is written; the compression workers read
 * the ones they compress themselves.
 */
const IN_MEMORY_LIMIT = 1 << 20;
/** Files above this size are served as they are: brotli's best takes about half an hour per gigabyte. */
export const COMPRESS_LIMIT = 2 ** 30;

/** A site file's bytes, or its bytes left in the file (read when the pack is written). */
function siteFileBody(file: SiteFile, whole: boolean): Body {
  try {
    if (whole) return readFileSync(file.absolute);
    return { file: file.absolute, size: file.size, hash: fileContentHash(file.absolute) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_FS_FILE_TOO_LARGE")
      throw new SiteError(
        `${file.relative} is over 2 GiB and has precompressed siblings, which speck checks in memory; remove its .gz and .br files`,
      );
    throw new SiteError(`cannot read ${file.absolute}: ${code ?? (error as Error).message}`);
  }
}

function isText(type: string): boolean {
  return type.startsWith("text/") || /javascript|json|xml/.test(type.split(";")[0]!);
}

/** Compiles the site described by `config` into a PackInput, with a report of what was done. */
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
  const scanned = scanSite(config.root, config.include, config.exclude, options.leaveOut);
  const { files, siblings } = config.precompressed
    ? splitPrecompressed(scanned)
    : { files: scanned, siblings: new Map<number, Partial<Record<Coding, SiteFile>>>() };
  if (files.length === 0) throw new SiteError(`site folder ${config.root} has no files to serve`);
  const epoch = sourceDateEpoch();
  const headerRules = compileHeaderRules(config.headers);
  const plan = planRoutes(
    files.map((f) => f.relative),
    config,
  );

  const types = files.map((f) => contentType(f.relative, config.mimeTypes));
  const compressed = files.map(
    (f, i) => isCompressible(types[i]!) && f.size >= config.compression.minSize && f.size <= COMPRESS_LIMIT,
  );
  // what is small or checked against siblings is read now; the rest stays in its file
  const contents = files.map((f, i) => siteFileBody(f, siblings.has(i) || f.size <= IN_MEMORY_LIMIT));
  const hashes = contents.map((c) => (c instanceof Uint8Array ? contentHash(c) : c.hash));

  const jobs: CompressionJob[] = [];
  const owners: { file: number; coding: Coding }[] = [];
  files.forEach((_, i) => {
    if (!compressed[i]) return;
    for (const coding of [...new Set(config.compression.encodings)].sort()) {
      if (siblings.get(i)?.[coding]) continue;
      jobs.push({ source: contents[i]!, hash: hashes[i]!, coding, text: isText(types[i]!) });
      owners.push({ file: i, coding });
    }
  });
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const { results, stats } = await compressAll(jobs, cacheDir, options.onProgress);
  const kept = files.map(() => new Map<Coding, Uint8Array>());
  /** Variants from the site's own siblings: their ETags come from their own bytes, which speck does not choose. */
  const ownTags = files.map(() => new Map<Coding, string>());
  owners.forEach(({ file, coding }, j) => {
    if (savesEnough(files[file]!.size, results[j]!.length, config.compression.minSaving))
      kept[file]!.set(coding, results[j]!);
  });
  // the user's own variants are kept whenever they are smaller at all
  for (const [i, found] of siblings)
    for (const coding of Object.keys(found) as Coding[]) {
      if (!config.compression.encodings.includes(coding)) continue;
      const bytes = readSibling(found[coding]!, coding, contents[i] as Uint8Array, files[i]!.relative);
      if (bytes.length < files[i]!.size) {
        kept[i]!.set(coding, bytes);
        ownTags[i]!.set(coding, contentHash(bytes).slice(0, 16));
      }
    }

  // Header rules match every URL path a response is served at, and the file's own path.
  const urls = files.map((f) => [`/${f.relative}`]);
  for (const [path, route] of plan.routes) if (route.kind === "file") urls[route.file]!.push(path);

  const variantsKept = { gzip: 0, br: 0 };
  const resources = files.map((f, i): Resource => {
    const tag = hashes[i]!.slice(0, 16);
    const etag = (coding: Coding | undefined, suffix: string) =>
      config.etag ? { etag: `"${(coding && ownTags[i]!.get(coding)) ?? tag}${suffix}"` } : {};
    const variants: Variant[] = [{ encoding: "identity", body: contents[i]!, ...etag(undefined, "") }];
    const gzip = kept[i]!.get("gzip");
    const br = kept[i]!.get("br");
    if (gzip) variants.push({ encoding: "gzip", body: gzip, ...etag("gzip", "-gz") });
    if (br) variants.push({ encoding: "br", body: br, ...etag("br", "-br") });
    if (gzip) variantsKept.gzip++;
    if (br) variantsKept.br++;
    const headers = applyRules(defaultHeaders(f.relative, types[i]!), headerRules, urls[i]!);
    return {
      kind: "resource",
      headers,
      variants,
      ...(config.lastModified ? { lastModified: epoch ?? f.mtime } : {}),
    };
  });

  const routes: Route[] = plan.routes.map(([path, route]) => ({
    path,
    response:
      route.kind === "file"
        ? resources[route.file]!
        : {
            kind: "redirect",
            status: route.status,
            location: route.location,
            headers: applyRules([], headerRules, [path]),
          },
  }));
  const prefixRedirects: PrefixRedirect[] = plan.prefixRedirects.map((p) => ({
    prefix: p.prefix,
    status: p.status,
    target: p.target,
    headers: [],
  }));

  const everyPath = [...new Set([...routes.map((r) => r.path), ...urls.flat()])];
  const warnings = [
    ...plan.warnings,
    ...headerRules
      .filter((rule) => !everyPath.some((path) => rule.matches(path)))
      .map((rule) => `${rule.where} matches no path of the site`),
  ];

  const byRelative = new Map(files.map((f, i) => [f.relative, i]));
  const fileResource = (name: string, option: string): Resource => {
    const i = byRelative.get(name.replace(/^\/+/, ""));
    if (i === undefined)
      throw new SiteError(
        `${option}: ${JSON.stringify(name)} is not a file of the site folder ${config.root}`,
      );
    return resources[i]!;
  };
  const spa = config.spa === undefined ? undefined : fileResource(config.spa, "spa");
  const notFoundName = config.notFound ?? (byRelative.has("404.html") ? "404.html" : undefined);
  const notFound = notFoundName === undefined ? undefined : fileResource(notFoundName, "notFound");
  const errors: Record<ErrorStatus, Resource> = errorPages(notFound);
  const section = accessSection(config);
  const accessPages = Object.fromEntries(
    Object.entries(config.errorPages)
      .filter(([, name]) => name !== undefined)
      .map(([status, name]) => [status, fileResource(name!, `errorPages.${status}`)]),
  );
  if (!section && Object.keys(accessPages).length > 0)
    warnings.push("errorPages has no effect: the config has no auth, ipRules or proxy rules");

  return {
    input: {
      routes,
      prefixRedirects,
      ...(spa ? { spa } : {}),
      errors,
      ...(section ? { access: { section, errors: accessErrorPages(accessPages) } } : {}),
    },
    report: {
      files: files.length,
      bytes: files.reduce((n, f) => n + f.size, 0),
      routes: routes.length,
      redirects: routes.filter((r) => r.response.kind === "redirect").length + prefixRedirects.length,
      compression: stats,
      variants: variantsKept,
      warnings,
    },
  };
}
