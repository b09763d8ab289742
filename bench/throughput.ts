// The load cells of the throughput benchmark (file size × connections × keep-alive, new connection per
// request, pipelining, gzip and brotli) and the probe that checks what a server actually answers to a
// cell's request before it is loaded, so a table never credits a server with work it did not do.

import { request } from "node:http";
import { type LoadResult, runH2load, runWrk } from "./load.ts";
import { BENCH_FILES, type BenchFile } from "./site.ts";

/** One load configuration, run against every server. */
export interface Cell {
  /** Stable identifier, e.g. "ka64-10KB". */
  id: string;
  /** What a table row says. */
  title: string;
  file: BenchFile;
  tool: "wrk" | "h2load";
  connections: number;
  headers: string[];
  /** Requests in flight per connection (h2load only). */
  pipeline?: number;
  /** The server is held to SERVER_BOUND_SHARE of its core during the load (bench/quota.ts). */
  serverBound?: true;
}

const [tiny, page, script, large] = BENCH_FILES as [BenchFile, BenchFile, BenchFile, BenchFile];

function keepAlive(file: BenchFile, connections: number): Cell {
  return {
    id: `ka${connections}-${file.label.replace(" ", "")}`,
    title: `${file.label}, ${connections} keep-alive connection${connections === 1 ? "" : "s"}`,
    file,
    tool: "wrk",
    connections,
    headers: [],
  };
}

/** The share of a core each server is held to in the server-bound loads. */
export const SERVER_BOUND_SHARE = 0.4;

/** The id of the server-bound twin of the load `id`. */
export const serverBoundId = (id: string) => `${id}-cpu${SERVER_BOUND_SHARE * 100}`;

/** A keep-alive load with the server held to part of its core, so that it, not wrk, is the limit. */
function serverBound(file: BenchFile): Cell {
  const cell = keepAlive(file, 64);
  return {
    ...cell,
    id: serverBoundId(cell.id),
    title: `${cell.title}, server held to ${SERVER_BOUND_SHARE * 100}% of its core`,
    serverBound: true,
  };
}

function newConnection(file: BenchFile): Cell {
  return {
    id: `close64-${file.label.replace(" ", "")}`,
    title: `${file.label}, new connection per request (64 at a time)`,
    file,
    tool: "wrk",
    connections: 64,
    headers: ["Connection: close"],
  };
}

function pipelined(file: BenchFile): Cell {
  return {
    id: `pipe64x16-${file.label.replace(" ", "")}`,
    title: `${file.label}, 64 connections × 16 pipelined (h2load)`,
    file,
    tool: "h2load",
    connections: 64,
    headers: [],
    pipeline: 16,
  };
}

function h2loadKeepAlive(file: BenchFile): Cell {
  return {
    id: `h2load64-${file.label.replace(" ", "")}`,
    title: `${file.label}, 64 keep-alive connections (h2load)`,
    file,
    tool: "h2load",
    connections: 64,
    headers: [],
  };
}

function compressed(file: BenchFile, coding: "gzip" | "br"): Cell {
  return {
    id: `${coding}64-${file.label.replace(" ", "")}`,
    title: `${file.label}, 64 connections, Accept-Encoding: ${coding}`,
    file,
    tool: "wrk",
    connections: 64,
    headers: [`Accept-Encoding: ${coding}`],
  };
}

/** The cells in table order; quick mode keeps the headline cells and one of each other kind. */
export function throughputCells(quick: boolean): Cell[] {
  const cells = [
    ...BENCH_FILES.map((file) => keepAlive(file, 64)),
    ...[tiny, page, script].map(serverBound),
    ...BENCH_FILES.map((file) => keepAlive(file, 1)),
    // 1,000 connections sharing a 300 KB or 5 MB stream mostly wait: only the small files say anything
    keepAlive(tiny, 1000),
    keepAlive(page, 1000),
    newConnection(tiny),
    newConnection(page),
    pipelined(tiny),
    pipelined(page),
    h2loadKeepAlive(tiny),
    h2loadKeepAlive(page),
    h2loadKeepAlive(script),
    compressed(page, "gzip"),
    compressed(page, "br"),
    compressed(script, "gzip"),
    compressed(script, "br"),
  ];
  if (!quick) return cells;
  const keep = new Set([
    ...BENCH_FILES.map((file) => keepAlive(file, 64).id),
    ...[tiny, page, script].map((file) => serverBound(file).id),
    keepAlive(tiny, 1).id,
    keepAlive(tiny, 1000).id,
    keepAlive(large, 1).id,
    newConnection(tiny).id,
    pipelined(tiny).id,
    h2loadKeepAlive(tiny).id,
    compressed(page, "gzip").id,
    compressed(page, "br").id,
  ]);
  return cells.filter((cell) => keep.has(cell.id));
}

/** Runs one cell's load against 127.0.0.1:`port`, the generator pinned to `cpus`. */
export function loadCell(cell: Cell, port: number, duration: number, cpus?: string): Promise<LoadResult> {
  const options = {
    url: `http://127.0.0.1:${port}${cell.file.path}`,
    connections: cell.connections,
    duration,
    headers: cell.headers,
    cpus,
  };
  return cell.tool === "wrk" ? runWrk(options) : runH2load({ ...options, pipeline: cell.pipeline });
}

/** What a server answered to one request of a cell. */
export interface Probe {
  status: number;
  /** Content-Encoding, or "identity". */
  encoding: string;
  /** Body bytes on the wire. */
  bytes: number;
}

/** Sends one request of `cell` and reports the status, the encoding and the body size. */
export function probeCell(cell: Cell, port: number): Promise<Probe> {
  const headers = Object.fromEntries(
    cell.headers.filter((h) => !h.startsWith("Connection:")).map((h) => h.split(": ") as [string, string]),
  );
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: cell.file.path, headers, agent: false }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          encoding: String(res.headers["content-encoding"] ?? "identity"),
          bytes,
        }),
      );
      res.on("error", reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer for ${cell.file.path} within 10 s`)));
    req.on("error", reject);
    req.end();
  });
}
