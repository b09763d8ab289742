// The preview server against real clients: curl (ranges, --compressed, conditionals, --http1.0, odd
// headers, connection reuse) and Node's fetch, for the rules of docs/http-semantics.md.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import {
  ERROR_STATUSES,
  formatHttpDate,
  type PackInput,
  type Resource,
  readPack,
  writePack,
} from "../../src/pack/index.ts";
import { type AccessLogEntry, type PreviewServer, startPreview } from "../../src/preview/index.ts";
import { requireCommands } from "../support/tools.ts";

const run = promisify(execFile);
const text = new TextEncoder();
const LM = 1_700_000_000;
const SCRIPT = text.encode("export const answer = 42;\n".repeat(400));

function page(body: string, etag: string): Resource {
  return {
    kind: "resource",
    headers: [
      ["Content-Type", "text/html; charset=utf-8"],
      ["Cache-Control", "no-cache"],
    ],
    lastModified: LM,
    variants: [{ encoding: "identity", body: text.encode(body), etag: `"${etag}"` }],
  };
}

function site(home: string): PackInput {
  return {
    routes: [
      { path: "/", response: page(home, "home") },
      { path: "/about", response: page("<h1>about</h1>\n", "about") },
      { path: "/about.html", response: { kind: "redirect", status: 308, location: "/about", headers: [] } },
      {
        path: "/app.js",
        response: {
          kind: "resource",
          headers: [["Content-Type", "text/javascript; charset=utf-8"]],
          lastModified: LM,
          variants: [
            { encoding: "identity", body: SCRIPT, etag: '"js"' },
            { encoding: "gzip", body: gzipSync(SCRIPT, { level: 9 }), etag: '"js-gz"' },
            {
              encoding: "br",
              body: brotliCompressSync(SCRIPT, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
              etag: '"js-br"',
            },
          ],
        },
      },
    ],
    prefixRedirects: [{ prefix: "/blog/", status: 301, target: "/posts/", headers: [] }],
    spa: page("<div id=app></div>\n", "spa"),
    errors: Object.fromEntries(
      ERROR_STATUSES.map((s): [number, Resource] => [
        s,
        {
          kind: "resource",
          headers: s === 405 ? [["Allow", "GET, HEAD"]] : [["Content-Type", "text/plain"]],
          variants: [{ encoding: "identity", body: text.encode(`error ${s}\n`) }],
        },
      ]),
    ) as PackInput["errors"],
  };
}

let server: PreviewServer;
const log: AccessLogEntry[] = [];
before(async () => {
  server = await startPreview({
    pack: writePack(site("<h1>home</h1>\n")),
    port: 0,
    onRequest: (e) => log.push(e),
  });
});
after(() => server.close());

const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

const work = mkdtempSync(join(tmpdir(), "speck-preview-http-"));
after(() => rmSync(work, { recursive: true, force: true }));
let runs = 0;

/** Runs curl; returns the status, the last response's headers (lower-case names) and the body. */
async function curl(args: string[]): Promise<{ status: number; headers: Map<string, string>; body: Buffer }> {
  const n = runs++;
  const [headFile, bodyFile] = [join(work, `${n}.head`), join(work, `${n}.body`)];
  await run("curl", ["-s", "-D", headFile, "-o", bodyFile, ...args]);
  const blocks = readFileSync(headFile, "latin1")
    .split("\r\n\r\n")
    .filter((b) => b.startsWith("HTTP/"));
  const [statusLine, ...lines] = (blocks[blocks.length - 1] ?? "").split("\r\n");
  const headers = new Map(
    lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()] as const),
  );
  const body = existsSync(bodyFile) ? readFileSync(bodyFile) : Buffer.alloc(0);
  return { status: Number(statusLine!.split(" ")[1]), headers, body };
}

test("curl: GET, HEAD, Date and Content-Length", async (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const r = await curl([url("/")]);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), "<h1>home</h1>\n");
  assert.equal(r.headers.get("content-length"), "14");
  assert.equal(r.headers.get("last-modified"), formatHttpDate(LM));
  assert.match(r.headers.get("date")!, /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
  const head = await curl(["-I", url("/about")]);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), "15");
  assert.ok(!head.body.toString().includes("<h1>"), "HEAD sends no body");
});

