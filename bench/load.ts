// The load generators: runs wrk and h2load (pinned with taskset) against one URL and reads their
// output into requests per second, p50/p99 latency and error counts. The parsers are exported so the
// smoke test can check them on real output.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What one load run measured. */
export interface LoadResult {
  requestsPerSecond: number;
  /** Median latency in milliseconds. */
  p50: number;
  /** 99th-percentile latency in milliseconds. */
  p99: number;
  /** Completed requests. */
  requests: number;
  /** Failed requests, socket errors and responses other than 2xx/3xx. */
  errors: number;
}

export interface LoadOptions {
  url: string;
  /** Concurrent connections. */
  connections: number;
  /** Seconds of load. */
  duration: number;
  /** Extra request headers, e.g. ["Accept-Encoding: gzip"]. */
  headers?: string[];
  /** CPU list for `taskset -c`; all CPUs when absent. */
  cpus?: string;
}

/** Milliseconds from wrk's notation: "812.00us", "1.81ms", "1.02s", "2.00m". */
function wrkMilliseconds(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`bench/load: cannot read the wrk duration ${JSON.stringify(text)}`);
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as "us" | "ms" | "s" | "m"];
  return Number(m[1]) * scale;
}

/** Reads the output of `wrk --latency`. */
export function parseWrk(output: string): LoadResult {
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const total = /^\s*(\d+) requests in /m.exec(output);
  const p50 = /^\s+50%\s+(\S+)/m.exec(output);
  const p99 = /^\s+99%\s+(\S+)/m.exec(output);
  if (!rate || !total || !p50 || !p99)
    throw new Error(`bench/load: wrk printed no results (was --latency given?):\n${output.trim()}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const errors =
    (socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return {
    requestsPerSecond: Number(rate[1]),
    p50: wrkMilliseconds(p50[1]!),
    p99: wrkMilliseconds(p99[1]!),
    requests: Number(total[1]),
    errors,
  };
}

/** The value at quantile `q` (0..1) of `sorted`, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Reads h2load's summary and its `--log-file` (one line per request: start time in µs, status,
 * duration in µs); h2load prints no percentiles itself, so they come from the log.
 */
export function parseH2load(output: string, log: string): LoadResult {
  const rate = /^finished in [\d.]+m?s, ([\d.]+) req\/s/m.exec(output);
  const requests =
    /^requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/m.exec(
      output,
    );
  if (!rate || !requests) throw new Error(`bench/load: h2load printed no results:\n${output.trim()}`);
  const status = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(output);
  const durations = log
    .split("\n")
    .map((line) => line.split("\t"))
    .filter((fields) => fields.length === 3)
    .map((fields) => Number(fields[2]) / 1000)
    .sort((a, b) => a - b);
  return {
    requestsPerSecond: Number(rate[1]),
    p50: quantile(durations, 0.5),
    p99: quantile(durations, 0.99),
    requests: Number(requests[1]),
    errors: Number(requests[3]) + Number(requests[4]) + (status ? Number(status[3]) + Number(status[4]) : 0),
  };
}

function run(argv: string[], cpus: string | undefined, limitSeconds: number): Promise<string> {
  const command = cpus ? ["taskset", "-c", cpus, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), limitSeconds * 1000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`bench/load: ${argv[0]} exited with ${code}:\n${output.trim()}`));
    });
  });
}

/** Runs wrk with one thread; `--latency` gives the percentiles. */
export async function runWrk(o: LoadOptions): Promise<LoadResult> {
  const argv = ["wrk", "-t", "1", "-c", String(o.connections), "-d", `${o.duration}s`, "--latency"];
  for (const header of o.headers ?? []) argv.push("-H", header);
  argv.push(o.url);
  return parseWrk(await run(argv, o.cpus, o.duration + 30));
}

/** Runs h2load over HTTP/1.1 with one thread; `pipeline` requests in flight per connection. */
export async function runH2load(o: LoadOptions & { pipeline?: number }): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "speck-h2load-"));
  const logFile = join(dir, "requests.log");
  try {
    const argv = ["h2load", "--h1", "-t", "1", "-c", String(o.connections), "-D", String(o.duration)];
    argv.push("-m", String(o.pipeline ?? 1), `--log-file=${logFile}`);
    for (const header of o.headers ?? []) argv.push("-H", header);
    argv.push(o.url);
    const output = await run(argv, o.cpus, o.duration + 30);
    return parseH2load(output, readFileSync(logFile, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
