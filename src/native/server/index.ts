// The native server: the shell (start-up, sockets, epoll loop, connections) and the HTTP layer,
// linked for one target. `buildServer(target)` is what images ship as /speck.

import { ProgramBuilder } from "../ir/builder.ts";
import type { Program } from "../ir/types.ts";
import { type Linked, link } from "../link.ts";
import type { Target } from "../target/types.ts";
import { DATE_LINE_LENGTH, G } from "./globals.ts";
import { emitHttp } from "./http/index.ts";
import { DEFAULT_TIMEOUTS, R, type Timeouts } from "./loop.ts";
import { emitServerShell } from "./start.ts";

/** What a build of the server may change; tests shorten the time-outs. */
export interface ServerOptions {
  timeouts?: Timeouts;
}

/** The server as an IR program for `target` (kernel layouts and constants differ by arch). */
export function serverProgram(target: Target, options: ServerOptions = {}): Program {
  const p = new ProgramBuilder();
  emitServerShell(p, target, options.timeouts ?? DEFAULT_TIMEOUTS);
  emitHttp(p, {
    pack: G.pack,
    dateLine: G.dateLine,
    dateLineLength: DATE_LINE_LENGTH,
    response: G.response,
    R,
  });
  return p.build("_start");
}

/** The server linked for `target`: the ELF bytes, sizes per function and a map file. */
export function buildServer(target: Target, options: ServerOptions = {}): Linked {
  return link(serverProgram(target, options), target, { optimize: true });
}
