// Memory measurements: the resident memory of a server's whole process tree (master and workers),
// and a client that holds many idle keep-alive connections open, each having been served one request,
// the way browsers leave connections to a static site.

import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";

function children(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      if (text) found.push(...text.split(/\s+/).map(Number));
    } catch {
      // the task ended while we looked
    }
  }
  return found;
}

/** Resident memory of a process tree, in bytes. */
export interface Resident {
  /** VmRSS: every resident page, including mapped files (shared with the page cache). */
  rss: number;
  /** RssAnon: private memory the server allocated (heap, stacks, buffers). */
  anon: number;
}

/** `pid` and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop()!;
    found.push(current);
    pending.push(...children(current));
  }
  return found;
}

/** Resident memory of `pid` and all its descendants. */
export function treeMemory(pid: number): Resident {
  const total = { rss: 0, anon: 0 };
  for (const current of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${current}/status`, "utf8");
      total.rss += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
      total.anon += Number(/^RssAnon:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

/** Idle connections held open by {@link holdIdleConnections}. */
export interface IdleConnections {
  /** Connections still open right now. */
  open(): number;
  close(): Promise<void>;
}

/**
 * Opens `count` connections to 127.0.0.1:`port` (at most `parallel` connecting at once), sends one
 * keep-alive GET of `path` on each and waits for the start of its answer, then leaves them idle.
 * Needs a descriptor limit above `count` (see `raiseFileLimit`).
 */
export async function holdIdleConnections(
  port: number,
  path: string,
  count: number,
  parallel = 100,
): Promise<IdleConnections> {
  const sockets: Socket[] = [];
  let closed = 0;
  const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1" });
      sockets.push(socket);
      socket.setTimeout(10_000, () => socket.destroy(new Error("no answer within 10 s")));
      socket.once("connect", () => socket.write(request));
      socket.once("data", () => {
        socket.setTimeout(0);
        socket.on("data", () => {});
        resolve();
      });
      socket.once("error", reject);
      socket.once("close", () => {
        closed++;
        reject(new Error("closed before answering"));
      });
    });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  } catch (error) {
    for (const socket of sockets) socket.destroy();
    throw new Error(
      `bench/memory: opening ${count} connections to port ${port}: ${(error as Error).message}`,
    );
  }
  for (const socket of sockets) socket.on("error", () => {});
  return {
    open: () => sockets.length - closed,
    close: async () => {
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.destroyed) return resolve();
              socket.once("close", () => resolve());
              socket.destroy();
            }),
        ),
      );
    },
  };
}
