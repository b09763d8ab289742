// The site part's public surface.

export { type CompileOptions, compileSite, type SiteReport } from "./compile.ts";
export { type CompressionStats, defaultCacheDir } from "./compress.ts";
export { contentType, isCompressible, isFingerprinted } from "./content-type.ts";
export { SiteError } from "./errors.ts";
export { RESERVED_HEADERS } from "./headers.ts";
export { type PlannedRoute, planRoutes, type RoutePlan } from "./routes.ts";
export { type SiteFile, scanSite } from "./scan.ts";
