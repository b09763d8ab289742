// The preview part's public surface: the socket server, and its pure core for tests and tools.

export { type AccessLogEntry, type Answer, ConnectionState, serveBytes } from "./connection.ts";
export { type ParseResult, parseRequest, type Request } from "./parse.ts";
export { type Response, respond } from "./respond.ts";
export {
  HEADER_TIMEOUT,
  IDLE_TIMEOUT,
  type PreviewOptions,
  type PreviewServer,
  SEND_STALL_TIMEOUT,
  startPreview,
  type Timeouts,
} from "./server.ts";
export { normaliseTarget, type Target } from "./target.ts";
