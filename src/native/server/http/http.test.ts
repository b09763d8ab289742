import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CORPUS } from "../../../../test/corpus/requests.ts";
import { CORPUS_SITE } from "../../../../test/corpus/site.ts";
import { readPack } from "../../../pack/read.ts";
import { writePack } from "../../../pack/write.ts";
import { serveBytes } from "../../../preview/connection.ts";
import { chooseVariant, evaluateRange, noneMatchHits } from "../../../preview/negotiate.ts";
import { parseRequest } from "../../../preview/parse.ts";
import { dateLine, errorResponse } from "../../../preview/respond.ts";
import { normaliseTarget } from "../../../preview/target.ts";
import { Harness } from "./harness.ts";
import { CODING0, DYN, INM, S, W } from "./state.ts";

const packBytes = writePack(CORPUS_SITE);
const pack = readPack(packBytes);
const DATE = dateLine(1_700_000_000);
const h = new Harness(packBytes, DATE);
const latin1 = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));
const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");

const ERRORS = [400, 404, 405, 408, 413, 414, 416, 431, 500, 501, 505];

function head(bytes: Uint8Array): { value: bigint; kind: string; status?: number } {
  const ptr = h.place(bytes);
  const value = BigInt.asIntN(64, h.call("head", [ptr, bytes.length]));
  if (value === 0n) return { value, kind: "incomplete" };
  if (value < 0n) return { value, kind: "error", status: ERRORS[Number(~value)]! };
  return { value, kind: "request" };
}

/** Request heads built from pieces likely to hit every rule. */
const headArb = fc
  .tuple(
    fc.constantFrom("GET", "HEAD", "POST", "BREW", "get", "", "G@T"),
    fc.constantFrom(" ", "  ", "\t"),
    fc.constantFrom("/", "/a?b", "*", "/é", "", "/x y", "http://h/p"),
    fc.constantFrom(" HTTP/1.1", " HTTP/1.0", " HTTP/2.0", " HTTP/1.9", " http/1.1", " HTTP/1.", ""),
    fc.array(
      fc.tuple(
        fc.constantFrom(
          "Host",
          "host",
          "Connection",
          "Content-Length",
          "Transfer-Encoding",
          "If-None-Match",
          "Accept-Encoding",
          "Range",
          "X-A",
          " Host",
          "Host ",
          "",
        ),
        fc.constantFrom(":", ": ", ":\t", " :", ""),
        fc.constantFrom(
          "x",
          "close",
          "keep-alive, close",
          "5",
          "1x",
          "0",
          "2000000",
          "",
          " a ",
          "\x01",
          "é",
          "\x7f",
        ),
        fc.constantFrom("\r\n", "\n", "\r", "\r\r\n"),
      ),
      { maxLength: 5 },
    ),
    fc.constantFrom("\r\n", "", "\n", "\r\nGET"),
  )
  .map(([m, sp, t, v, headers, end]) => {
    const lines = headers.map(([n, c, val, eol]) => `${n}${c}${val}${eol}`).join("");
    return latin1(`${m}${sp}${t}${v}\r\n${lines}${end}`);
  });

