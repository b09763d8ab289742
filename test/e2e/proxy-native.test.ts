// The native server's reverse proxy against the preview's, over real upstreams on loopback: a Node
// upstream that records the bytes it receives and answers from scripts (lengths, chunks, the close,
// 1xx, hop-by-hop fields, garbage, slowness, stalls, deaths), nginx, an IPv6 upstream, names from a
// hosts file and from a DNS server written here (node:dgram), large bodies both ways (curl).
// Natively on x86-64; a subset on arm64 under qemu-aarch64-static. Both servers must send the same
// bytes to the client (chunk boundaries aside, Date masked) and to the upstream.

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { compileAccess } from "../../src/access/compile.ts";
import { encodeAccessSection } from "../../src/access/section.ts";
import { type ServerOptions, serverFeatures } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import type { Target } from "../../src/native/target/types.ts";
import { writePack } from "../../src/pack/write.ts";
import { type AccessLogEntry, type PreviewServer, startPreview } from "../../src/preview/index.ts";
import { accessErrorPages } from "../../src/site/error-pages.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { type NativeServer, startNative, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { type DnsServer, startDnsServer } from "../support/resolver.ts";
import { requireCommands } from "../support/tools.ts";
import {
  answer,
  clientResponses,
  type Script,
  sha,
  slowly,
  startUpstream,
  type Upstream,
} from "../support/upstream.ts";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "speck-proxy-native-"));
chmodSync(work, 0o755); // nginx's workers read under it
const BIG = randomBytes(12 * 1024 * 1024);
const MiB = 1 << 20;

