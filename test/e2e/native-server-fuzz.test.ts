// Bounded differential fuzzing: corpus requests mutated at random (bytes replaced, inserted, cut,
// requests spliced together) and requests generated from scratch (random methods, targets, versions,
// header fields, values, line ends and bodies) go to the native server and to the preview over the
// same pack; the native server must never crash or hang and must answer byte for byte like the
// oracle (Date masked). x86-64 runs natively, arm64 a subset under qemu-aarch64.
//
// Each run stops at its count or its time budget, whichever comes first, and says how far it got.
// SPECK_FUZZ_RUNS multiplies the counts and SPECK_FUZZ_SECONDS sets the budget per run, for longer
// manual runs; SPECK_FUZZ_SEED replaces the fixed seed (printed with every failure).

import assert from "node:assert/strict";
import { after, type TestContext, test } from "node:test";
import fc from "fast-check";
import { TARGETS } from "../../src/native/target/index.ts";
import type { Target } from "../../src/native/target/types.ts";
import { writePack } from "../../src/pack/write.ts";
import { startPreview } from "../../src/preview/index.ts";
import { CORPUS } from "../corpus/requests.ts";
import { exchange, statuses } from "../corpus/run.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { type NativeServer, startNative, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const SCALE = Number(process.env.SPECK_FUZZ_RUNS ?? 1);
const BUDGET_MS = Number(process.env.SPECK_FUZZ_SECONDS ?? 20) * 1000;
const SEED = Number(process.env.SPECK_FUZZ_SEED ?? 20261122);

const pack = writePack(CORPUS_SITE);
const preview = await startPreview({ pack, port: 0 });
after(() => preview.close());

const INTERESTING = [
  "\r\n",
  "\r",
  "\n",
  " ",
  "%",
  "%2F",
  "%00",
  "..",
  "/",
  "?",
  ":",
  ",",
  ";q=0",
  "\t",
  "\x00",
  "\x7f",
  "é",
  "HTTP/1.1",
  "0",
  "-",
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), text: fc.constantFrom(...INTERESTING) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...INTERESTING), fc.string({ maxLength: 4 })),
  }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
);

const mutated = fc
  .tuple(
    fc.constantFrom(...CORPUS.map((c) => c.request)),
    fc.array(mutation, { minLength: 1, maxLength: 4 }),
    fc.option(fc.constantFrom(...CORPUS.map((c) => c.request)), { nil: undefined }),
  )
  .map(([base, mutations, tail]) => {
    let text = base;
    for (const m of mutations) {
      const at = m.at % (text.length + 1);
      if (m.kind === "replace") text = text.slice(0, at) + m.text + text.slice(at + m.text.length);
      else if (m.kind === "insert") text = text.slice(0, at) + m.text + text.slice(at);
      else text = text.slice(0, at) + text.slice(at + m.length);
    }
    return Buffer.from(text + (tail ?? ""), "utf8");
  });

// --- requests generated from scratch ---------------------------------------------------------

/** A string made of pieces drawn from `parts`, joined. */
const pieces = (parts: fc.Arbitrary<string>, maxLength: number) =>
  fc.array(parts, { maxLength }).map((list) => list.join(""));

const ETAGS = ['"home"', '"about"', '"long"', '"long-gz"', '"long-br"', '"js"', '"js-gz"', '"spa"'];
const DATES = [
  "Tue, 14 Nov 2023 22:13:20 GMT",
  "Tue, 14 Nov 2023 22:13:19 GMT",
  "Wed, 15 Nov 2023 00:00:00 GMT",
  "Tuesday, 14-Nov-23 22:13:20 GMT",
  "Tue Nov 14 22:13:20 2023",
  "Mon, 01 Jan 1990 00:00:00 GMT",
];
/** Route paths as a client sends them (percent-encoded), and some that are not routes. */
const PATHS = [...CORPUS_SITE.routes.map((r) => encodeURI(r.path)), "/blog/x", "/nope", "/café.txt"];

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("GET", "HEAD") },
  { weight: 2, arbitrary: fc.constantFrom("POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "BREW") },
  { weight: 1, arbitrary: fc.constantFrom("get", "", "G\x00T", "GET ", "GE T") },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,12}$/) },
);

