// The pack part's public surface: the model, the writer, the reader and size statistics.

export * from "./model.ts";
export { type Pack, PackError, type PackRoute, type PackVariant, readPack } from "./read.ts";
export { type PackStats, packStats } from "./stats.ts";
export { packChunks, writePack, writePackFile } from "./write.ts";
