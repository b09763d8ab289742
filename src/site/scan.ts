// Walks the site folder in bytewise order and lists the files to serve. Symlinks to files are
// followed; loops, dangling links and special files are errors naming the path; dotfiles are
// skipped except .well-known/; names that are not UTF-8 or hold control characters are refused.

import { readdirSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import picomatch from "picomatch";
import { CONFIG_NAMES } from "../config/load.ts";
import { SiteError } from "./errors.ts";

export interface SiteFile {
  /** Path relative to the site folder, with "/" separators. */
  relative: string;
  absolute: string;
  size: number;
  /** Modification time, whole seconds. */
  mtime: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeName(raw: Buffer, parent: string): string {
  let name: string;
  try {
    name = utf8.decode(raw);
  } catch {
    throw new SiteError(`file name is not valid UTF-8: ${join(parent, raw.toString("latin1"))} (rename it)`);
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new SiteError(
      `file name contains a control character: ${JSON.stringify(join(parent, name))} (rename it)`,
    );
  }
  return name;
}

/**
 * Lists the site's files, sorted bytewise by relative path: those matching an `include` glob and no
 * `exclude` glob (globs are relative to the site folder), leaving out the files and folders at the
 * paths of `leaveOut`.
 */
export function scanSite(
  root: string,
  include: readonly string[] = ["**"],
  exclude: readonly string[] = [],
  leaveOut: readonly string[] = [],
): SiteFile[] {
  const included = picomatch([...include], { dot: true });
  const excluded = exclude.length > 0 ? picomatch([...exclude], { dot: true }) : () => false;
  const left = new Set(leaveOut.map((path) => resolve(path)));
  const files: SiteFile[] = [];
  const visiting = new Set<string>();

  const walk = (dir: string, relative: string): void => {
    const real = realpathSync(dir);
    if (visiting.has(real)) throw new SiteError(`symlink loop: ${dir} leads back to ${real}`);
    visiting.add(real);
    const entries = readdirSync(dir, { withFileTypes: true, encoding: "buffer" }).sort((a, b) =>
      Buffer.compare(a.name, b.name),
    );
    for (const entry of entries) {
      const name = decodeName(entry.name, dir);
      const rel = relative ? `${relative}/${name}` : name;
      const absolute = join(dir, name);
      if (name.startsWith(".") && !(name === ".well-known" && relative === "")) continue;
      if (relative === "" && CONFIG_NAMES.includes(name)) continue;
      if (excluded(rel) || (left.size > 0 && left.has(resolve(absolute)))) continue;
      let stats: ReturnType<typeof statSync>;
      try {
        stats = statSync(absolute);
      } catch {
        throw new SiteError(`dangling symlink: ${absolute} points to nothing`);
      }
      if (stats.isDirectory()) walk(absolute, rel);
      else if (!included(rel)) continue;
      else if (stats.isFile())
        files.push({ relative: rel, absolute, size: stats.size, mtime: Math.floor(stats.mtimeMs / 1000) });
      else
        throw new SiteError(
          `not a regular file or folder: ${absolute} (fifos, sockets and devices cannot be served)`,
        );
    }
    visiting.delete(real);
  };
  walk(root, "");
  return files;
}