test("curl: byte ranges, suffix and open-ended forms, 416, several ranges", async (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const first = await curl(["-r", "0-5", url("/app.js")]);
  assert.equal(first.status, 206);
  assert.equal(first.body.toString(), "export");
  assert.equal(first.headers.get("content-range"), `bytes 0-5/${SCRIPT.length}`);
  const suffix = await curl(["-r", "-3", url("/app.js")]);
  assert.equal(suffix.body.toString(), "2;\n");
  const open = await curl(["-r", `${SCRIPT.length - 2}-`, url("/app.js")]);
  assert.equal(open.body.toString(), ";\n");
  const beyond = await curl(["-r", `${SCRIPT.length}-`, url("/app.js")]);
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get("content-range"), `bytes */${SCRIPT.length}`);
  const several = await curl(["-r", "0-1,4-5", url("/app.js")]);
  assert.equal(several.status, 200);
  assert.equal(several.body.length, SCRIPT.length);
  const ifRange = await curl(["-r", "0-1", "-H", 'If-Range: "old"', url("/app.js")]);
  assert.equal(ifRange.status, 200);
  const ifRangeOk = await curl(["-r", "0-1", "-H", 'If-Range: "js"', url("/app.js")]);
  assert.equal(ifRangeOk.status, 206);
});

test("curl --compressed: brotli and gzip variants decode to the file, Vary on every variant", async (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const br = await curl(["--compressed", url("/app.js")]);
  assert.equal(br.headers.get("content-encoding"), "br");
  assert.equal(br.headers.get("vary"), "Accept-Encoding");
  assert.deepEqual(new Uint8Array(br.body), SCRIPT);
  const gzip = await curl(["--compressed", "-H", "Accept-Encoding: gzip;q=1, br;q=0.5", url("/app.js")]);
  assert.equal(gzip.headers.get("content-encoding"), "gzip");
  assert.deepEqual(new Uint8Array(gzip.body), SCRIPT);
  const identity = await curl(["-H", "Accept-Encoding: br;q=0, gzip;q=0", url("/app.js")]);
  assert.equal(identity.headers.get("content-encoding"), undefined);
  assert.equal(identity.headers.get("vary"), "Accept-Encoding");
  assert.deepEqual(new Uint8Array(identity.body), SCRIPT);
  const brRange = await curl(["-H", "Accept-Encoding: br", "-r", "0-3", url("/app.js")]);
  assert.equal(brRange.status, 206);
  assert.match(brRange.headers.get("content-range")!, /^bytes 0-3\/\d+$/);
  assert.notEqual(brRange.headers.get("content-range"), `bytes 0-3/${SCRIPT.length}`);
});

test("curl: conditional requests give 304 with the validators and no body", async (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const inm = await curl(["-H", 'If-None-Match: "x", W/"about"', url("/about")]);
  assert.equal(inm.status, 304);
  assert.equal(inm.headers.get("etag"), '"about"');
  assert.equal(inm.headers.get("content-length"), undefined);
  assert.equal(inm.body.length, 0);
  const ims = await curl(["-z", formatHttpDate(LM), url("/about")]);
  assert.equal(ims.status, 304);
  const older = await curl(["-z", formatHttpDate(LM - 1), url("/about")]);
  assert.equal(older.status, 200);
  const etagWins = await curl(["-H", 'If-None-Match: "x"', "-z", formatHttpDate(LM), url("/about")]);
  assert.equal(etagWins.status, 200);
  const variantTag = await curl(["--compressed", "-H", 'If-None-Match: "js-br"', url("/app.js")]);
  assert.equal(variantTag.status, 304);
  assert.equal(variantTag.headers.get("vary"), "Accept-Encoding");
});

