// The HTTP layer of the native server in the IR: `emitHttp(p, shell)` adds `http_input(fd, ptr, len)`
// and `http_timeout(fd)` (the contract of ../loop.ts) and everything below them. Needs the shell's
// `entry(fd)` and `send(fd)` functions and the globals named by `shell`.

import type { ProgramBuilder } from "../../ir/builder.ts";
import { emitRespond, type ShellInterface } from "./respond.ts";

export type { ShellInterface } from "./respond.ts";
export { STATE_SIZE } from "./state.ts";

/** `features`: the access feature bits the server enforces (0: none, the plain server). */
export function emitHttp(p: ProgramBuilder, shell: ShellInterface, features = 0): void {
  emitRespond(p, shell, features);
}
