// Finds, loads and validates the configuration: speck.config.json/.ts/.mjs/.js or --config, with
// command-line options on top. The lookup rule is in docs/config.md, "Where speck looks".

import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";
import { createJiti } from "jiti";
import { ConfigError, formatIssues } from "./errors.ts";
import { configSchema, type SpeckConfig, type SpeckConfigInput } from "./schema.ts";

export { ConfigError } from "./errors.ts";

export const CONFIG_NAMES = [
  "speck.config.ts",
  "speck.config.mts",
  "speck.config.mjs",
  "speck.config.js",
  "speck.config.json",
];

/** Validates a configuration object; `source` names it in errors. */
export function validateConfig(input: unknown, source: string, root: string): SpeckConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, input, source));
  return { ...result.data, root };
}

/** JSON.parse's complaint with the line and column of its offset (Node 20 names only the offset). */
function jsonProblem(text: string, message: string): string {
  const at = /at position (\d+)/.exec(message);
  if (!at || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  return `${message} (line ${line}, column ${before.length - before.lastIndexOf("\n")})`;
}

async function loadFile(path: string): Promise<unknown> {
  if (path.endsWith(".json")) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`cannot read ${path}: ${jsonProblem(text, (error as Error).message)}`);
    }
  }
  let module: { default?: unknown };
  try {
    const jiti = createJiti(import.meta.url, { moduleCache: false });
    module = (await jiti.import(path)) as { default?: unknown };
  } catch (error) {
    throw new ConfigError(`cannot load ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!("default" in module))
    throw new ConfigError(`${path} has no default export; write: export default defineConfig({ ... })`);
  return module.default;
}

/**
 * The config file to use: `explicit` if given; else the first folder of the site folder, its parent
 * and the working directory that holds a speck.config.* (two in one folder is an error).
 */
export function findConfigFile(siteFolder: string | undefined, explicit?: string): string | undefined {
  if (explicit) {
    const path = resolve(explicit);
    if (!existsSync(path)) throw new ConfigError(`config file ${explicit} does not exist`);
    return path;
  }
  const folders = siteFolder ? [resolve(siteFolder), dirname(resolve(siteFolder))] : [];
  for (const dir of new Set([...folders, process.cwd()])) {
    const found = CONFIG_NAMES.map((name) => resolve(dir, name)).filter((path) => existsSync(path));
    if (found.length > 1)
      throw new ConfigError(
        `${found.map((f) => basename(f)).join(" and ")} are both in ${dir}; keep one, or choose with --config`,
      );
    if (found.length === 1) return found[0];
  }
  return undefined;
}

/**
 * Loads the configuration for a site: the file's options, then `overrides` (from the command line),
 * validated together. The site folder is the positional argument, else the file's `root`, else ".".
 */
export async function loadConfig(options: {
  folder?: string;
  configFile?: string;
  overrides?: SpeckConfigInput;
}): Promise<{ config: SpeckConfig; file: string | undefined }> {
  const file = findConfigFile(options.folder, options.configFile);
  const fromFile = file ? await loadFile(file) : {};
  const source = file ? relative(process.cwd(), file) || file : "the options";
  if (fromFile === null || typeof fromFile !== "object" || Array.isArray(fromFile))
    validateConfig(fromFile, source, ""); // throws, naming what an object of options looks like
  const merged = mergeOptions(fromFile as Record<string, unknown>, options.overrides ?? {});
  const parsed = validateConfig(merged, source, "");
  const named = options.folder ?? (merged.root as string | undefined) ?? ".";
  const root =
    options.folder !== undefined ? resolve(options.folder) : resolve(file ? dirname(file) : ".", named);
  if (!existsSync(root)) throw new ConfigError(`site folder ${named} does not exist`);
  if (!statSync(root).isDirectory()) throw new ConfigError(`site folder ${named} is not a folder`);
  return { config: { ...parsed, root }, file };
}

/** The file's options with the given overrides on top; nested objects (compression) merge key by key. */
function mergeOptions(base: Record<string, unknown>, overrides: object): Record<string, unknown> {
  const merged = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const under = merged[key];
    const plain = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
    merged[key] = plain(value) && plain(under) ? { ...(under as object), ...value } : value;
  }
  return merged;
}
