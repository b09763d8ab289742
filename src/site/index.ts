// The site part's public surface.

export { type CompileOptions, compileSite, type SiteReport } from "./compile.ts";
export { defaultCacheDir } from "./compress.ts";
export { contentType, isCompressible, isFingerprinted } from "./content-type.ts";
export { SiteError } from "./errors.ts";
export { type SiteFile, scanSite } from "./scan.ts";
