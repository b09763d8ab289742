// Sends corpus requests to a server on loopback and collects the raw responses, Date masked, split
// into individual responses. Shared by the preview tests and the native differential suite.

import { connect } from "node:net";
import { CORPUS, type CorpusCase } from "./requests.ts";

export const DATE_MASK = "Date: <masked>\r\n";

/** Sends `request` on a new connection and returns everything the server sent until it closed. */
export function exchange(port: number, request: string | Uint8Array, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(typeof request === "string" ? Buffer.from(request, "latin1") : request);
      socket.end();
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no close within ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(chunks).toString("latin1").slice(0, 200))}`,
        ),
      );
    }, timeoutMs);
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(
        Buffer.concat(chunks)
          .toString("latin1")
          .replace(/Date: [^\r]*\r\n/g, DATE_MASK),
      );
    });
  });
}

/** Status codes of the responses in a raw exchange, in order. */
export function statuses(raw: string): number[] {
  return [...raw.matchAll(/(?:^|\n)HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** One corpus case's full response bytes (latin1, Date masked). */
export interface CorpusRecord {
  name: string;
  response: string;
}

/** Sends every case, one connection each, in order, and records the responses for comparison. */
export async function recordCorpus(
  port: number,
  cases: readonly CorpusCase[] = CORPUS,
): Promise<CorpusRecord[]> {
  const records: CorpusRecord[] = [];
  for (const c of cases) records.push({ name: c.name, response: await exchange(port, c.request) });
  return records;
}