test("curl: HTTP/1.0, methods, odd headers, redirects, fallback and 404", async (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const old = await curl(["--http1.0", url("/")]);
  assert.equal(old.status, 200);
  assert.equal(old.headers.get("connection"), "close");
  const oldKeep = await curl(["--http1.0", "-H", "Connection: keep-alive", url("/")]);
  assert.equal(oldKeep.headers.get("connection"), "keep-alive");
  const post = await curl(["-X", "POST", "-d", "x=1", url("/")]);
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  assert.equal((await curl(["-X", "BREW", url("/")])).status, 501);
  assert.equal((await curl(["-H", "Host:", url("/")])).status, 400);
  assert.equal(
    (await curl(["-H", "Transfer-Encoding: chunked", "-H", "Content-Length: 0", url("/")])).status,
    400,
  );
  assert.equal((await curl(["-H", `X-Big: ${"b".repeat(9000)}`, url("/")])).status, 431);
  assert.equal((await curl([url(`/${"a".repeat(9000)}`)])).status, 414);
  assert.equal((await curl(["--path-as-is", url("/../x")])).status, 400);
  const moved = await curl([url("/about.html?x=1")]);
  assert.equal(moved.status, 308);
  assert.equal(moved.headers.get("location"), "/about?x=1");
  const followed = await curl(["-L", url("/about.html")]);
  assert.equal(followed.body.toString(), "<h1>about</h1>\n");
  const prefix = await curl([url("/blog/2024/a%20b?p=2")]);
  assert.equal(prefix.status, 301);
  assert.equal(prefix.headers.get("location"), "/posts/2024/a%20b?p=2");
  const spa = await curl([url("/users/42")]);
  assert.equal(spa.status, 200);
  assert.equal(spa.body.toString(), "<div id=app></div>\n");
  const missing = await curl([url("/missing.css")]);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.toString(), "error 404\n");
});

test("curl reuses one keep-alive connection for several URLs", async (t) => {
  if (!requireCommands(t, ["curl"], "apt-get install curl")) return;
  const { stderr } = await run("curl", [
    "-sv",
    "-o",
    "/dev/null",
    "-o",
    "/dev/null",
    "-o",
    "/dev/null",
    url("/"),
    url("/about"),
    url("/missing.js"),
  ]);
  assert.equal((stderr.match(/Re-using existing connection/g) ?? []).length, 2, stderr);
});

test("fetch: decoded variants, redirects, HEAD, ranges and the access log", async () => {
  const js = await fetch(url("/app.js"), { headers: { "accept-encoding": "gzip" } });
  assert.equal(js.headers.get("content-encoding"), "gzip");
  assert.deepEqual(new Uint8Array(await js.arrayBuffer()), SCRIPT);
  const followed = await fetch(url("/about.html"));
  assert.equal(followed.url, url("/about"));
  assert.equal(await followed.text(), "<h1>about</h1>\n");
  const manual = await fetch(url("/about.html?q"), { redirect: "manual" });
  assert.equal(manual.status, 308);
  assert.equal(manual.headers.get("location"), "/about?q");
  const head = await fetch(url("/"), { method: "HEAD" });
  assert.equal(head.headers.get("content-length"), "14");
  assert.equal(await head.text(), "");
  const range = await fetch(url("/"), { headers: { range: "bytes=-6" } });
  assert.equal(range.status, 206);
  assert.equal(await range.text(), "</h1>\n");
  const put = await fetch(url("/"), { method: "PUT", body: "x" });
  assert.equal(put.status, 405);
  await put.text();
  const entry = log.find((e) => e.method === "PUT");
  assert.deepEqual(entry, { method: "PUT", target: "/", status: 405, bytes: "error 405\n".length });
});

test("fetch: 200 parallel requests on keep-alive connections all get the right bytes", async () => {
  const paths = ["/", "/about", "/app.js", "/users/1", "/x.png"];
  const results = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const r = await fetch(url(paths[i % paths.length]!), { headers: { "accept-encoding": "identity" } });
      return [r.status, (await r.arrayBuffer()).byteLength];
    }),
  );
  const expected = [
    [200, 14],
    [200, 15],
    [200, SCRIPT.length],
    [200, 19],
    [404, 10],
  ];
  results.forEach((r, i) => {
    assert.deepEqual(r, expected[i % expected.length]);
  });
});

