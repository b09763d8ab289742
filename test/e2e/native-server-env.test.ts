// The native server's run-time settings: the access log (SPECK_LOG=clf|json, batched, never
// blocking), the bind address (SPECK_ADDR, IPv4 and IPv6, --health following it), the raised
// descriptor limit, and one clear line with exit code 2 for every bad value.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { test } from "node:test";
import { TARGETS } from "../../src/native/target/index.ts";
import type { Target } from "../../src/native/target/types.ts";
import { exchange } from "../corpus/run.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { startNative, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const x64 = TARGETS.x64;
const CLF = /^(\S+) - - \[(\d\d)\/(\w{3})\/(\d{4}):(\d\d:\d\d:\d\d) \+0000\] "(.*)" (\d{3}) (\d+)$/;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(check(), `timed out waiting for ${what}`);
}

test("SPECK_LOG=clf: one Common Log Format line per response, request lines escaped", async () => {
  const port = await freePort();
  const server = startNative(x64, CORPUS_SITE, { PORT: String(port), SPECK_WORKERS: "1", SPECK_LOG: "clf" });
  try {
    await waitForPort(port);
    const home = await fetch(`http://127.0.0.1:${port}/`);
    const body = await home.arrayBuffer();
    const missing = await fetch(`http://127.0.0.1:${port}/missing.png`, { method: "HEAD" });
    assert.equal(missing.status, 404);
    // pipelined, one with a quote and a control byte in its target, then a bad request
    await exchange(port, 'GET /about HTTP/1.1\r\nHost: a\r\n\r\nGET /"q\x01 HTTP/1.1\r\nHost: a\r\n\r\n');
    await exchange(port, "BREW / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(() => server.stdout().split("\n").length > 5, "five log lines");
    const lines = server.stdout().trimEnd().split("\n");
    const parsed = lines.map((line) => {
      const m = CLF.exec(line);
      assert.ok(m, `not a CLF line: ${JSON.stringify(line)}`);
      return { remote: m[1], request: m[6], status: Number(m[7]), bytes: Number(m[8]), month: m[3] };
    });
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    assert.equal(parsed[0]!.month, months[new Date().getUTCMonth()]);
    assert.deepEqual(
      parsed.map(({ remote, request, status }) => ({ remote, request, status })),
      [
        { remote: "127.0.0.1", request: "GET / HTTP/1.1", status: 200 },
        { remote: "127.0.0.1", request: "HEAD /missing.png HTTP/1.1", status: 404 },
        { remote: "127.0.0.1", request: "GET /about HTTP/1.1", status: 200 },
        { remote: "127.0.0.1", request: "GET /\\x22q\\x01 HTTP/1.1", status: 400 },
        { remote: "127.0.0.1", request: "BREW / HTTP/1.1", status: 501 },
      ],
    );
    assert.equal(parsed[0]!.bytes, body.byteLength);
    assert.equal(parsed[1]!.bytes, 0, "HEAD sends no body");
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("SPECK_LOG=json: one JSON object per response, over IPv4 and IPv6", async () => {
  const port = await freePort();
  const server = startNative(x64, CORPUS_SITE, { PORT: String(port), SPECK_WORKERS: "1", SPECK_LOG: "json" });
  try {
    await waitForPort(port);
    const before = Math.floor(Date.now() / 1000);
    await (
      await fetch(`http://127.0.0.1:${port}/long.txt`, { headers: { range: "bytes=0-9" } })
    ).arrayBuffer();
    await (await fetch(`http://[::1]:${port}/about`)).arrayBuffer();
    await exchange(port, 'GET /a\\"b\x7f HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => server.stdout().split("\n").length > 3, "three log lines");
    const lines = server.stdout().trimEnd().split("\n");
    assert.ok(lines[2]!.includes(String.raw`"GET /a\u005c\u0022b\u007f HTTP/1.1"`), lines[2]);
    const [ranged, v6, escaped] = lines.map((line) => JSON.parse(line));
    assert.deepEqual(Object.keys(ranged), ["time", "remote", "request", "status", "bytes"]);
    assert.ok(Math.abs(ranged.time - before) <= 2, `time ${ranged.time} is now`);
    assert.deepEqual(
      { remote: ranged.remote, request: ranged.request, status: ranged.status, bytes: ranged.bytes },
      { remote: "127.0.0.1", request: "GET /long.txt HTTP/1.1", status: 206, bytes: 10 },
    );
    assert.equal(v6.remote, "0:0:0:0:0:0:0:1");
    assert.equal(v6.request, "GET /about HTTP/1.1");
    assert.equal(escaped.request, 'GET /a\\"b\x7f HTTP/1.1');
    assert.equal(escaped.status, 400);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("two workers sharing stdout: every line whole, long request lines cut at 600 bytes", async () => {
  const port = await freePort();
  const server = startNative(x64, CORPUS_SITE, { PORT: String(port), SPECK_WORKERS: "2", SPECK_LOG: "json" });
  try {
    await waitForPort(port);
    const long = `/about?${"q".repeat(3000)}`;
    // 120 lines of about 700 bytes: under what the pipe and the two workers' log buffers hold
    // together, so none may be dropped however slowly this process reads
    const batch = `GET ${long} HTTP/1.1\r\nHost: a\r\n\r\n`.repeat(5);
    await Promise.all(
      Array.from({ length: 20 }, () =>
        exchange(port, `${batch}GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`),
      ),
    );
    await until(() => server.stdout().split("\n").length > 120, "120 log lines");
    const lines = server
      .stdout()
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    assert.equal(lines.length, 120);
    const cut = lines.filter((l) => l.request.startsWith("GET /about?"));
    assert.equal(cut.length, 100);
    for (const l of cut) assert.equal(l.request, `GET ${long}`.slice(0, 600));
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("the access log never blocks serving: with nobody reading stdout, requests are still answered", async () => {
  const port = await freePort();
  const server = startNative(x64, CORPUS_SITE, { PORT: String(port), SPECK_WORKERS: "1", SPECK_LOG: "json" });
  server.process.stdout!.pause();
  try {
    await waitForPort(port);
    // about 3,000 lines: far more than a pipe holds (64 KiB) while nobody reads it
    const request = "GET /about HTTP/1.1\r\nHost: a\r\n\r\n".repeat(100);
    for (let i = 0; i < 30; i++) {
      const raw = await exchange(port, `${request}GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      assert.equal(raw.split("HTTP/1.1 200 OK").length - 1, 101, `batch ${i}: every response arrived`);
    }
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

for (const [address, other] of [
  ["127.0.0.1", "::1"],
  ["::1", "127.0.0.1"],
] as const) {
  test(`SPECK_ADDR=${address}: listens there only, and --health checks that address`, async () => {
    const port = await freePort();
    const env = { PORT: String(port), SPECK_WORKERS: "1", SPECK_ADDR: address };
    const server = startNative(x64, CORPUS_SITE, env);
    try {
      await waitForPort(port, address);
      await assert.rejects(waitForPort(port, other, 300), /nothing listens/);
      const health = spawnSync(server.process.spawnargs[0]!, ["--health"], { env });
      assert.equal(health.status, 0, `health: ${health.stderr}`);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
}

test("SPECK_ADDR accepts the IPv6 text forms and IPv4-mapped addresses", async () => {
  for (const [address, connectTo] of [
    ["0:0:0:0:0:0:0:1", "::1"],
    ["::0:1", "::1"],
    ["0::1", "::1"],
    ["::ffff:7f00:1", "127.0.0.1"],
    ["::", "::1"],
    ["0.0.0.0", "127.0.0.1"],
  ] as const) {
    const port = await freePort();
    const server = startNative(x64, CORPUS_SITE, {
      PORT: String(port),
      SPECK_WORKERS: "1",
      SPECK_ADDR: address,
    });
    try {
      await waitForPort(port, connectTo, 5000);
    } finally {
      assert.equal(await server.stop(), 0, `${address}: ${server.stderr()}`);
    }
  }
});

test("SPECK_IDLE_TIMEOUT: the keep-alive idle time-out in seconds, at run time", async (t) => {
  /** Whether a keep-alive connection that got one answer is closed by the server within 3.5 s. */
  const closedWhenIdle = async (target: Target, env: Record<string, string>): Promise<boolean> => {
    const port = await freePort();
    const server = startNative(target, CORPUS_SITE, { PORT: String(port), SPECK_WORKERS: "1", ...env });
    try {
      await waitForPort(port);
      const socket = connect(port, "127.0.0.1");
      let answer = "";
      let closed = false;
      socket.on("data", (d) => (answer += d.toString("latin1")));
      socket.on("close", () => (closed = true));
      socket.write("GET /about HTTP/1.1\r\nHost: a\r\n\r\n");
      for (let i = 0; i < 140 && !closed; i++) await new Promise((r) => setTimeout(r, 25));
      socket.destroy();
      assert.match(answer, /^HTTP\/1\.1 200 /);
      return closed;
    } finally {
      assert.equal(await server.stop(), 0);
    }
  };
  assert.equal(await closedWhenIdle(x64, { SPECK_IDLE_TIMEOUT: "1" }), true, "closed after about a second");
  assert.equal(await closedWhenIdle(x64, {}), false, "open for the build's 75 s");
  if (!requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")) return;
  assert.equal(await closedWhenIdle(TARGETS.a64, { SPECK_IDLE_TIMEOUT: "1" }), true, "arm64: closed");
  assert.equal(await closedWhenIdle(TARGETS.a64, {}), false, "arm64: open");
});

test("bad settings: one line naming the variable, exit code 2", async () => {
  const cases: [string, string][] = [
    ["PORT", "http"],
    ["PORT", "70000"],
    ["PORT", ""],
    ["SPECK_WORKERS", "0"],
    ["SPECK_WORKERS", "4x"],
    ["SPECK_WORKERS", "257"],
    ["SPECK_LOG", "yes"],
    ["SPECK_LOG", "jsonl"],
    ["SPECK_ADDR", "1.2.3"],
    ["SPECK_ADDR", "256.0.0.1"],
    ["SPECK_ADDR", "1::2::3"],
    ["SPECK_ADDR", "1:2:3:4:5:6:7:8:9"],
    ["SPECK_ADDR", "12345::"],
    ["SPECK_ADDR", "localhost"],
    ["SPECK_IDLE_TIMEOUT", "0"],
    ["SPECK_IDLE_TIMEOUT", "86401"],
    ["SPECK_IDLE_TIMEOUT", "10s"],
  ];
  for (const [name, value] of cases) {
    const server = startNative(x64, CORPUS_SITE, { PORT: "1", [name]: value });
    assert.equal(await server.exited, 2, `${name}=${value}`);
    assert.equal(server.stderr(), `speck: cannot use the environment variable ${name}=${value}\n`);
  }
});

test("the descriptor limit is raised to the hard limit, up to the connection table's 16384", async (t) => {
  if (!requireCommands(t, ["prlimit"], "apt-get install util-linux")) return;
  // a hard limit above this process's own needs privileges: stay at or below it
  const [, , ownHard] = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"))!;
  const high = Math.min(Number(ownHard), 20000);
  for (const [hard, expected] of [
    [Math.min(5000, high), Math.min(5000, high)],
    [high, Math.min(high, 16384)],
  ]) {
    const port = await freePort();
    const server = startNative(
      x64,
      CORPUS_SITE,
      { PORT: String(port), SPECK_WORKERS: "1" },
      { wrap: ["prlimit", `--nofile=64:${hard}`] },
    );
    try {
      await waitForPort(port);
      const limits = readFileSync(`/proc/${server.process.pid}/limits`, "utf8");
      const [, soft] = /Max open files\s+(\d+)/.exec(limits)!;
      assert.equal(Number(soft), expected, `hard limit ${hard}`);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  }
});

test("arm64 under qemu: the access log and the bind address", async (t) => {
  if (!requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")) return;
  const port = await freePort();
  const env = { PORT: String(port), SPECK_WORKERS: "1", SPECK_LOG: "clf", SPECK_ADDR: "127.0.0.1" };
  const server = startNative(TARGETS.a64, CORPUS_SITE, env);
  try {
    await waitForPort(port);
    await (await fetch(`http://127.0.0.1:${port}/about`)).arrayBuffer();
    await until(() => server.stdout().includes("\n"), "a log line");
    const m = CLF.exec(server.stdout().trimEnd());
    assert.ok(m, server.stdout());
    assert.deepEqual([m[1], m[6], m[7]], ["127.0.0.1", "GET /about HTTP/1.1", "200"]);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
