// The pack part's public surface: the model, the writer, the reader and size statistics.

export { formatHttpDate } from "./http-date.ts";
export * from "./model.ts";
export {
  type Pack,
  PackError,
  type PackPrefixRedirect,
  type PackRoute,
  type PackVariant,
  readPack,
} from "./read.ts";
export { type PackStats, packStats } from "./stats.ts";
export {
  isNormalisedPath,
  joinPack,
  type PackBytes,
  type PackChunk,
  packChunks,
  packPieces,
  writePack,
  writePackFile,
} from "./write.ts";
