// Finds, loads and validates the configuration: speck.config.json/.ts/.mjs/.js or --config, with
// command-line options on top. Every error is one line naming the key, the value and what is accepted.

import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { createJiti } from "jiti";
import type { z } from "zod";
import { configSchema, type SpeckConfig, type SpeckConfigInput } from "./schema.ts";

export const CONFIG_NAMES = [
  "speck.config.ts",
  "speck.config.mts",
  "speck.config.mjs",
  "speck.config.js",
  "speck.config.json",
];

/** A mistake in the user's input: the CLI prints its message and exits 2. */
export class ConfigError extends Error {}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text && text.length > 60 ? `${text.slice(0, 57)}...` : String(text);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let at = input;
  for (const key of path)
    at = at && typeof at === "object" ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  return at;
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, k) => (typeof k === "number" ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    "",
  );
}

const KNOWN_KEYS = Object.keys(configSchema.shape);

function closest(word: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
    return d[a.length]![b.length]!;
  };
  const best = candidates
    .map((c) => ({ c, d: distance(word.toLowerCase(), c.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 3 ? best.c : undefined;
}

/** One line per problem: `redirects[0].status: 303 is not accepted; use one of 301, 302, 307, 308`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown, source: string): string {
  const lines = issues.map((issue) => {
    const where = keyPath(issue.path) || "(top level)";
    const value = valueAt(input, issue.path);
    switch (issue.code) {
      case "unrecognized_keys":
        return issue.keys
          .map((k) => {
            const hint = issue.path.length === 0 ? closest(k, KNOWN_KEYS) : undefined;
            return `${keyPath([...issue.path, k])}: unknown option${hint ? `; did you mean "${hint}"?` : ""}`;
          })
          .join("\n");
      case "invalid_value":
        return `${where}: ${describe(value)} is not accepted; use one of ${issue.values.map((v) => describe(v)).join(", ")}`;
      case "invalid_union":
        return `${where}: ${describe(value)} is not accepted; use one of 301, 302, 307, 308`;
      case "invalid_type":
        return `${where}: ${describe(value)} is not accepted; expected ${issue.expected}`;
      default:
        return `${where}: ${describe(value)} is not accepted: ${issue.message}`;
    }
  });
  return `invalid configuration in ${source}:\n  ${lines.join("\n").split("\n").join("\n  ")}`;
}

/** Validates a configuration object; `source` names it in errors. */
export function validateConfig(input: unknown, source: string, root: string): SpeckConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, input, source));
  return { ...result.data, root };
}

async function loadFile(path: string): Promise<unknown> {
  if (path.endsWith(".json")) {
    try {
      return JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
    }
  }
  try {
    const jiti = createJiti(import.meta.url, { moduleCache: false });
    const module = (await jiti.import(path)) as { default?: unknown };
    return module.default ?? module;
  } catch (error) {
    throw new ConfigError(`cannot load ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
}

/** The config file to use: explicit, else in the site folder, else in the working directory. */
export function findConfigFile(siteFolder: string | undefined, explicit?: string): string | undefined {
  if (explicit) {
    const path = resolve(explicit);
    if (!existsSync(path)) throw new ConfigError(`config file ${explicit} does not exist`);
    return path;
  }
  for (const dir of [...(siteFolder ? [resolve(siteFolder)] : []), process.cwd()]) {
    for (const name of CONFIG_NAMES) {
      const path = resolve(dir, name);
      if (existsSync(path)) return path;
    }
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
  if (options.folder !== undefined) {
    const folder = resolve(options.folder);
    if (!existsSync(folder)) throw new ConfigError(`site folder ${options.folder} does not exist`);
    if (!statSync(folder).isDirectory())
      throw new ConfigError(`site folder ${options.folder} is not a folder`);
  }
  const file = findConfigFile(options.folder, options.configFile);
  const fromFile = file ? await loadFile(file) : {};
  if (fromFile === null || typeof fromFile !== "object" || Array.isArray(fromFile))
    throw new ConfigError(`${file}: the configuration must be an object`);
  const merged = { ...(fromFile as object), ...stripUndefined(options.overrides ?? {}) } as SpeckConfigInput;
  const base = file ? dirname(file) : process.cwd();
  const root = options.folder !== undefined ? resolve(options.folder) : resolve(base, merged.root ?? ".");
  const config = validateConfig(merged, file ? basename(file) : "command-line options", root);
  return { config, file };
}

function stripUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
