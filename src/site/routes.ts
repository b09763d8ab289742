// The routing rules as a pure function of file names and options: which URL path serves which file,
// which paths redirect where (directory indexes, clean URLs, trailing-slash canonicalisation, the
// user's redirects), and every conflict, reported with both of its origins. Precedence is in
// docs/config.md, "Routing".

import type { SpeckConfig } from "../config/schema.ts";
import { SiteError } from "./errors.ts";
import { checkSourcePath, encodePath, locationFor } from "./url.ts";

export type RedirectStatus = 301 | 302 | 307 | 308;

/** What one URL path does, and why (the file or rule it comes from, for error messages). */
export type PlannedRoute =
  | { kind: "file"; file: number; origin: string }
  | { kind: "redirect"; status: RedirectStatus; location: string; origin: string; generated: boolean };

export interface PlannedPrefix {
  /** Ends with "/". */
  prefix: string;
  status: RedirectStatus;
  target: string;
  origin: string;
}

export interface RoutePlan {
  /** Sorted bytewise by path. */
  routes: [path: string, route: PlannedRoute][];
  /** Longest prefix first. */
  prefixRedirects: PlannedPrefix[];
  /** Things that work but are probably not what the user meant. */
  warnings: string[];
}

export type RoutingOptions = Pick<SpeckConfig, "index" | "cleanUrls" | "trailingSlash" | "redirects" | "spa">;

const bytewise = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function split(relative: string): { dir: string; base: string } {
  const slash = relative.lastIndexOf("/");
  return { dir: slash < 0 ? "" : relative.slice(0, slash), base: relative.slice(slash + 1) };
}

