import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BODY_LIMIT, HEAD_LIMIT, type ParseResult, parseRequest } from "./parse.ts";

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const parse = (s: string) => parseRequest(bytes(s));
const outcome = (r: ParseResult) =>
  r.kind === "error"
    ? r.status
    : r.kind === "request"
      ? "request"
      : r.kind === "skip"
        ? `skip ${r.consumed}`
        : r.kind;

test("parseRequest() judges framing, request line and header syntax as section 2 says", () => {
  const h = "Host: x\r\n";
  const cases: [string, ParseResult["kind"] | number | string][] = [
    [`GET / HTTP/1.1\r\n${h}\r\n`, "request"],
    ["GET / HTTP/1.0\r\n\r\n", "request"],
    [`GET / HTTP/1.1\r\n${h}`, "incomplete"],
    ["GET / HTTP/1.1\r", "incomplete"],
    ["\r\n\r\nGET", "skip 4"],
    ["\r", "incomplete"],
    ["\n", 400],
    ["GET / HTTP/1.1\n", 400],
    ["GET / HTTP/1.1\rX", 400],
    [`GET / HTTP/1.1\r\n${h}X: a\nb\r\n\r\n`, 400],
    [`GET  / HTTP/1.1\r\n${h}\r\n`, 400],
    [`GET / HTTP/1.1 \r\n${h}\r\n`, 400],
    [`GET /\x80 HTTP/1.1\r\n${h}\r\n`, 400],
    [`G(T / HTTP/1.1\r\n${h}\r\n`, 400],
    [` GET / HTTP/1.1\r\n${h}\r\n`, 400],
    [`GET / http/1.1\r\n${h}\r\n`, 400],
    [`GET / HTTP/1.10\r\n${h}\r\n`, 400],
    [`GET / HTTP/2.0\r\n${h}\r\n`, 505],
    [`GET / HTTP/0.9\r\n${h}\r\n`, 505],
    [`GET / HTTP/1.9\r\n${h}\r\n`, "request"],
    ["GET / HTTP/1.1\r\n\r\n", 400],
    [`GET / HTTP/1.1\r\n${h}${h}\r\n`, 400],
    ["GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400],
    [`GET / HTTP/1.1\r\n${h}X : 1\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}X\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}X: 1\r\n 2\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}X: \x7f\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}X: \x00\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}X: \tcaf\xe9\t\r\n\r\n`, "request"],
    [`GET / HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}Content-Length: 1\r\ncontent-length: 2\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}Content-Length: 2\r\nContent-Length:  2 \r\n\r\n`, "request"],
    [`GET / HTTP/1.1\r\n${h}Content-Length: +1\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}Content-Length: 1, 1\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}Content-Length:\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}Content-Length: 1234567890123456\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${h}Content-Length: ${BODY_LIMIT}\r\n\r\n`, "request"],
    [`GET / HTTP/1.1\r\n${h}Content-Length: ${BODY_LIMIT + 1}\r\n\r\n`, 413],
    [`GET /${"a".repeat(HEAD_LIMIT)} HTTP/1.1\r\n`, 414],
    [`GET / HTTP/1.1\r\nX: ${"a".repeat(HEAD_LIMIT)}`, 431],
    [`GET /\n${"a".repeat(HEAD_LIMIT)}`, 400],
  ];
  for (const [raw, expected] of cases) assert.equal(outcome(parse(raw)), expected, JSON.stringify(raw));
});

test("a head of exactly 8192 bytes is parsed, one byte more is 431", () => {
  const build = (size: number) => {
    const start = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
    return `${start}${"v".repeat(size - start.length - 4)}\r\n\r\n`;
  };
  assert.equal(build(HEAD_LIMIT).length, HEAD_LIMIT);
  assert.equal(outcome(parse(build(HEAD_LIMIT))), "request");
  assert.equal(outcome(parse(build(HEAD_LIMIT + 1))), 431);
});

test("parseRequest() collects the fields the server acts on", () => {
  const raw =
    "HEAD /x?y HTTP/1.0\r\nconnection: Keep-Alive, x\r\nAccept-Encoding: gzip\r\naccept-encoding: br \r\n" +
    'If-None-Match: "a"\r\nIf-Modified-Since: one\r\nIf-Modified-Since: two\r\nRange: bytes=1-2\r\nIf-Range: "r"\r\n' +
    "Content-Length: 7\r\n\r\nbody...";
  const r = parse(raw);
  assert.equal(r.kind, "request");
  if (r.kind !== "request") return;
  const t = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("latin1") : b);
  assert.equal(r.request.method, "HEAD");
  assert.equal(t(r.request.target), "/x?y");
  assert.equal(r.request.minor, 0);
  assert.equal(r.request.connectionKeepAlive, true);
  assert.equal(r.request.connectionClose, false);
  assert.deepEqual(r.request.acceptEncoding.map(t), ["gzip", "br"]);
  assert.deepEqual(r.request.ifNoneMatch.map(t), ['"a"']);
  assert.equal(t(r.request.ifModifiedSince), "two");
  assert.equal(t(r.request.range), "bytes=1-2");
  assert.equal(t(r.request.ifRange), '"r"');
  assert.equal(r.request.contentLength, 7);
  assert.equal(r.headLength, raw.indexOf("body"));
});

test("parseRequest() never throws and never reads a head longer than the limit", () => {
  const piece = fc.constantFrom(
    "GET ",
    "HEAD ",
    "/",
    " HTTP/1.1",
    " HTTP/1.0",
    "\r\n",
    "\r",
    "\n",
    "Host: x",
    "Content-Length: 3",
    "Transfer-Encoding: x",
    ":",
    " ",
    "\t",
    "%",
    "\x00",
    "\xff",
    "a",
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (parts, noise) => {
      const raw = new Uint8Array([...bytes(parts.join("")), ...noise]);
      const r = parseRequest(raw);
      if (r.kind === "request") assert.ok(r.headLength <= Math.min(raw.length, HEAD_LIMIT));
      if (r.kind === "skip") assert.ok(r.consumed > 0 && r.consumed <= raw.length);
    }),
    { numRuns: 3000 },
  );
});