const targetPart = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 2, arbitrary: fc.constantFrom("/", "//", "/./", "/../", "/%2e%2e/", "?", "?a=1&b", ".") },
  { weight: 2, arbitrary: fc.constantFrom("%41", "%C3%A9", "%25", "%7E") },
  { weight: 1, arbitrary: fc.constantFrom("%", "%4", "%ff", "%00", "%2f", "%2F", "#x") },
  { weight: 1, arbitrary: fc.string({ maxLength: 3 }) },
);
const target = fc.oneof(
  { weight: 8, arbitrary: pieces(targetPart, 4).map((t) => (t.startsWith("/") ? t : `/${t}`)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("*", "http://a/about", "about", "", "/a b", `/${"x".repeat(9000)}`),
  },
);

const version = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("HTTP/1.1", "HTTP/1.0") },
  {
    weight: 1,
    arbitrary: fc.constantFrom("HTTP/2.0", "HTTP/1.2", "http/1.1", "HTTP/1", "HTTP/11", "", "HTTP/1.1 "),
  },
);

const rangeSpec = fc.oneof(
  fc.tuple(fc.nat(3000), fc.option(fc.nat(3000), { nil: undefined })).map(([a, b]) => `${a}-${b ?? ""}`),
  fc.nat(3000).map((n) => `-${n}`),
  fc.constantFrom("", "-", "a-b", "5-1", "0-0", "99999999999999999999-"),
);
const qvalue = fc.constantFrom(
  "",
  ";q=0",
  ";q=1",
  ";q=0.5",
  ";q=0.001",
  ";q=1.000",
  ";q=2",
  ";q=",
  " ; q=0.9",
);
const coding = fc.constantFrom("gzip", "br", "identity", "*", "deflate", "x-gzip", "GZIP", "");

/** Fields a server acts on, with values both valid and not. */
const semanticField = fc.oneof(
  pieces(
    fc.tuple(coding, qvalue).map(([c, q]) => `${c}${q}, `),
    4,
  ).map((v) => `Accept-Encoding: ${v}`),
  fc
    .tuple(
      fc.oneof(
        { weight: 6, arbitrary: fc.constant("bytes=") },
        { weight: 1, arbitrary: fc.constantFrom("bytes =", "items=", "BYTES=") },
      ),
      fc.oneof(
        { weight: 4, arbitrary: rangeSpec.map((spec) => [spec]) },
        { weight: 1, arbitrary: fc.array(rangeSpec, { minLength: 2, maxLength: 3 }) },
      ),
    )
    .map(([unit, specs]) => `Range: ${unit}${specs.join(",")}`),
  fc
    .array(fc.oneof(fc.constantFrom(...ETAGS), fc.constantFrom("*", 'W/"home"', '"x"', "home")), {
      minLength: 1,
      maxLength: 3,
    })
    .map((tags) => `If-None-Match: ${tags.join(", ")}`),
  fc.constantFrom(...DATES, "garbage", "").map((d) => `If-Modified-Since: ${d}`),
  fc.constantFrom(...ETAGS, ...DATES, "nonsense").map((v) => `If-Range: ${v}`),
  fc.constantFrom("close", "keep-alive", "Keep-Alive, close", "upgrade", "").map((v) => `Connection: ${v}`),
  fc
    .oneof(
      { weight: 4, arbitrary: fc.constantFrom("0", "3", "10") },
      { weight: 1, arbitrary: fc.constantFrom("-1", "1048577", "3, 3", "3, 4", "abc") },
    )
    .map((v) => `Content-Length: ${v}`),
  fc.constantFrom("X-Custom: value", "Accept: */*", "User-Agent: fuzz/1.0", "Cookie: a=b"),
);
/** Fields that break the grammar or the framing. */
const brokenField = fc.oneof(
  fc.constantFrom("Host:", "host: b", "Host: a:8080"),
  fc.constantFrom("chunked", "gzip, chunked", "identity").map((v) => `Transfer-Encoding: ${v}`),
  fc.constantFrom("X:y", " Leading: space", "No-Colon", "Bad Name: v", "X-Obs: a\r\n b", "X: \x01"),
  fc.string({ maxLength: 20 }).map((v) => `X-Random: ${v}`),
);
const field = fc.oneof({ weight: 12, arbitrary: semanticField }, { weight: 1, arbitrary: brokenField });

const lineEnd = fc.oneof(
  { weight: 60, arbitrary: fc.constant("\r\n") },
  { weight: 1, arbitrary: fc.constantFrom("\n", "\r", "\r\r\n") },
);

