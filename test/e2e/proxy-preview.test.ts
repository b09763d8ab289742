// The preview's reverse proxy against real upstreams on loopback: a Node server (echoing what it was
// sent, large bodies both ways, slow, dying mid-response, chunked to HTTP/1.0 clients) and nginx
// (a large static file, its own view of X-Forwarded-*), with curl and raw sockets as clients.

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type SpeckConfigInput, validateConfig } from "../../src/config/index.ts";
import { writePack } from "../../src/pack/write.ts";
import { type AccessLogEntry, type PreviewServer, startPreview } from "../../src/preview/index.ts";
import { compileSite } from "../../src/site/index.ts";
import { waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "speck-proxy-"));
chmodSync(work, 0o755); // nginx's workers (nobody) read the files under it
const root = join(work, "site");
mkdirSync(root, { recursive: true });
writeFileSync(join(root, "index.html"), "<h1>home</h1>\n");

const BIG = randomBytes(12 * 1024 * 1024);
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** What the echo upstream saw of each request. */
interface Seen {
  method: string;
  url: string;
  headers: string[];
  bodySha: string;
  bodyLength: number;
}
const seen: Seen[] = [];
let upstream: Server;
let upstreamPort = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    seen.push({
      method: req.method!,
      url: req.url!,
      headers: req.rawHeaders,
      bodySha: sha(body),
      bodyLength: body.length,
    });
    const path = req.url!.replace(/^\/base/, "");
    if (path.startsWith("/echo")) {
      res.writeHead(201, "Made", {
        "X-Up-Hop": "1",
        Connection: "X-Up-Hop",
        "Keep-Alive": "timeout=5",
        "X-Kept": "yes",
      });
      res.end(JSON.stringify({ url: req.url, bodySha: sha(body) }));
    } else if (path.startsWith("/big-length")) {
      res.writeHead(200, { "Content-Length": BIG.length });
      res.end(BIG);
    } else if (path.startsWith("/big-chunked")) {
      for (let at = 0; at < BIG.length; at += 1 << 20) res.write(BIG.subarray(at, at + (1 << 20)));
      res.end();
    } else if (path.startsWith("/slow")) {
      setTimeout(() => res.end("late\n"), 1500);
    } else if (path.startsWith("/stall")) {
      res.writeHead(200, { "Content-Length": 100 });
      res.write("x".repeat(10));
    } else if (path.startsWith("/die")) {
      res.writeHead(200, { "Content-Length": 1_000_000 });
      res.write(Buffer.alloc(100_000, 120), () => res.socket!.destroy());
    } else if (path.startsWith("/empty")) {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404);
      res.end("upstream 404\n");
    }
  });
}

before(async () => {
  upstream = createHttpServer(handle);
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamPort = (upstream.address() as { port: number }).port;
});
after(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
  rmSync(work, { recursive: true, force: true });
});

async function serve(options: SpeckConfigInput): Promise<{ server: PreviewServer; log: AccessLogEntry[] }> {
  const config = validateConfig({ ...options, compression: { encodings: [] } }, "test", root);
  const { input } = await compileSite(config, { cacheDir: null });
  const log: AccessLogEntry[] = [];
  const server = await startPreview({
    pack: writePack(input),
    port: 0,
    onRequest: (e) => log.push(e),
  });
  return { server, log };
}

/** Sends raw bytes on one connection; everything received until the server closes or `ms` pass. */
function exchange(port: number, bytes: string | Buffer, ms = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" }, () => socket.write(bytes));
    const got: Buffer[] = [];
    socket.on("data", (d: Buffer) => got.push(d));
    socket.on("error", reject);
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
  });
}

const statuses = (text: string) => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));