test("replacePack() serves the new site from the next request; a bad pack is refused", async () => {
  const before = await (await fetch(url("/"))).text();
  server.replacePack(writePack(site("<h1>new</h1>\n")));
  try {
    assert.equal(before, "<h1>home</h1>\n");
    assert.equal(await (await fetch(url("/"))).text(), "<h1>new</h1>\n");
    assert.throws(() => server.replacePack(new Uint8Array(200)), /not a valid speck pack/);
    assert.equal(await (await fetch(url("/"))).text(), "<h1>new</h1>\n");
  } finally {
    server.replacePack(writePack(site("<h1>home</h1>\n")));
  }
});

/** Sends raw bytes, optionally in pieces with pauses, and returns all bytes until the server closes. */
function raw(pieces: string[], pauseMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(server.port, "127.0.0.1", async () => {
      for (const p of pieces) {
        socket.write(Buffer.from(p, "latin1"));
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    setTimeout(() => socket.destroy(new Error("no close within 5 s")), 5000).unref();
  });
}

test("pipelined requests sent byte by byte are answered in order", async () => {
  const request =
    "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /about HTTP/1.1\r\nHost: x\r\n\r\nHEAD /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const answer = await raw(request.split(""), 0);
  assert.deepEqual(
    [...answer.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]),
    ["200", "200", "200"],
  );
  assert.ok(answer.indexOf("<h1>home</h1>") < answer.indexOf("<h1>about</h1>"));
  assert.ok(answer.endsWith("Connection: close\r\n\r\n"));
});

test("time-outs: 408 for a head in progress (not extended by trickling bytes), silent close when idle", async () => {
  const quick = await startPreview({
    pack: writePack(site("<h1>home</h1>\n")),
    port: 0,
    timeouts: { header: 300, idle: 600 },
  });
  try {
    const exchangeWith = (pieces: string[], pauseMs: number) =>
      new Promise<{ text: string; ms: number }>((resolve) => {
        const started = Date.now();
        const chunks: Buffer[] = [];
        const socket = connect(quick.port, "127.0.0.1", async () => {
          for (const p of pieces) {
            if (socket.destroyed) break;
            socket.write(p);
            await new Promise((r) => setTimeout(r, pauseMs));
          }
        });
        socket.on("data", (d) => chunks.push(d));
        // writing after the server closed may reset the connection; what was received is the answer
        socket.on("error", () => {});
        socket.on("close", () =>
          resolve({ text: Buffer.concat(chunks).toString("latin1"), ms: Date.now() - started }),
        );
      });
    const slow = await exchangeWith("GET / HTTP/1.1\r\nHost: x\r\n".split(""), 50);
    assert.match(
      slow.text,
      /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*Connection: close\r\n\r\nerror 408\n$/,
    );
    assert.ok(slow.ms >= 280 && slow.ms < 1200, `408 after ${slow.ms} ms`);
    const idle = await exchangeWith(["GET / HTTP/1.1\r\nHost: x\r\n\r\n"], 0);
    assert.match(idle.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*<h1>home<\/h1>\n$/);
    assert.ok(idle.ms >= 550 && idle.ms < 2000, `idle close after ${idle.ms} ms`);
  } finally {
    await quick.close();
  }
});

test("startPreview() also serves a pack given as a function, whatever it returns at the time", async () => {
  let current = readPack(writePack(site("<h1>fn</h1>\n")));
  const fromFunction = await startPreview({ pack: () => current, port: 0 });
  try {
    const get = async () => (await fetch(`http://127.0.0.1:${fromFunction.port}/`)).text();
    assert.equal(await get(), "<h1>fn</h1>\n");
    current = readPack(writePack(site("<h1>fn 2</h1>\n")));
    assert.equal(await get(), "<h1>fn 2</h1>\n");
  } finally {
    await fromFunction.close();
  }
});