/** The upstream's answers, by the path it is asked for (after the rule's base, /v1). */
function route(path: string): Script {
  const p = path.replace(/^\/v1/, "");
  const json = (req: { path: string; body: Buffer }) =>
    JSON.stringify({ path: req.path, body: sha(req.body) });
  if (p.startsWith("/echo"))
    return (req, socket) => {
      const body = json(req);
      // no body for HEAD: Node reads one as the start of another response (and fails, when it
      // comes with the head), the native server ignores it
      const head = req.head.startsWith("HEAD ");
      socket.end(
        `HTTP/1.1 201 Made\r\nX-Up-Hop: 1\r\nConnection: X-Up-Hop\r\nKeep-Alive: timeout=5\r\nX-Kept: yes\r\nContent-Length: ${body.length}\r\n\r\n${head ? "" : body}`,
      );
    };
  if (p.startsWith("/chunked"))
    return slowly(
      [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n",
        "5;name=value\r\nhello\r\n",
        "6\r\n world\r\n0\r\nX-Trailer: dropped\r\n\r\n",
      ],
      5,
    );
  if (p.startsWith("/closed")) return slowly(["HTTP/1.0 200 OK\r\nX-B: 2\r\n\r\n", "up to ", "the close"], 5);
  if (p.startsWith("/empty")) return answer("HTTP/1.1 204 No Content\r\nX-C: 3\r\n\r\n");
  if (p.startsWith("/same"))
    return answer('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 99\r\n\r\n');
  if (p.startsWith("/interim"))
    return slowly(
      [
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      ],
      5,
    );
  if (p.startsWith("/hop"))
    return answer(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Listed\r\nX-Listed: a\r\nKeep-Alive: 5\r\nTE: x\r\nTrailer: y\r\nUpgrade: z\r\nProxy-Connection: q\r\nX-Stays:  v  \r\nContent-Length: 3\r\n\r\nabc",
    );
  if (p.startsWith("/odd"))
    return answer("HTTP/1.1 299  Odd \xe9 \r\nX-Obs: \xe9t\xe9\r\nContent-Length: 0\r\n\r\n");
  if (p.startsWith("/garbage")) return answer("hello\r\n\r\n");
  if (p.startsWith("/clte"))
    return answer(
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
  if (p.startsWith("/hangup"))
    return (_req, socket) => {
      socket.end();
    };
  if (p.startsWith("/slow")) return slowly(["", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlate\n"], 1500);
  if (p.startsWith("/stall"))
    return (_req, socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxxxxxxxxxx");
    };
  if (p.startsWith("/die"))
    return (_req, socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
      socket.write(Buffer.alloc(100_000, 120), () => {
        socket.destroy();
      });
    };
  if (p.startsWith("/mid-chunked"))
    return slowly(
      [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ...[0, 1, 2].map((i) => `9c40\r\n${String.fromCharCode(97 + i).repeat(40_000)}\r\n`),
        "0\r\n\r\n",
      ],
      5,
    );
  if (p.startsWith("/mid-closed"))
    return slowly(["HTTP/1.1 200 OK\r\n\r\n", BIG.subarray(0, 70_000), BIG.subarray(70_000, 120_000)], 5);
  if (p.startsWith("/big-closed"))
    return (_req, socket) => {
      socket.write("HTTP/1.1 200 OK\r\n\r\n");
      socket.end(BIG);
    };
  if (p.startsWith("/big-length"))
    return (_req, socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BIG.length}\r\n\r\n`);
      socket.end(BIG);
    };
  if (p.startsWith("/big-chunked"))
    return (_req, socket) => {
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (let at = 0; at < BIG.length; at += MiB) {
        socket.write(`${MiB.toString(16)}\r\n`);
        socket.write(BIG.subarray(at, at + MiB));
        socket.write("\r\n");
      }
      socket.end("0\r\n\r\n");
    };
  return answer("HTTP/1.1 404 Not Found\r\nContent-Length: 13\r\n\r\nupstream 404\n");
}

let upstream: Upstream;
let upstream6: Upstream;
let closedPort = 0;
let dns: DnsServer;
/** The names the DNS server knows (changed by the tests). */
const dnsNames: Record<string, string[]> = {
  "svc.example.test": ["127.0.0.1"],
  six: ["::1"],
  "moving.example.test": ["127.0.0.1"],
  "retried.example.test": ["127.0.0.1"],
};
let silentDns: DnsServer;
const resolverFiles = { hosts: join(work, "hosts"), resolvConf: join(work, "resolv.conf"), dnsPort: 0 };

function section(trusted: boolean): Uint8Array {
  const up = `http://127.0.0.1:${upstream.port}`;
  return encodeAccessSection(
    compileAccess({
      auth: [],
      ipRules: [],
      trustedProxies: trusted ? ["127.0.0.1"] : [],
      proxy: [
        { path: "/api", upstream: `${up}/v1`, connectTimeout: 5000, timeout: 30_000, maxBodySize: 16 * MiB },
        { path: "/small", upstream: `${up}/v1`, connectTimeout: 5000, timeout: 30_000, maxBodySize: 1000 },
        { path: "/t", upstream: `${up}/v1`, connectTimeout: 5000, timeout: 500, maxBodySize: 1000 },
        {
          path: "/down",
          upstream: `http://127.0.0.1:${closedPort}`,
          connectTimeout: 5000,
          timeout: 30_000,
          maxBodySize: 0,
        },
        {
          path: "/v6",
          upstream: `http://[::1]:${upstream6.port}/b`,
          connectTimeout: 5000,
          timeout: 30_000,
          maxBodySize: 0,
        },
        {
          path: "/byname",
          upstream: `http://Upstream.Test:${upstream.port}/v1`,
          connectTimeout: 5000,
          timeout: 30_000,
          maxBodySize: 0,
        },
        {
          path: "/dns",
          upstream: `http://svc:${upstream.port}/v1`,
          connectTimeout: 5000,
          timeout: 30_000,
          maxBodySize: 0,
        },
        {
          path: "/retry",
          upstream: `http://retried:${upstream.port}/v1`,
          connectTimeout: 5000,
          timeout: 30_000,
          maxBodySize: 0,
        },
        {
          path: "/aaaa",
          upstream: `http://six:${upstream6.port}/b`,
          connectTimeout: 5000,
          timeout: 30_000,
          maxBodySize: 0,
        },
        {
          path: "/nx",
          upstream: `http://nowhere.test:${upstream.port}`,
          connectTimeout: 5000,
          timeout: 30_000,
          maxBodySize: 0,
        },
        {
          path: "/moving",
          upstream: `http://moving.example.test.:${upstream.port}/v1`,
          connectTimeout: 5000,
          timeout: 30_000,
          maxBodySize: 0,
        },
      ],
    }),
  );
}

interface Pair {
  native: NativeServer;
  nativePort: number;
  preview: PreviewServer;
  log: AccessLogEntry[];
}

async function startPair(target: Target, trusted: boolean): Promise<Pair> {
  const bytes = section(trusted);
  const pack = writePack({ ...CORPUS_SITE, access: { section: bytes, errors: accessErrorPages() } });
  const nativePort = await freePort();
  const server: ServerOptions = { features: serverFeatures(pack), resolver: resolverFiles };
  const native = startNative(
    target,
    pack,
    { PORT: String(nativePort), SPECK_WORKERS: "1", SPECK_ADDR: "127.0.0.1", SPECK_LOG: "clf" },
    { server },
  );
  const log: AccessLogEntry[] = [];
  const preview = await startPreview({ pack, port: 0, onRequest: (e) => log.push(e) });
  await waitForPort(nativePort);
  return { native, nativePort, preview, log };
}

before(async () => {
  upstream = await startUpstream(route);
  upstream6 = await startUpstream(
    (path) => answer(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length + 1}\r\n\r\n${path}\n`),
    { host: "::1" },
  );
  closedPort = await freePort();
  dns = await startDnsServer(dnsNames);
  silentDns = await startDnsServer({}, { silent: true, host: "127.0.0.2", port: dns.port });
  resolverFiles.dnsPort = dns.port;
  writeFileSync(
    resolverFiles.hosts,
    `# test hosts\n127.0.0.1\tlocalhost\n10.9.9.9 other\n127.0.0.1 x upstream.test # comment\n`,
  );
  writeFileSync(resolverFiles.resolvConf, "nameserver 127.0.0.1\nsearch example.test\noptions ndots:1\n");
});

after(async () => {
  await upstream.close();
  await upstream6.close();
  await dns.close();
  await silentDns.close();
  rmSync(work, { recursive: true, force: true });
});

/** Sends `bytes` on one connection and half-closes; everything received until the server closes. */
function exchange(port: number, bytes: string | Buffer, ms = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" }, () => {
      socket.end(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
    });
    const got: Buffer[] = [];
    socket.on("data", (d: Buffer) => got.push(d));
    socket.on("error", (e) => (got.length > 0 ? resolve(Buffer.concat(got)) : reject(e)));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${ms} ms: ${Buffer.concat(got).toString("latin1").slice(0, 300)}`));
    }, ms);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
  });
}

/** What the preview and the native server send the client and the upstream for `request`. */
async function both(pair: Pair, request: string, bodiless: (i: number) => boolean = () => false) {
  const first = upstream.seen.length;
  const previewRaw = await exchange(pair.preview.port, request);
  const previewSeen = upstream.seen.slice(first).map((r) => ({ head: r.head, body: sha(r.body) }));
  const second = upstream.seen.length;
  const nativeRaw = await exchange(pair.nativePort, request);
  const nativeSeen = upstream.seen.slice(second).map((r) => ({ head: r.head, body: sha(r.body) }));
  return {
    preview: clientResponses(previewRaw, bodiless),
    native: clientResponses(nativeRaw, bodiless),
    previewSeen,
    nativeSeen,
  };
}

const CLOSE = "Connection: close\r\n";
const DETERMINISTIC: { name: string; request: string; head?: boolean }[] = [
  {
    name: "path, query, body, X-Forwarded-*, hop-by-hop fields both ways, then the site",
    request:
      'POST /api/echo/a%20b/%C3%A9?q=1&r=%2F&x="<>" HTTP/1.1\r\nHost: site.example\r\nContent-Length: 14\r\n' +
      "Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\nUpgrade: h2c\r\n" +
      "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-End:  kept \r\n\r\nname=speck&x=1" +
      `GET /index.html HTTP/1.1\r\nHost: site.example\r\n${CLOSE}\r\n`,
  },
  { name: "the prefix alone maps to the base", request: `GET /api HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n` },
  {
    name: "a trailing slash and dot segments",
    request: `GET /x/../api/./echo/ HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`,
  },
  { name: "HTTP/1.0 without Host gets the upstream's", request: "GET /api/echo HTTP/1.0\r\n\r\n" },
  {
    name: "HTTP/1.0 keep-alive, then another request",
    request: "GET /api/echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /api/echo/2 HTTP/1.0\r\n\r\n",
  },
  {
    name: "Expect: 100-continue is answered by the proxy",
    request:
      "PUT /api/echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n" +
      `${CLOSE}\r\nabc`,
  },
  {
    name: "POST without a body gets Content-Length: 0",
    request: `POST /api/echo HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`,
  },
  {
    name: "lower-case and unknown methods",
    request: `get /api/echo HTTP/1.1\r\nHost: a\r\n\r\nPROPFIND /api/echo HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`,
  },
  {
    name: "chunked upstream, rechunked for HTTP/1.1",
    request: `GET /api/chunked HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`,
  },
  { name: "chunked upstream, raw then closed for HTTP/1.0", request: "GET /api/chunked HTTP/1.0\r\n\r\n" },
  {
    name: "a body up to the upstream's close, rechunked, keep-alive after it",
    request: `GET /api/closed HTTP/1.1\r\nHost: a\r\n\r\nGET /api/echo HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`,
  },
  {
    name: "a body up to the close, to HTTP/1.0",
    request: "GET /api/closed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  },
  {
    name: "120 KB in large chunks, rechunked",
    request: `GET /api/mid-chunked HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`,
  },
  {
    name: "120 KB up to the close, rechunked",
    request: `GET /api/mid-closed HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`,
  },
  {
    name: "204 and 304",
    request: `GET /api/empty HTTP/1.1\r\nHost: a\r\n\r\nGET /api/same HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`,
  },
  { name: "HEAD", request: `HEAD /api/echo HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`, head: true },
  { name: "1xx heads are skipped", request: `GET /api/interim HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n` },
  { name: "hop-by-hop response fields", request: `GET /api/hop HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n` },
  { name: "an odd status line and obs-text", request: `GET /api/odd HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n` },
  { name: "garbage from the upstream is a 502", request: "GET /api/garbage HTTP/1.1\r\nHost: a\r\n\r\n" },
  {
    name: "Content-Length with Transfer-Encoding is a 502",
    request: "GET /api/clte HTTP/1.1\r\nHost: a\r\n\r\n",
  },
  {
    name: "an upstream that closes at once is a 502",
    request: "GET /api/hangup HTTP/1.1\r\nHost: a\r\n\r\n",
  },
  {
    name: "413 above maxBodySize, and the connection closes",
    request: "POST /small/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\nGET / HTTP/1.1\r\n\r\n",
  },
  {
    name: "HEAD above maxBodySize",
    request: "HEAD /small/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n",
    head: true,
  },
  {
    name: "a body over 1 MiB elsewhere is the site's 413",
    request: `POST /index.html HTTP/1.1\r\nHost: a\r\nContent-Length: ${2 * MiB}\r\n\r\n`,
  },
  { name: "a refused port is a 502", request: "GET /down/x HTTP/1.1\r\nHost: a\r\n\r\n" },
  { name: "an IPv6 upstream", request: "GET /v6/x?y HTTP/1.0\r\n\r\n" },
  {
    name: "pipelined behind proxied requests, client shut after sending",
    request: `GET /api/closed HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET /api/empty HTTP/1.1\r\nHost: a\r\n\r\nGET /api/echo HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`,
  },
];

/** The native server's access log lines (CLF) as the preview's entries: request line, status, bytes. */
function nativeLog(pair: Pair): string[] {
  return pair.native
    .stdout()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.replace(/^.*?\] "/, "").replace(/ HTTP\/1\.[01]" /, " "));
}
/** The preview's entries as CLF writes request lines: `"`, `\\`, controls and bytes above ~ as \\xHH. */
const clf = (text: string) =>
  text.replace(/["\\\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
const previewLog = (pair: Pair) => pair.log.map((e) => clf(`${e.method} ${e.target} ${e.status} ${e.bytes}`));

/** Asserts that both servers sent the same and logged the same, and returns the native side. */
async function same(pair: Pair, c: { name: string; request: string; head?: boolean }) {
  const logged = [nativeLog(pair).length, pair.log.length] as const;
  const r = await both(pair, c.request, () => c.head === true);
  assert.deepEqual(r.native, r.preview, `${c.name}: the client's bytes`);
  assert.deepEqual(r.nativeSeen, r.previewSeen, `${c.name}: the upstream's bytes`);
  // the native log is written at the end of a loop turn: give it that turn
  for (let i = 0; i < 50 && nativeLog(pair).length - logged[0] < pair.log.length - logged[1]; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  // the preview logs a refusal of its parser without a request line ("- -"); the native server logs
  // the line as received
  const expected = previewLog(pair).slice(logged[1]);
  const actual = nativeLog(pair)
    .slice(logged[0])
    .map((line, i) => (expected[i]?.startsWith("- - ") ? line.replace(/^.* (\d{3} \d+)$/, "- - $1") : line));
  assert.deepEqual(actual, expected, `${c.name}: the access log`);
  return r;
}

for (const target of [TARGETS.x64, TARGETS.a64]) {
  const subset = target.name === "a64";
  test(`${target.name}: the native proxy sends what the preview sends, to the client and to the upstream`, async (t) => {
    if (subset && !requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")) return;
    const pair = await startPair(target, false);
    try {
      for (const c of subset ? DETERMINISTIC.slice(0, 9) : DETERMINISTIC) await same(pair, c);
      const first = await both(pair, DETERMINISTIC[0]!.request);
      assert.match(first.native[0]!.head, /^HTTP\/1\.1 201 Made\r\n/);
      assert.doesNotMatch(first.native[0]!.head, /X-Up-Hop|Keep-Alive/i);
      assert.match(
        first.nativeSeen[0]!.head,
        /\r\nX-Forwarded-For: 127\.0\.0\.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: site\.example\r\n/,
      );
      assert.doesNotMatch(first.nativeSeen[0]!.head, /X-Hop|Keep-Alive|TE:|Upgrade|6\.6\.6\.6/);
      // names, natively only (the preview asks the system resolver): the hosts file and DNS
      for (const path of ["/byname/echo", "/dns/echo"]) {
        const r = clientResponses(
          await exchange(pair.nativePort, `GET ${path} HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`),
        );
        assert.match(r[0]!.head, /^HTTP\/1\.1 201 /, path);
      }
    } finally {
      await pair.native.stop();
      await pair.preview.close();
    }
  });
}

test("x64: a connection accepted on a former upstream socket's fd starts afresh", async () => {
  const pair = await startPair(TARGETS.x64, false);
  try {
    // a keep-alive connection holds its fd; its exchange's upstream socket takes the next one,
    // which the following connection then gets
    const held = connect({ port: pair.nativePort, host: "127.0.0.1" });
    await new Promise<void>((resolve) => held.on("connect", () => resolve()));
    held.write("GET /api/echo HTTP/1.1\r\nHost: a\r\n\r\n");
    await new Promise<void>((resolve) => held.once("data", () => resolve()));
    for (let i = 0; i < 3; i++) {
      const r = clientResponses(
        await exchange(
          pair.nativePort,
          `POST /api/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n${CLOSE}\r\nhi`,
        ),
      );
      assert.match(r[0]!.head, /^HTTP\/1\.1 201 /, r[0]!.head);
    }
    held.destroy();
  } finally {
    await pair.native.stop();
    await pair.preview.close();
  }
});

test("x64: a trusted proxy's X-Forwarded-* are kept and extended", async () => {
  const pair = await startPair(TARGETS.x64, true);
  try {
    const r = await same(pair, {
      name: "trusted",
      request:
        "GET /api/echo HTTP/1.1\r\nHost: inner\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n" +
        `X-Forwarded-Proto: https\r\nX-Forwarded-Host: outer.example\r\n${CLOSE}\r\n`,
    });
    assert.match(
      r.nativeSeen[0]!.head,
      /X-Forwarded-For: 203\.0\.113\.7, 10\.0\.0\.1, 10\.0\.0\.2, 127\.0\.0\.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: outer\.example\r\n/,
    );
  } finally {
    await pair.native.stop();
    await pair.preview.close();
  }
});

test("x64: slow, stalled and dying upstreams: 504 before the head, cuts after it", async () => {
  const pair = await startPair(TARGETS.x64, false);
  try {
    await same(pair, { name: "slow", request: "GET /t/slow HTTP/1.1\r\nHost: a\r\n\r\n" });
    const slow = clientResponses(await exchange(pair.nativePort, "GET /t/slow HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert.match(slow[0]!.head, /^HTTP\/1\.1 504 /);
    for (const path of ["/t/stall", "/api/die"]) {
      const r = await both(pair, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
      assert.equal(r.native[0]!.head, r.preview[0]!.head, path);
      assert.equal(r.native.length, 1, `${path}: nothing after the cut`);
      assert.equal(r.native[0]!.complete, false, `${path}: the body is cut short`);
      assert.ok(r.native[0]!.body.length > 0, `${path}: what arrived was forwarded`);
    }
    const ok = clientResponses(await exchange(pair.nativePort, "GET /api/empty HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert.match(ok[0]!.head, /^HTTP\/1\.1 204 /, "the server is fine after all that");
  } finally {
    await pair.native.stop();
    await pair.preview.close();
  }
});

test("x64: upstream names from the hosts file and from DNS (search domains, AAAA, retries, re-resolution)", async () => {
  const pair = await startPair(TARGETS.x64, false);
  const get = async (path: string) =>
    clientResponses(await exchange(pair.nativePort, `GET ${path} HTTP/1.1\r\nHost: a\r\n${CLOSE}\r\n`))[0]!;
  try {
    const byName = await get("/byname/echo");
    assert.match(byName.head, /^HTTP\/1\.1 201 /, "Upstream.Test from the hosts file, case folded");
    dns.asked.length = 0;
    assert.match((await get("/dns/echo")).head, /^HTTP\/1\.1 201 /);
    assert.deepEqual(
      dns.asked,
      ["svc.example.test 1"],
      "a name with fewer dots than ndots: the search domain first",
    );
    assert.match((await get("/aaaa/q")).head, /^HTTP\/1\.1 200 /, "an AAAA record when there is no A");
    assert.match((await get("/nx/x")).head, /^HTTP\/1\.1 502 /, "a name that does not exist");
    // re-resolution: the cached address stops answering; the name now has another
    assert.match((await get("/moving/echo")).head, /^HTTP\/1\.1 201 /);
    const moved = await startUpstream(route, { host: "127.0.0.3", port: upstream.port });
    try {
      dnsNames["moving.example.test"] = ["127.0.0.3"];
      await upstream.close();
      dns.asked.length = 0;
      assert.match((await get("/moving/echo")).head, /^HTTP\/1\.1 201 /, "connect refused: resolved again");
      assert.deepEqual(dns.asked, ["moving.example.test 1"]);
    } finally {
      await moved.close();
      upstream = await startUpstream(route, { port: upstream.port });
    }
    // the first nameserver stays silent: the next one answers
    writeFileSync(
      resolverFiles.resolvConf,
      "nameserver 127.0.0.2\nnameserver 127.0.0.1\nsearch example.test\n",
    );
    dns.asked.length = 0;
    silentDns.asked.length = 0;
    assert.match((await get("/retry/echo")).head, /^HTTP\/1\.1 201 /);
    assert.ok(silentDns.asked.length >= 1 && dns.asked.length >= 1, "both servers were asked");
  } finally {
    writeFileSync(resolverFiles.resolvConf, "nameserver 127.0.0.1\nsearch example.test\noptions ndots:1\n");
    await pair.native.stop();
    await pair.preview.close();
  }
});

test("x64: large bodies both ways (12 MiB up; down with Content-Length, chunked and up to the close, rechunked)", async (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const pair = await startPair(TARGETS.x64, false);
  try {
    const file = join(work, "upload");
    writeFileSync(file, BIG);
    const url = `http://127.0.0.1:${pair.nativePort}`;
    const up = await run("curl", ["-s", "--data-binary", `@${file}`, `${url}/api/echo`], { maxBuffer: MiB });
    assert.equal(JSON.parse(up.stdout).body, sha(BIG), "12 MiB up");
    for (const path of ["/api/big-length", "/api/big-chunked", "/api/big-closed"]) {
      const down = await run("curl", ["-s", "-D", join(work, "h"), `${url}${path}`], {
        encoding: "buffer",
        maxBuffer: 64 * MiB,
      });
      assert.equal(sha(down.stdout), sha(BIG), path);
    }
    const http10 = clientResponses(
      await exchange(pair.nativePort, "GET /api/big-chunked HTTP/1.0\r\n\r\n", 20_000),
    );
    assert.equal(http10[0]!.framing, "close");
    assert.equal(sha(http10[0]!.body), sha(BIG), "HTTP/1.0: raw, then the close");
  } finally {
    await pair.native.stop();
    await pair.preview.close();
  }
});

test("x64: nginx as the upstream: a large static file, and what nginx sees", async (t) => {
  if (!requireCommands(t, ["nginx", "curl"], "apt-get install nginx-light curl")) return;
  const port = await freePort();
  const docroot = join(work, "nginx-root");
  mkdirSync(join(docroot, "v1"), { recursive: true });
  writeFileSync(join(docroot, "v1", "big.bin"), BIG);
  const conf = join(work, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off; worker_processes 1; pid ${join(work, "nginx.pid")}; error_log stderr;
events { worker_connections 64; }
http {
  access_log off; client_body_temp_path ${work}/nb; proxy_temp_path ${work}/np; fastcgi_temp_path ${work}/nf;
  uwsgi_temp_path ${work}/nu; scgi_temp_path ${work}/ns;
  server {
    listen 127.0.0.1:${port};
    root ${docroot};
    location = /v1/who { default_type text/plain; return 200 "$request_uri|$http_x_forwarded_for|$http_x_forwarded_host|$http_x_forwarded_proto|$http_connection\\n"; }
  }
}
`,
  );
  const nginx: ChildProcess = spawn("nginx", ["-c", conf, "-p", work], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const bytes = encodeAccessSection(
    compileAccess({
      auth: [],
      ipRules: [],
      trustedProxies: [],
      proxy: [
        {
          path: "/api",
          upstream: `http://127.0.0.1:${port}/v1`,
          connectTimeout: 5000,
          timeout: 30_000,
          maxBodySize: 0,
        },
      ],
    }),
  );
  const pack = writePack({ ...CORPUS_SITE, access: { section: bytes, errors: accessErrorPages() } });
  const nativePort = await freePort();
  const native = startNative(
    TARGETS.x64,
    pack,
    { PORT: String(nativePort), SPECK_WORKERS: "1" },
    { server: { features: serverFeatures(pack) } },
  );
  try {
    await waitForPort(port);
    await waitForPort(nativePort);
    const big = await run("curl", ["-s", `http://127.0.0.1:${nativePort}/api/big.bin`], {
      encoding: "buffer",
      maxBuffer: 64 * MiB,
    });
    assert.equal(sha(big.stdout), sha(BIG));
    const who = await run("curl", [
      "-s",
      "-H",
      "Host: front.example",
      `http://127.0.0.1:${nativePort}/api/who?x=1`,
      `http://127.0.0.1:${nativePort}/api/who`,
    ]);
    assert.equal(
      who.stdout,
      "/v1/who?x=1|127.0.0.1|front.example|http|close\n/v1/who|127.0.0.1|front.example|http|close\n",
    );
    const missing = clientResponses(
      await exchange(nativePort, "GET /api/nothing-here HTTP/1.1\r\nHost: a\r\n\r\n"),
    );
    assert.match(missing[0]!.head, /^HTTP\/1\.1 404 /);
    assert.match(missing[0]!.body.toString(), /nginx/);
  } finally {
    await native.stop();
    nginx.kill("SIGTERM");
    await new Promise((r) => nginx.on("exit", r));
  }
});
