import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CORPUS } from "../../test/corpus/requests.ts";
import { CORPUS_SITE } from "../../test/corpus/site.ts";
import { readPack } from "../pack/read.ts";
import { writePack } from "../pack/write.ts";
import { ConnectionState, serveBytes } from "./connection.ts";

const pack = readPack(writePack(CORPUS_SITE));
const DATE = new Uint8Array(Buffer.from("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n", "latin1"));
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const serve = (s: string) => Buffer.from(serveBytes(pack, bytes(s), DATE)).toString("latin1");
const D = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";

test("serveBytes() lays out responses exactly as section 7 says", () => {
  const about =
    "Content-Type: text/html; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nAccept-Ranges: bytes\r\n" +
    'Cache-Control: no-cache\r\nETag: "about"\r\nLast-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\n';
  assert.equal(
    serve("GET /about HTTP/1.1\r\nHost: x\r\n\r\n"),
    `HTTP/1.1 200 OK\r\n${about}Content-Length: 30\r\n${D}\r\n<!doctype html><h1>about</h1>\n`,
  );
  assert.equal(
    serve("HEAD /about HTTP/1.0\r\n\r\n"),
    `HTTP/1.1 200 OK\r\n${about}Content-Length: 30\r\n${D}Connection: close\r\n\r\n`,
  );
  assert.equal(
    serve('GET /about HTTP/1.0\r\nConnection: keep-alive\r\nIf-None-Match: "about"\r\n\r\n'),
    `HTTP/1.1 304 Not Modified\r\nCache-Control: no-cache\r\nETag: "about"\r\nLast-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\n${D}Connection: keep-alive\r\n\r\n`,
  );
  assert.equal(
    serve("GET /about?x=1 HTTP/1.1\r\nHost: x\r\nRange: bytes=16-17\r\n\r\n"),
    `HTTP/1.1 206 Partial Content\r\n${about}Content-Range: bytes 16-17/30\r\nContent-Length: 2\r\n${D}\r\nh1`,
  );
  assert.equal(
    serve("GET /about.html?a=%20 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    `HTTP/1.1 308 Permanent Redirect\r\nContent-Length: 0\r\nLocation: /about?a=%20\r\n${D}Connection: close\r\n\r\n`,
  );
  assert.equal(
    serve("GET /blog/a%20b/c HTTP/1.1\r\nHost: x\r\n\r\n"),
    `HTTP/1.1 302 Found\r\nContent-Length: 0\r\nLocation: /news/a%20b/c\r\n${D}\r\n`,
  );
  const long = serve("GET /long.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=9999-\r\n\r\n");
  assert.ok(
    long.startsWith(
      "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */2400\r\nContent-Type: text/html; charset=utf-8\r\n",
    ),
    long,
  );
  assert.match(long, /\r\nContent-Length: \d+\r\nDate: [^\r]+\r\n\r\n<!doctype html>/);
  const missing = serve("HEAD /missing.js HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.match(missing, /^HTTP\/1\.1 404 Not Found\r\n[\s\S]*Content-Length: 46\r\nDate: [^\r]+\r\n\r\n$/);
});

test("an error that closes the connection ends the stream; others keep it", () => {
  const pipelined = serve(
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nGET GET /nope.js HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const statuses = [...pipelined.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
  assert.deepEqual(statuses, ["405", "404", "400"]);
  assert.ok(pipelined.endsWith("Connection: close\r\n\r\n<!doctype html><title>400</title><h1>400</h1>\n"));
});

/** The request streams of the corpus, plus mutations of them. */
const streams = fc.oneof(
  fc.constantFrom(...CORPUS.map((c) => bytes(c.request))),
  fc
    .tuple(
      fc.constantFrom(...CORPUS.map((c) => bytes(c.request))),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    )
    .map(([request, edits]) => {
      const out = request.slice();
      for (const [at, value] of edits) if (out.length > 0) out[at % out.length] = value;
      return out;
    }),
  fc.uint8Array({ maxLength: 200 }),
);

test("answers depend on the bytes received, never on how reads split them", () => {
  fc.assert(
    fc.property(
      streams,
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
      (stream, cuts) => {
        const whole = serveBytes(pack, stream, DATE);
        const state = new ConnectionState();
        const out: Uint8Array[] = [];
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const size = cuts[i % cuts.length]!;
          state.receive(stream.subarray(at, at + size));
          at += size;
          for (let a = state.next(pack, DATE); a; a = state.next(pack, DATE)) out.push(...a.response.chunks);
        }
        assert.deepEqual(Buffer.concat(out), Buffer.from(whole));
      },
    ),
    { numRuns: 1500 },
  );
});
