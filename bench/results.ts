// The shape of one benchmark run's raw results (saved as bench/results.json so the tables and charts
// can be rendered again without re-running), and the statistics every table uses.

import type { BuiltImage, ImageBuildTimes } from "./images.ts";
import type { LoadResult } from "./load.ts";
import type { Resident } from "./memory.ts";
import type { Probe } from "./throughput.ts";

/** Memory of one server at rest and holding idle keep-alive connections. */
export interface MemoryResult {
  rest: Resident;
  /** Idle connections asked for → resident memory while holding them. */
  idle: { connections: number; open: number; resident: Resident }[];
}

export interface Results {
  mode: "quick" | "full";
  /** ISO time the run started. */
  started: string;
  machine: { cpus: number; model: string; kernel: string; loadBefore: number; loadAfter: number };
  /** taskset CPU lists. */
  pinning: { server: string; client: string };
  rounds: number;
  /** Seconds per load run. */
  duration: number;
  /** Server name → version, in table order (speck first). */
  versions: Record<string, string>;
  cells: { id: string; title: string; file: string; tool: string; connections: number }[];
  /** Cell id → server → one result per round. */
  load: Record<string, Record<string, LoadResult[]>>;
  /** Cell id → server → the server's CPU microseconds per request, one per round. */
  cpu: Record<string, Record<string, number[]>>;
  /** Cell id → server → what one request of the cell was answered with. */
  probes: Record<string, Record<string, Probe>>;
  /** Server → milliseconds from spawn to first answer, one per start. */
  startup: Record<string, number[]>;
  /** Server → memory, or why it was not measured. */
  memory: Record<string, MemoryResult | { skipped: string }>;
  images?: {
    /** The speck they were built with (the images may be re-measured in a later run than the servers). */
    speck?: string;
    docker: string;
    built: BuiltImage[];
    times: ImageBuildTimes;
    /** Site name → folder, file count, bytes. */
    sites: Record<string, { folder: string; files: number; bytes: number }>;
    timedSite: string;
  };
  /** Suites that failed, with their error. */
  failures: string[];
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Half the range as a fraction of the median: 0.03 for "±3%". */
export function spread(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  return (Math.max(...xs) - Math.min(...xs)) / 2 / median(xs);
}
