import assert from "node:assert/strict";
import { test } from "node:test";
import { parseH2load, parseWrk, quantile } from "./load.ts";

// Captured from wrk 4.1.0 and h2load 1.52.0 against nginx on this project's bench machine.
const WRK = `Running 1s test @ http://127.0.0.1:18080/a.txt
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.18ms    1.90ms  21.87ms   94.90%
    Req/Sec    32.74k     6.53k   40.83k    70.00%
  Latency Distribution
     50%  812.00us
     75%    2.02ms
     90%    2.51ms
     99%    1.02s
  32497 requests in 1.00s, 10.13MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:  32388.89
Transfer/sec:     10.10MB
`;

const H2LOAD = `finished in 1.00s, 46358.00 req/s, 14.46MB/s
requests: 46358 total, 46422 started, 46358 done, 46350 succeeded, 8 failed, 1 errored, 0 timeout
status codes: 46350 2xx, 0 3xx, 2 4xx, 0 5xx
`;

test("parseWrk() reads the rate, the count, the percentiles in every unit and the errors", () => {
  assert.deepEqual(parseWrk(WRK), {
    requestsPerSecond: 32388.89,
    p50: 0.812,
    p99: 1020,
    requests: 32497,
    errors: 9,
  });
});

test("parseWrk() refuses output without results, quoting it", () => {
  assert.throws(
    () => parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"),
    /wrk printed no results[\s\S]*refused/,
  );
});

test("parseH2load() takes percentiles from the request log", () => {
  const log = Array.from({ length: 100 }, (_, i) => `17953569794145${i}\t200\t${(i + 1) * 1000}`).join("\n");
  const result = parseH2load(H2LOAD, log);
  assert.equal(result.requestsPerSecond, 46358);
  assert.equal(result.requests, 46358);
  assert.equal(result.errors, 11);
  assert.equal(result.p50, 50);
  assert.equal(result.p99, 99);
});

test("quantile() uses the nearest rank", () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 1), 4);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});
