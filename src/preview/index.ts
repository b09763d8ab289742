// The preview part's public surface.

export { type AccessLogEntry, type PreviewOptions, type PreviewServer, startPreview } from "./server.ts";
