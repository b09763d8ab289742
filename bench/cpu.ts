// CPU time a server's process tree has used, read from /proc: the work a load cost the server,
// which a busy neighbour on the same core slows down far less than it slows requests per second.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { processTree } from "./memory.ts";

let ticksPerSecond: number | undefined;

/** User plus system CPU seconds used so far by `pid`, its live descendants and the children they reaped. */
export function treeCpuSeconds(pid: number): number {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  let ticks = 0;
  for (const current of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${current}/stat`, "utf8");
      // fields after the command name (which may hold spaces): state is field 3, then utime 14,
      // stime 15, and cutime 16, cstime 17: children it reaped (BusyBox forks one per connection)
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // the process ended while we looked
    }
  }
  return ticks / ticksPerSecond;
}
