// The config part's public surface.

export { ConfigError } from "./errors.ts";
export { CONFIG_NAMES, findConfigFile, loadConfig, validateConfig } from "./load.ts";
export { configSchema, defineConfig, jsonSchema, type SpeckConfig, type SpeckConfigInput } from "./schema.ts";
