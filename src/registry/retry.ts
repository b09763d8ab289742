// When and how long to wait before trying a request again: 429, 5xx (but 501), connection resets
// and time-outs are retried with exponential backoff and full jitter, and a `Retry-After` from
// the registry is honoured (capped, so a hostile answer cannot stall a push for hours).

import { setTimeout as sleep } from "node:timers/promises";

/** How many times to try and how long to wait between tries. */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** The wait before the second try, doubled for each further one (before jitter). */
  readonly baseDelayMs: number;
  /** The longest wait between two tries, `Retry-After` included. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 250, maxDelayMs: 20_000 };

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
]);

/** True for answers worth another try: too many requests and server errors other than 501. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501);
}

/** True for network failures worth another try: resets, refusals, time-outs, truncated answers. */
export function isRetryableError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined && RETRYABLE_CODES.has(code)) || error instanceof NetworkError;
}

/** A connection that failed in a way worth retrying: time-out, truncated or reset answer. */
export class NetworkError extends Error {
  override name = "NetworkError";
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const when = Date.parse(text);
  return Number.isNaN(when) ? undefined : Math.max(0, when - now);
}

/**
 * The wait before try number `attempt + 1` (attempt counts from 1): a random time up to
 * base × 2^(attempt-1), or what `Retry-After` asks if that is longer, never above the maximum.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  retryAfter?: string,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(random() * ceiling);
  const asked = retryAfterMs(retryAfter);
  return Math.min(policy.maxDelayMs, Math.max(jittered, asked ?? 0));
}

/** A try that failed and is about to be made again, for progress lines. */
export interface RetryEvent {
  /** What is being tried, e.g. `PATCH blob sha256:1a2b3c4d5e6f`. */
  readonly what: string;
  /** The try that failed, counting from 1. */
  readonly attempt: number;
  readonly attempts: number;
  readonly reason: string;
  readonly delayMs: number;
}

/** How `retrying` waits and reports. */
export interface RetryOptions {
  readonly policy: RetryPolicy;
  /** Cuts the waits short (and so the retries) when aborted. */
  readonly signal?: AbortSignal;
  readonly onRetry?: (event: RetryEvent) => void;
  readonly random?: () => number;
}

/** Thrown when every try failed on the network: the last error and the number of tries. */
export class GaveUp extends Error {
  override name = "GaveUp";
  constructor(
    readonly last: unknown,
    readonly tries: number,
  ) {
    super(`failed after ${tries} tries: ${failureReason(last)}`);
  }
}

/**
 * Calls `send` until its answer is not worth another try or the tries are used up, waiting
 * between tries. Resolves with the last answer (a 5xx if the last try got one); rejects with
 * a non-retryable error at once, or with GaveUp when the network failed every time.
 */
export async function retrying<T extends { status: number; headers: Record<string, unknown> }>(
  what: string,
  send: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { policy } = options;
  for (let attempt = 1; ; attempt++) {
    let reason: string;
    let retryAfter: string | undefined;
    try {
      const answer = await send();
      if (!isRetryableStatus(answer.status) || attempt >= policy.attempts) return answer;
      reason = `HTTP ${answer.status}`;
      const header = answer.headers["retry-after"];
      retryAfter = typeof header === "string" ? header : undefined;
    } catch (error) {
      if (!isRetryableError(error)) throw error;
      if (attempt >= policy.attempts) throw new GaveUp(error, attempt);
      reason = failureReason(error);
    }
    options.signal?.throwIfAborted();
    const delayMs = backoffDelay(attempt, policy, retryAfter, options.random);
    options.onRetry?.({ what, attempt, attempts: policy.attempts, reason, delayMs });
    await wait(delayMs, options.signal);
  }
}

/** Waits `ms` milliseconds, or rejects when `signal` aborts first. */
export function wait(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return ms > 0 ? sleep(ms, undefined, signal ? { signal } : {}) : Promise.resolve();
}

/** A short reason for a failed try, for progress lines: `503`, `ECONNRESET`, `timed out`. */
export function failureReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code) return code;
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}