test("forwards path, query, body and X-Forwarded-*; removes hop-by-hop fields both ways", async () => {
  const { server } = await serve({
    proxy: [{ path: "/api/", upstream: `http://127.0.0.1:${upstreamPort}/base/` }],
  });
  try {
    seen.length = 0;
    const body = "name=speck&x=1";
    const request =
      `POST /api/echo/a%20b?q=1&r=%2F HTTP/1.1\r\nHost: site.example\r\nContent-Length: ${body.length}\r\n` +
      "Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\nUpgrade: h2c\r\n" +
      "X-Forwarded-For: 6.6.6.6\r\nX-End: kept\r\n\r\n" +
      body +
      "GET / HTTP/1.1\r\nHost: site.example\r\nConnection: close\r\n\r\n";
    const got = (await exchange(server.port, request)).toString("latin1");
    assert.deepEqual(statuses(got), [201, 200], got);
    const [head] = got.split("\r\n\r\n");
    assert.match(head!, /^HTTP\/1\.1 201 Made\r\n/);
    assert.match(head!, /\r\nX-Kept: yes/);
    assert.doesNotMatch(
      head!,
      /X-Up-Hop|Keep-Alive/i,
      "hop-by-hop fields of the upstream's response are removed",
    );
    assert.match(got, /"bodySha":"[0-9a-f]{64}"/);
    assert.match(got, /<h1>home<\/h1>/, "the site still answers after a proxied request");
    const s = seen[0]!;
    assert.equal(s.url, "/base/echo/a%20b?q=1&r=%2F");
    assert.equal(s.bodySha, sha(Buffer.from(body)));
    const h = new Map<string, string[]>();
    for (let i = 0; i < s.headers.length; i += 2)
      h.set(s.headers[i]!.toLowerCase(), [...(h.get(s.headers[i]!.toLowerCase()) ?? []), s.headers[i + 1]!]);
    for (const hop of ["x-hop", "keep-alive", "te", "upgrade"])
      assert.equal(h.get(hop), undefined, `${hop} is not forwarded`);
    assert.deepEqual(h.get("x-end"), ["kept"]);
    assert.deepEqual(h.get("host"), ["site.example"]);
    assert.deepEqual(
      h.get("x-forwarded-for"),
      ["127.0.0.1"],
      "an untrusted client's X-Forwarded-For is replaced",
    );
    assert.deepEqual(h.get("x-forwarded-proto"), ["http"]);
    assert.deepEqual(h.get("x-forwarded-host"), ["site.example"]);
  } finally {
    await server.close();
  }
});

test("a trusted proxy's X-Forwarded-For is extended; the prefix itself maps to the base", async () => {
  const { server } = await serve({
    proxy: [{ path: "/api", upstream: `http://127.0.0.1:${upstreamPort}/base` }],
    trustedProxies: ["127.0.0.1"],
  });
  try {
    seen.length = 0;
    const r = await fetch(`http://127.0.0.1:${server.port}/api`, {
      headers: { "x-forwarded-for": "203.0.113.7" },
    });
    assert.equal(r.status, 404);
    assert.equal(await r.text(), "upstream 404\n");
    assert.equal(seen[0]!.url, "/base");
    const i = seen[0]!.headers.findIndex((n) => n.toLowerCase() === "x-forwarded-for");
    assert.equal(seen[0]!.headers[i + 1], "203.0.113.7, 127.0.0.1");
  } finally {
    await server.close();
  }
});

test("large bodies stream both ways: 12 MiB up, 12 MiB down with Content-Length and chunked", async (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const { server } = await serve({
    proxy: [{ path: "/api", upstream: `http://127.0.0.1:${upstreamPort}`, maxBodySize: 16 * 1024 * 1024 }],
  });
  try {
    seen.length = 0;
    const file = join(work, "upload");
    writeFileSync(file, BIG);
    const up = await run(
      "curl",
      ["-s", "--data-binary", `@${file}`, `http://127.0.0.1:${server.port}/api/echo`],
      { maxBuffer: 1 << 20 },
    );
    assert.equal(JSON.parse(up.stdout).bodySha, sha(BIG));
    for (const path of ["/api/big-length", "/api/big-chunked"]) {
      const headers = join(work, "headers");
      const down = await run("curl", ["-s", "-D", headers, `http://127.0.0.1:${server.port}${path}`], {
        encoding: "buffer",
        maxBuffer: 64 << 20,
      });
      assert.equal(sha(down.stdout), sha(BIG), path);
      assert.match(
        readFileSync(headers, "latin1"),
        path.endsWith("length") ? /Content-Length: 12582912/i : /Transfer-Encoding: chunked/i,
      );
    }
    const http10 = await exchange(server.port, "GET /api/big-chunked HTTP/1.0\r\n\r\n", 10_000);
    const split = http10.indexOf("\r\n\r\n");
    assert.match(http10.subarray(0, split).toString(), /Connection: close/);
    assert.doesNotMatch(
      http10.subarray(0, split).toString(),
      /chunked/i,
      "HTTP/1.0 gets the raw body, then the close",
    );
    assert.equal(sha(http10.subarray(split + 4)), sha(BIG));
  } finally {
    await server.close();
  }
});