test("head frames and parses like parseRequest", () => {
  const check = (bytes: Uint8Array) => {
    const want = parseRequest(bytes);
    if (want.kind === "skip") return;
    const got = head(bytes);
    assert.equal(got.kind, want.kind, text(bytes));
    if (want.kind === "error") assert.equal(got.status, want.status, text(bytes));
    if (want.kind === "request") {
      const r = want.request;
      assert.equal(got.value, BigInt(want.headLength));
      assert.equal(h.field(S.minor), BigInt(r.minor));
      assert.equal(h.field(S.close), r.connectionClose ? 1n : 0n);
      assert.equal(h.field(S.keepAlive), r.connectionKeepAlive ? 1n : 0n);
      assert.equal(h.field(S.contentLength), BigInt(r.contentLength));
      assert.equal(h.field(S.inmCount), BigInt(r.ifNoneMatch.length));
      assert.equal(h.field(S.targetLen), BigInt(r.target.length));
      const method = Number(h.field(S.method));
      assert.equal(
        method === 0 ? "GET" : method === 1 ? "HEAD" : "other",
        ["GET", "HEAD"].includes(r.method) ? r.method : "other",
      );
    }
  };
  fc.assert(fc.property(headArb, check), { numRuns: 1500 });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (b) => check(b)),
    { numRuns: 500 },
  );
  for (const c of CORPUS) check(latin1(c.request));
  // the 8 KiB limit
  for (const n of [8185, 8186, 8187, 8188, 8189, 8190, 8191, 8192, 8193, 9000]) {
    check(latin1(`GET /${"a".repeat(n)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    check(latin1(`GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(n)}\r\n\r\n`));
  }
});

const targetArb = fc
  .array(
    fc.constantFrom(
      "/",
      "a",
      ".",
      "..",
      "%2e",
      "%2F",
      "%00",
      "%41",
      "%zz",
      "%4",
      "?",
      "é",
      "%C3%A9",
      "b",
      "//",
      "%",
    ),
    {
      maxLength: 12,
    },
  )
  .map((parts) => parts.join(""));

test("normalise decodes like normaliseTarget", () => {
  const check = (t: string) => {
    const raw = latin1(t);
    const ptr = h.place(latin1(`${t} `));
    const len = BigInt.asIntN(64, h.call("normalise", [ptr, raw.length]));
    const want = normaliseTarget(raw);
    if (!want) return assert.equal(len, -1n, t);
    assert.notEqual(len, -1n, t);
    assert.deepEqual(h.pathBytes(), want.path, t);
    const query = h.field(S.query);
    if (want.query === undefined) assert.equal(query, 0n, t);
    else assert.deepEqual(h.m.memory.read(query, Number(h.field(S.queryLen))), want.query, t);
  };
  for (const prefix of ["/", "http://h", "HTTPS://host:1/", "ftp://x/", "*", "x"]) check(prefix);
  fc.assert(
    fc.property(fc.constantFrom("/", "http://h", "https://h/", "", "HtTp://"), targetArb, (a, b) =>
      check(a + b),
    ),
    {
      numRuns: 2000,
    },
  );
});

test("lookup finds the same route as the pack reader", () => {
  const paths = [
    "/",
    "/about",
    "/about.html",
    "/docs/",
    "/docs",
    "/café.txt",
    "/long.txt",
    "/nope",
    "/abou",
    "/x/y",
  ];
  for (const path of paths) {
    const ptr = h.place(latin1(`${Buffer.from(path, "utf8").toString("latin1")} `));
    h.call("normalise", [ptr, Buffer.byteLength(path)]);
    const got = Number(h.call("lookup"));
    const want = pack.lookup(new TextEncoder().encode(path));
    if (!want) assert.equal(got, 0, path);
    else {
      const packAt = Number(h.field(S.pack));
      const pathOff = Number(h.m.memory.load(got, 8));
      assert.equal(
        new TextDecoder().decode(h.m.memory.read(packAt + pathOff, Number(h.m.memory.load(got + 8, 4)))),
        want.path,
      );
    }
  }
});

test("Accept-Encoding picks the preview's variant", () => {
  // a coding and up to two parameters
  const PARAMS = fc.constantFrom(
    "",
    ";q=0",
    ";q=1",
    ";q=0.5",
    ";q=0.001",
    ";Q=1.000",
    ";q=1.001",
    ";q=2",
    ";q=",
    ";q=0.1234",
    " ; q=0.2",
    ";level=1",
    ";q=1.",
    ";q=.5",
    ";q=0.5 ",
    "\t junk",
  );
  const element = fc
    .tuple(fc.constantFrom("gzip", "br", "identity", "*", "GZIP", "x", "", "br;", "gzip foo"), PARAMS, PARAMS)
    .map(([a, b, c]) => a + b + c);
  const line = fc
    .array(element, { maxLength: 4 })
    .map((xs) => xs.join(fc.sample(fc.constantFrom(",", ", ", " ,"), 1)[0]));
  const longRoute = pack.lookup(latin1("/long.txt"))!;
  const jsRoute = pack.lookup(latin1("/gz-only.js"))!;
  const routeAt = (path: string) => {
    const ptr = h.place(latin1(`${path} `));
    h.call("normalise", [ptr, path.length]);
    return h.call("lookup");
  };
  const longAt = routeAt("/long.txt");
  const jsAt = routeAt("/gz-only.js");
  fc.assert(
    fc.property(fc.array(line, { maxLength: 3 }), (lines) => {
      h.call("reset");
      const values = lines.map((l) => latin1(l.trim()));
      let offset = 0;
      for (const v of values) {
        const ptr = h.place(v, offset);
        h.call("ae_line", [ptr, v.length]);
        offset += v.length + 1;
      }
      assert.equal(
        Number(h.call("choose", [longAt])),
        chooseVariant(values, longRoute.variants),
        lines.join("|"),
      );
      assert.equal(
        Number(h.call("choose", [jsAt])),
        chooseVariant(values, jsRoute.variants),
        lines.join("|"),
      );
    }),
    { numRuns: 1500 },
  );
  assert.equal(CODING0, W("identity"));
});

test("If-None-Match matches like noneMatchHits", () => {
  const element = fc.constantFrom('"a"', 'W/"a"', '"b"', "*", "W/", '"a', "a", '""', 'w/"a"', " ", ",");
  fc.assert(
    fc.property(
      fc.array(fc.array(element, { maxLength: 4 }), { minLength: 1, maxLength: 3 }),
      fc.constantFrom('"a"', '""', ""),
      (lines, etag) => {
        h.call("reset");
        const values = lines.map((l) => latin1(l.join("").trim()));
        let offset = 0;
        for (const [i, v] of values.entries()) {
          const ptr = h.place(v, offset);
          h.m.memory.store(h.state + INM + i * 16, 8, BigInt(ptr));
          h.m.memory.store(h.state + INM + i * 16 + 8, 8, BigInt(v.length));
          offset += v.length + 1;
        }
        h.m.memory.store(h.state + S.inmCount, 8, BigInt(values.length));
        const e = latin1(etag);
        const ePtr = h.place(e, 4000);
        assert.equal(
          h.call("inm", [ePtr, e.length]) === 1n,
          noneMatchHits(values, e),
          JSON.stringify([lines, etag]),
        );
      },
    ),
    { numRuns: 1500 },
  );
});

test("Range evaluates like evaluateRange", () => {
  const value = fc
    .tuple(
      fc.constantFrom("bytes=", "BYTES=", "bytes =", "byte=", "bytes=x", "items="),
      fc.constantFrom("", " ", "\t"),
      fc.constantFrom("0", "5", "", "10", "99", "0000000000000001", "123456789012345", "1234567890123456"),
      fc.constantFrom("-", "", "--", ","),
      fc.constantFrom("0", "5", "", "10", "99", "x", "-1"),
      fc.constantFrom("", " ", ",0-1"),
    )
    .map((parts) => parts.join(""));
  fc.assert(
    fc.property(value, fc.constantFrom(0, 1, 5, 10, 100), (v, size) => {
      const bytes = latin1(v);
      const ptr = h.place(latin1(`${v}\r`));
      const got = Number(h.call("range", [ptr, bytes.length, size]));
      const want = evaluateRange(bytes, size);
      assert.equal(["none", "unsatisfiable", "range"][got], want.kind, `${v} ${size}`);
      if (want.kind === "range") {
        assert.equal(h.field(S.first), BigInt(want.start));
        assert.equal(h.field(S.last), BigInt(want.end));
      }
    }),
    { numRuns: 1500 },
  );
});

test("put_num writes decimal numbers", () => {
  fc.assert(
    fc.property(fc.oneof(fc.nat(), fc.constantFrom(0, 9, 10, 99, 100, 2 ** 53 - 1)), (n) => {
      h.call("reset");
      h.call("put_num", [n]);
      const start = h.state + DYN;
      const len = Number(h.field(S.out)) - start;
      assert.equal(text(h.m.memory.read(start, len)), String(n));
    }),
    { numRuns: 300 },
  );
});

const mask = (b: Uint8Array) => text(b).replace(/Date: [^\r]*\r\n/g, "Date: <masked>\r\n");

test("http_input answers the corpus byte for byte like the preview server", () => {
  for (const c of CORPUS) {
    const bytes = latin1(c.request);
    const want = mask(serveBytes(pack, bytes, DATE));
    assert.equal(mask(h.serve(bytes)), want, c.name);
  }
});

test("http_input gives the same answers whatever the reads", () => {
  for (const c of CORPUS) {
    const bytes = latin1(c.request);
    const want = mask(serveBytes(pack, bytes, DATE));
    for (const split of bytes.length > 1000 ? [997] : [1, 7])
      assert.equal(mask(h.serve(bytes, split)), want, `${c.name} in reads of ${split}`);
  }
});

test("http_timeout answers 408 and closes", () => {
  const want = errorResponse(pack, 408, DATE, false, true);
  assert.equal(mask(h.timeout()), mask(Buffer.concat(want.chunks)));
  assert.equal(h.closed, true);
});

test("http_input agrees with the preview on random pipelined requests", () => {
  const request = fc
    .tuple(
      fc.constantFrom("GET", "HEAD", "POST", "BREW"),
      fc.constantFrom(
        "/",
        "/about",
        "/about.html?x",
        "/docs",
        "/long.txt",
        "/gz-only.js",
        "/blog/a%20b?q",
        "/x/y",
        "/x.js",
        "/%zz",
        "/..",
        "*",
        "/search?y",
      ),
      fc.constantFrom(" HTTP/1.1", " HTTP/1.0"),
      fc.array(
        fc.constantFrom(
          "Host: x",
          "Connection: close",
          "Connection: keep-alive",
          "Accept-Encoding: gzip, br;q=0.5",
          "Accept-Encoding: br;q=0, *",
          "Accept-Encoding: identity;q=0",
          'If-None-Match: "long", W/"long-br"',
          'If-None-Match: "about"',
          "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT",
          "If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT",
          "Range: bytes=1-3",
          "Range: bytes=-5",
          "Range: bytes=9999-",
          'If-Range: "long"',
          "If-Range: Tue, 14 Nov 2023 22:13:20 GMT",
          "Content-Length: 2",
        ),
        { maxLength: 6 },
      ),
    )
    .map(
      ([m, t, v, hs]) =>
        `${m} ${t}${v}\r\n${hs.map((x) => `${x}\r\n`).join("")}\r\n${hs.includes("Content-Length: 2") ? "ab" : ""}`,
    );
  fc.assert(
    fc.property(
      fc.array(request, { minLength: 1, maxLength: 3 }),
      fc.constantFrom(0, 1, 5),
      (reqs, split) => {
        const bytes = latin1(reqs.join(""));
        const want = mask(serveBytes(pack, bytes, DATE));
        assert.equal(mask(h.serve(bytes, split || bytes.length)), want, reqs.join(""));
      },
    ),
    { numRuns: 400 },
  );
});