/** Mostly one Host field first, as clients send it; sometimes none. */
const host = fc.oneof(
  { weight: 9, arbitrary: fc.constant("Host: a\r\n") },
  { weight: 1, arbitrary: fc.constant("") },
);

const generatedOne = fc
  .tuple(
    method,
    target,
    version,
    host,
    fc.array(fc.tuple(field, lineEnd), { maxLength: 5 }),
    lineEnd,
    fc.oneof(
      { weight: 8, arbitrary: fc.constant("") },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    ),
  )
  .map(
    ([m, t, v, h, fields, end, body]) =>
      `${m} ${t} ${v}\r\n${h}${fields.map(([f, e]) => `${f}${e}`).join("")}${end}${body}`,
  );

/** One to three generated requests back to back, as a pipelining client sends them. */
const generated = fc
  .oneof(
    { weight: 3, arbitrary: generatedOne.map((one) => [one]) },
    { weight: 1, arbitrary: fc.array(generatedOne, { minLength: 2, maxLength: 3 }) },
  )
  .map((requests) => Buffer.from(requests.join(""), "utf8"));

// --- the runs --------------------------------------------------------------------------------

const servers = new Map<string, { server: NativeServer; port: number }>();
after(async () => {
  for (const { server } of servers.values()) await server.stop();
});

async function nativeServer(target: Target): Promise<{ server: NativeServer; port: number }> {
  let running = servers.get(target.name);
  if (!running) {
    const port = await freePort();
    const server = startNative(target, pack, { PORT: String(port), SPECK_WORKERS: "1" });
    await waitForPort(port);
    running = { server, port };
    servers.set(target.name, running);
  }
  return running;
}

interface FuzzRun {
  sent: number;
  /** How often each status was answered: a generator that only provokes 400s tests little. */
  statuses: Map<number, number>;
}

/** Sends `count` samples of `requests` to both servers, within the time budget. */
async function fuzz(
  target: Target,
  requests: fc.Arbitrary<Buffer>,
  count: number,
  seed: number,
): Promise<FuzzRun> {
  const { server, port } = await nativeServer(target);
  const started = Date.now();
  const run: FuzzRun = { sent: 0, statuses: new Map() };
  for (const bytes of fc.sample(requests, { numRuns: count * SCALE, seed })) {
    if (Date.now() - started > BUDGET_MS) break;
    const [native, oracle] = await Promise.all([
      exchange(port, bytes, 15_000),
      exchange(preview.port, bytes, 15_000),
    ]);
    assert.equal(server.process.exitCode, null, `the native server exited: ${server.stderr()}`);
    assert.equal(
      native,
      oracle,
      `seed ${seed}, request ${run.sent}: ${JSON.stringify(bytes.toString("latin1")).slice(0, 2000)}`,
    );
    for (const status of statuses(native)) run.statuses.set(status, (run.statuses.get(status) ?? 0) + 1);
    run.sent++;
  }
  return run;
}

function report(t: TestContext, runs: FuzzRun[], count: number): void {
  const sent = runs.reduce((sum, run) => sum + run.sent, 0);
  const seen = new Map<number, number>();
  for (const run of runs)
    for (const [status, n] of run.statuses) seen.set(status, (seen.get(status) ?? 0) + n);
  const spread = [...seen].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
  t.diagnostic(
    `${sent} of ${count * SCALE} requests within the ${BUDGET_MS / 1000} s budget: ${spread.join(" ")}`,
  );
  // the budget exists for slow machines, but a run that reaches only a sliver of its count tests nothing
  assert.ok(sent >= Math.min(200, count * SCALE), `only ${sent} requests went out within the budget`);
  for (const status of [200, 304, 400]) assert.ok(seen.has(status), `no request provoked a ${status}`);
}

test("x64: mutated corpus requests get the preview's exact answers from the native server", async (t) => {
  report(t, [await fuzz(TARGETS.x64, mutated, 3000, SEED)], 3000);
});

test("x64: generated requests get the preview's exact answers from the native server", async (t) => {
  report(t, [await fuzz(TARGETS.x64, generated, 3000, SEED + 1)], 3000);
});

test("a64 under qemu: mutated and generated requests get the preview's exact answers", async (t) => {
  if (!requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")) return;
  const runs = [
    await fuzz(TARGETS.a64, mutated, 400, SEED + 2),
    await fuzz(TARGETS.a64, generated, 400, SEED + 3),
  ];
  report(t, runs, 800);
});
