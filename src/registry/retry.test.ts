import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import {
  backoffDelay,
  GaveUp,
  isRetryableError,
  isRetryableStatus,
  type RetryEvent,
  retryAfterMs,
  retrying,
} from "./retry.ts";
import { Transport } from "./transport.ts";

const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1500 };

test("backoffDelay() is full jitter up to base × 2^(n-1), at least Retry-After, at most the maximum", () => {
  assert.equal(
    backoffDelay(1, policy, undefined, () => 0.999),
    100,
  );
  assert.equal(
    backoffDelay(3, policy, undefined, () => 0.5),
    200,
  );
  assert.equal(
    backoffDelay(3, policy, undefined, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(10, policy, undefined, () => 0.999),
    1499,
    "capped before jitter",
  );
  assert.equal(
    backoffDelay(1, policy, "1", () => 0),
    1000,
    "Retry-After in seconds",
  );
  assert.equal(
    backoffDelay(1, policy, "3600", () => 0),
    1500,
    "a long Retry-After is capped",
  );
});

test("retryAfterMs() reads seconds and HTTP dates", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.equal(retryAfterMs("120", now), 120_000);
  assert.equal(retryAfterMs("Wed, 21 Oct 2015 07:28:30 GMT", now), 30_000);
  assert.equal(retryAfterMs("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
  assert.equal(retryAfterMs("soon", now), undefined);
  assert.equal(retryAfterMs(undefined, now), undefined);
});

test("429, 408 and 5xx but 501 are retried; resets and time-outs are, unknown hosts are not", () => {
  assert.deepEqual(
    [200, 400, 401, 404, 408, 429, 500, 501, 502, 503].filter(isRetryableStatus),
    [408, 429, 500, 502, 503],
  );
  const errno = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(isRetryableError(errno("ECONNRESET")), true);
  assert.equal(isRetryableError(errno("ETIMEDOUT")), true);
  assert.equal(isRetryableError(errno("ENOTFOUND")), false);
  assert.equal(isRetryableError(errno("DEPTH_ZERO_SELF_SIGNED_CERT")), false);
});

test("retrying() honours a server's 429 Retry-After and 503s, then gives the final answer", async () => {
  let hits = 0;
  const server = createServer((_, response) => {
    hits++;
    if (hits === 1) response.writeHead(429, { "retry-after": "1" }).end();
    else if (hits === 2) response.writeHead(503).end();
    else response.writeHead(200).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const transport = new Transport({ timeoutMs: 5000, insecureTls: false });
  const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/v2/`);
  const events: RetryEvent[] = [];
  try {
    const answer = await retrying("GET /v2/", () => transport.send({ method: "GET", url }), {
      policy,
      onRetry: (event) => events.push(event),
      random: () => 0,
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(
      events.map((e) => [e.attempt, e.reason, e.delayMs]),
      [
        [1, "HTTP 429", 1000],
        [2, "HTTP 503", 0],
      ],
    );
  } finally {
    transport.close();
    server.close();
  }
});

test("retrying() gives up after the policy's tries when every connection is reset", async () => {
  const server = createServer((request) => request.socket.resetAndDestroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const transport = new Transport({ timeoutMs: 5000, insecureTls: false });
  const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
  let tries = 0;
  try {
    await assert.rejects(
      retrying(
        "HEAD blob",
        () => {
          tries++;
          return transport.send({ method: "HEAD", url });
        },
        { policy: { ...policy, attempts: 3 }, random: () => 0 },
      ),
      (error: unknown) => error instanceof GaveUp && error.tries === 3 && /ECONNRESET/.test(error.message),
    );
    assert.equal(tries, 3);
  } finally {
    transport.close();
    server.close();
  }
});
