// Shows a push as it goes, on stderr: a bar per blob being uploaded on a terminal, plain lines
// elsewhere (CI logs): each blob's outcome, each retry with its reason, each manifest.

import { MultiBar, type SingleBar } from "cli-progress";
import type { PushEvent } from "../registry/index.ts";

/** `935 B`, `7.4 KiB`, `200.0 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** Blobs from this size get an "uploading" line before their outcome, in plain output. */
const ANNOUNCED_SIZE = 1024 * 1024;
const short = (digest: string) => digest.slice(0, digest.indexOf(":") + 13);

/** The line for a push event, or undefined for events that only move a bar. */
export function eventLine(event: PushEvent): string | undefined {
  switch (event.type) {
    case "blob-start":
      if (event.size < ANNOUNCED_SIZE) return undefined;
      return `uploading ${short(event.digest)} (${formatBytes(event.size)})`;
    case "blob-done": {
      const { result } = event;
      if (result.outcome === "skipped") return `skipped   ${short(result.digest)} (already there)`;
      if (result.outcome === "mounted") return `mounted   ${short(result.digest)} from ${result.from}`;
      return `uploaded  ${short(result.digest)} ${formatBytes(result.size)} in ${seconds(result.milliseconds)}`;
    }
    case "retry": {
      const { retry } = event;
      return `retrying  ${retry.what}: ${retry.reason} (try ${retry.attempt + 1} of ${retry.attempts} in ${seconds(retry.delayMs)})`;
    }
    case "manifest":
      return `manifest  ${short(event.digest)}${event.reference.includes(":") ? "" : ` as ${event.reference}`}`;
    default:
      return undefined;
  }
}

/** Renders push events on `stream`: bars on a terminal, lines otherwise. */
export class PushProgress {
  private readonly bars: MultiBar | undefined;
  private readonly active = new Map<string, SingleBar>();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.bars = stream.isTTY
      ? new MultiBar({
          stream,
          format: "{digest} {bar} {percentage}% {done} of {size}",
          hideCursor: true,
          clearOnComplete: true,
          autopadding: true,
        })
      : undefined;
  }

  /** Shows one event. */
  readonly handle = (event: PushEvent): void => {
    if (this.bars && event.type === "blob-start") {
      const payload = { digest: short(event.digest), done: formatBytes(0), size: formatBytes(event.size) };
      this.active.set(event.digest, this.bars.create(event.size, 0, payload));
      return;
    }
    if (event.type === "blob-progress") {
      this.active.get(event.digest)?.update(event.bytes, { done: formatBytes(event.bytes) });
      return;
    }
    if (event.type === "blob-done") {
      const bar = this.active.get(event.result.digest);
      if (bar) this.bars?.remove(bar);
      this.active.delete(event.result.digest);
    }
    const line = eventLine(event);
    if (line === undefined) return;
    if (this.bars) this.bars.log(`  ${line}\n`);
    else this.stream.write(`speck: ${line}\n`);
  };

  /** Removes the bars. */
  stop(): void {
    this.bars?.stop();
  }
}