/** The decoded path of a local Location, without its query or fragment; undefined if malformed. */
function localPath(location: string): string | undefined {
  try {
    return decodeURIComponent(location.replace(/[?#].*$/, ""));
  } catch {
    return undefined;
  }
}

/** Each folder's index file: the first name of `index` present in it. */
function chooseIndexes(files: readonly string[], index: readonly string[]): Map<string, string> {
  const chosen = new Map<string, string>();
  for (const file of files) {
    const { dir, base } = split(file);
    const rank = index.indexOf(base);
    if (rank < 0) continue;
    const current = chosen.get(dir);
    if (current === undefined || index.indexOf(current) > rank) chosen.set(dir, base);
  }
  return chosen;
}

/**
 * Plans every route of a site whose files (relative paths with "/" separators) are `files`; a file
 * route refers to its index in `files`.
 */
export function planRoutes(files: readonly string[], options: RoutingOptions): RoutePlan {
  const routes = new Map<string, PlannedRoute>();
  const warnings: string[] = [];
  const claim = (path: string, route: PlannedRoute): void => {
    const existing = routes.get(path);
    if (existing)
      throw new SiteError(`${path} is claimed twice: by ${existing.origin} and by ${route.origin}`);
    routes.set(path, route);
  };
  const redirect = (to: string, origin: string): PlannedRoute => ({
    kind: "redirect",
    status: 308,
    location: encodePath(to),
    origin,
    generated: true,
  });

  const indexes = chooseIndexes(files, options.index);
  const slashed = options.trailingSlash !== "never";
  files.forEach((file, i) => {
    const { dir, base } = split(file);
    const served: PlannedRoute = { kind: "file", file: i, origin: file };
    if (indexes.get(dir) === base) {
      const bare = dir ? `/${dir}` : "";
      const canonical = dir === "" ? "/" : slashed ? `${bare}/` : bare;
      claim(canonical, served);
      if (dir !== "")
        claim(
          slashed ? bare : `${bare}/`,
          redirect(canonical, `${file} (${slashed ? "adds" : "drops"} the trailing slash)`),
        );
      claim(`/${file}`, options.cleanUrls ? redirect(canonical, `${file} (clean URL)`) : served);
      return;
    }
    if (options.cleanUrls && base.endsWith(".html") && base.length > ".html".length) {
      const page = `/${file.slice(0, -".html".length)}`;
      const always = options.trailingSlash === "always";
      const canonical = always ? `${page}/` : page;
      claim(canonical, served);
      claim(`/${file}`, redirect(canonical, `${file} (clean URL)`));
      claim(
        always ? page : `${page}/`,
        redirect(canonical, `${file} (${always ? "adds" : "drops"} the trailing slash)`),
      );
      return;
    }
    claim(`/${file}`, served);
  });

  const prefixes: PlannedPrefix[] = [];
  options.redirects.forEach((rule, i) => {
    const origin = `redirects[${i}] (${rule.source})`;
    const location = locationFor(rule.destination, origin);
    if (rule.source.endsWith("/*")) {
      const prefix = rule.source.slice(0, -1);
      checkSourcePath(prefix, origin);
      if (prefix.includes("*"))
        throw new SiteError(`${origin}: "*" may only end the source, as in "/blog/*"`);
      if (!location.endsWith(":splat"))
        throw new SiteError(
          `${origin}: a prefix rule's destination must end with ":splat", e.g. "/new/:splat"`,
        );
      const target = location.slice(0, -":splat".length);
      if (target.includes(":splat"))
        throw new SiteError(`${origin}: ":splat" may appear only once, at the end`);
      const twin = prefixes.find((p) => p.prefix === prefix);
      if (twin) throw new SiteError(`${prefix} is claimed twice: by ${twin.origin} and by ${origin}`);
      prefixes.push({ prefix, status: rule.status, target, origin });
      // "/blog" itself goes where "/blog/" would, unless something else serves it; an exact rule may replace it
      if (prefix !== "/" && !routes.has(prefix.slice(0, -1)))
        routes.set(prefix.slice(0, -1), {
          kind: "redirect",
          status: rule.status,
          location: target,
          origin,
          generated: true,
        });
      const covered = [...routes]
        .filter(([path, route]) => route.kind === "file" && path.startsWith(prefix))
        .map(([path]) => path)
        .sort(bytewise);
      if (covered.length > 0)
        warnings.push(
          `${origin} does not apply to ${covered.length} path(s) the site serves, e.g. ${covered[0]}: exact routes win`,
        );
      return;
    }
    if (rule.source.includes("*"))
      throw new SiteError(`${origin}: "*" may only end the source, as in "/blog/*"`);
    checkSourcePath(rule.source, origin);
    if (location.includes(":splat")) throw new SiteError(`${origin}: ":splat" needs a source ending in "/*"`);
    const existing = routes.get(rule.source);
    if (existing && !(existing.kind === "redirect" && existing.generated))
      throw new SiteError(
        existing.kind === "file"
          ? `${origin} shadows ${existing.origin}; remove the file or the rule`
          : `${rule.source} is claimed twice: by ${existing.origin} and by ${origin}`,
      );
    routes.set(rule.source, { kind: "redirect", status: rule.status, location, origin, generated: false });
  });

  prefixes.sort((a, b) => b.prefix.length - a.prefix.length || bytewise(a.prefix, b.prefix));
  for (const [source, route] of routes) {
    if (route.kind !== "redirect" || route.generated || !route.location.startsWith("/")) continue;
    const target = localPath(route.location);
    const served =
      target !== undefined && (routes.has(target) || prefixes.some((p) => target.startsWith(p.prefix)));
    const pageLike = target !== undefined && !target.slice(target.lastIndexOf("/") + 1).includes(".");
    if (!served && !(options.spa !== undefined && pageLike))
      warnings.push(
        `${route.origin} leads to ${route.location}, which the site does not serve (${source} will end in a 404)`,
      );
  }
  return {
    routes: [...routes.entries()].sort(([a], [b]) => bytewise(a, b)),
    prefixRedirects: prefixes,
    warnings,
  };
}
