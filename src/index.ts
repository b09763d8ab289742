// speck as a library: configuration, the site compiler, the pack format, the preview server, the
// native server generator and the image writer.
// `import { defineConfig } from "speck"` types a speck.config.ts; the rest builds and serves packs
// from code, as the CLI does.

export {
  ConfigError,
  configSchema,
  defineConfig,
  findConfigFile,
  jsonSchema,
  loadConfig,
  type SpeckConfig,
  type SpeckConfigInput,
  validateConfig,
} from "./config/index.ts";
export {
  buildImage,
  ImageError,
  parsePlatforms,
  parseReference,
  readLayout,
  resolveCreated,
  writeDockerArchive,
  writeLayout,
} from "./image/index.ts";
export { buildServer, serverProgram } from "./native/server/index.ts";
export { TARGETS, targetForArch } from "./native/target/index.ts";
export {
  type Encoding,
  ERROR_STATUSES,
  type ErrorStatus,
  type Header,
  type Pack,
  PackError,
  type PackInput,
  type PackStats,
  type PrefixRedirect,
  packStats,
  type Redirect,
  type Resource,
  type Route,
  readPack,
  type Variant,
  writePack,
  writePackFile,
} from "./pack/index.ts";
export { type PreviewOptions, type PreviewServer, startPreview } from "./preview/index.ts";
export {
  type CompileOptions,
  compileSite,
  contentType,
  defaultCacheDir,
  isFingerprinted,
  SiteError,
  type SiteReport,
} from "./site/index.ts";
