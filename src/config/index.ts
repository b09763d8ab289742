// The config part's public surface.

export { CONFIG_NAMES, ConfigError, findConfigFile, loadConfig, validateConfig } from "./load.ts";
export { configSchema, defineConfig, jsonSchema, type SpeckConfig, type SpeckConfigInput } from "./schema.ts";