test("413 above maxBodySize, 502 when the upstream is down, 504 when it is silent, cut off when it dies", async () => {
  const closedPort = await freePort();
  const { server, log } = await serve({
    proxy: [
      { path: "/api", upstream: `http://127.0.0.1:${upstreamPort}`, maxBodySize: 1000, timeout: 400 },
      { path: "/down", upstream: `http://127.0.0.1:${closedPort}` },
    ],
  });
  try {
    const url = `http://127.0.0.1:${server.port}`;
    const big = await fetch(`${url}/api/echo`, { method: "POST", body: "x".repeat(1001) });
    assert.equal(big.status, 413);
    const down = await fetch(`${url}/down/x`);
    assert.equal(down.status, 502);
    assert.match(await down.text(), /<h1>502 Bad Gateway<\/h1>/, "the pack's 502 page");
    const started = Date.now();
    const slow = await fetch(`${url}/api/slow`);
    assert.equal(slow.status, 504);
    assert.ok(Date.now() - started < 1400, "answered at the time-out, not when the upstream finally spoke");
    const stalled = (await exchange(server.port, "GET /api/stall HTTP/1.1\r\nHost: x\r\n\r\n")).toString(
      "latin1",
    );
    assert.match(stalled, /^HTTP\/1\.1 200 /);
    assert.equal(stalled.split("\r\n\r\n")[1], "x".repeat(10), "the connection closes after what arrived");
    const died = await exchange(server.port, "GET /api/die HTTP/1.1\r\nHost: x\r\n\r\n");
    const body = died.subarray(died.indexOf("\r\n\r\n") + 4);
    assert.match(died.toString("latin1", 0, 40), /^HTTP\/1\.1 200 /);
    assert.ok(
      body.length >= 1 && body.length < 1_000_000,
      `a truncated body (${body.length} bytes), then the close`,
    );
    const ok = await fetch(`${url}/api/empty`);
    assert.equal(ok.status, 204, "the server is fine after all that");
    assert.deepEqual(
      log.map((e) => e.status),
      [413, 502, 504, 504, 502, 204],
    );
  } finally {
    await server.close();
  }
});

test("nginx as the upstream: a large static file, keep-alive, and what nginx sees", async (t) => {
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
  const { server } = await serve({ proxy: [{ path: "/api", upstream: `http://127.0.0.1:${port}/v1` }] });
  try {
    await waitForPort(port);
    const big = await run("curl", ["-s", `http://127.0.0.1:${server.port}/api/big.bin`], {
      encoding: "buffer",
      maxBuffer: 64 << 20,
    });
    assert.equal(big.stdout.length, BIG.length);
    assert.equal(sha(big.stdout), sha(BIG));
    const who = await run("curl", [
      "-s",
      "-H",
      "Host: front.example",
      `http://127.0.0.1:${server.port}/api/who?x=1`,
      `http://127.0.0.1:${server.port}/api/who`,
    ]);
    assert.equal(
      who.stdout,
      "/v1/who?x=1|127.0.0.1|front.example|http|close\n/v1/who|127.0.0.1|front.example|http|close\n",
    );
    const missing = await fetch(`http://127.0.0.1:${server.port}/api/nothing-here`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /nginx/);
  } finally {
    await server.close();
    nginx.kill("SIGTERM");
    await new Promise((r) => nginx.on("exit", r));
  }
});

test("a client that shuts its side right after its requests still gets the proxied answers, in order", async () => {
  const { server } = await serve({ proxy: [{ path: "/api", upstream: `http://127.0.0.1:${upstreamPort}` }] });
  try {
    const got = await new Promise<string>((resolve, reject) => {
      const socket = connect({ port: server.port, host: "127.0.0.1" }, () => {
        socket.end(
          "GET /api/slow HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /api/empty HTTP/1.1\r\nHost: x\r\n\r\n",
        );
      });
      let text = "";
      socket.setEncoding("latin1");
      socket.on("data", (d: string) => (text += d));
      socket.on("error", reject);
      socket.on("close", () => resolve(text));
    });
    assert.deepEqual(statuses(got), [200, 200, 204]);
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\nlate\n/);
  } finally {
    await server.close();
  }
});

test("an IPv6 upstream ([::1]): forwarded, and HTTP/1.0 clients without Host get the upstream's", async () => {
  const v6 = createHttpServer((req, res) => res.end(`${req.url} ${req.headers.host}\n`));
  await new Promise<void>((resolve) => v6.listen(0, "::1", resolve));
  const port = (v6.address() as { port: number }).port;
  const { server } = await serve({ proxy: [{ path: "/v6", upstream: `http://[::1]:${port}/b` }] });
  try {
    const r = await fetch(`http://127.0.0.1:${server.port}/v6/x`);
    assert.equal(await r.text(), `/b/x 127.0.0.1:${server.port}\n`);
    const old = (await exchange(server.port, "GET /v6/y HTTP/1.0\r\n\r\n")).toString("latin1");
    assert.match(old, new RegExp(`\\r\\n\\r\\n/b/y \\[::1\\]:${port}\\n$`));
  } finally {
    await server.close();
    v6.closeAllConnections();
    await new Promise((r) => v6.close(r));
  }
});
