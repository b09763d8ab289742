// The request corpus: well-formed, edge-case and malformed requests with what the spec says about
// their answers. Each is sent on a fresh connection; the native server's differential suite sends
// the same bytes to both servers and compares the full responses with Date masked.

export interface CorpusCase {
  name: string;
  request: string;
  /** Expected status of each response, in order (pipelined requests give several). */
  statuses: number[];
  /** Patterns the whole response text must match. */
  includes?: (string | RegExp)[];
  excludes?: (string | RegExp)[];
}

const get = (path: string, headers = "") =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`;

export const CORPUS: CorpusCase[] = [
  {
    name: "root",
    request: get("/"),
    statuses: [200],
    includes: ["<h1>home</h1>", "Content-Length: 29\r\n", "Connection: close\r\n"],
  },
  {
    name: "page",
    request: get("/about"),
    statuses: [200],
    includes: ['ETag: "about"', "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT"],
  },
  {
    name: "head",
    request: "HEAD /about HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    statuses: [200],
    excludes: ["<h1>"],
  },
  {
    name: "clean url redirect keeps query",
    request: get("/about.html?x=1&y"),
    statuses: [308],
    includes: ["Location: /about?x=1&y\r\n"],
  },
  {
    name: "trailing slash redirect",
    request: get("/docs"),
    statuses: [308],
    includes: ["Location: /docs/\r\n"],
  },
  {
    name: "absolute redirect",
    request: get("/old"),
    statuses: [301],
    includes: ["Location: https://example.com/new\r\n"],
  },
  {
    name: "prefix redirect",
    request: get("/blog/2024/hello%20world"),
    statuses: [302],
    includes: ["Location: /news/2024/hello%20world\r\n"],
  },
  {
    name: "prefix redirect encodes",
    request: get("/blog/caf%C3%A9?q"),
    statuses: [302],
    includes: ["Location: /news/caf%C3%A9?q\r\n"],
  },
  { name: "spa fallback", request: get("/users/42"), statuses: [200], includes: ["<div id=app>"] },
  { name: "asset 404", request: get("/missing.js"), statuses: [404], includes: ["<h1>404</h1>"] },
  { name: "query ignored", request: get("/about?utm=1"), statuses: [200], includes: ["<h1>about</h1>"] },
  { name: "dot segments", request: get("/docs/../about"), statuses: [200], includes: ["<h1>about</h1>"] },
  { name: "repeated slashes", request: get("//docs//"), statuses: [200], includes: ["<h1>docs</h1>"] },
  { name: "percent decoding", request: get("/%61bout"), statuses: [200], includes: ["<h1>about</h1>"] },
  { name: "utf-8 path", request: get("/caf%C3%A9.txt"), statuses: [200], includes: ["accents"] },
  { name: "escape above root", request: get("/../etc/passwd"), statuses: [400] },
  { name: "encoded dot dot above root", request: get("/%2e%2e/x"), statuses: [400] },
  { name: "encoded slash", request: get("/docs%2Fx"), statuses: [400] },
  { name: "encoded nul", request: get("/a%00"), statuses: [400] },
  { name: "bad percent", request: get("/a%zz"), statuses: [400] },
  {
    name: "absolute form",
    request: "GET http://example.com/about HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    statuses: [200],
  },
  {
    name: "asterisk form",
    request: "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    statuses: [405],
  },
  {
    name: "post",
    request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    statuses: [405],
    includes: ["Allow: GET, HEAD"],
  },
  {
    name: "unknown method",
    request: "BREW / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    statuses: [501],
  },
  { name: "http/2 version", request: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", statuses: [505] },
  {
    name: "http/1.2 is 1.1",
    request: "GET / HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n",
    statuses: [200],
  },
  { name: "http/0.9", request: "GET /\r\n\r\n", statuses: [400] },
  { name: "lowercase version", request: "GET / http/1.1\r\nHost: x\r\n\r\n", statuses: [400] },
  { name: "missing host", request: "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", statuses: [400] },
  { name: "two hosts", request: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", statuses: [400] },
  {
    name: "http/1.0 closes",
    request: "GET / HTTP/1.0\r\n\r\n",
    statuses: [200],
    includes: ["Connection: close\r\n"],
  },
  {
    name: "http/1.0 keep-alive",
    request: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /about HTTP/1.0\r\n\r\n",
    statuses: [200, 200],
    includes: ["Connection: keep-alive\r\n"],
  },
  {
    name: "pipelined",
    request: `GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /about HTTP/1.1\r\nHost: x\r\n\r\n${get("/docs/")}`,
    statuses: [200, 200, 200],
  },
  { name: "leading empty lines", request: `\r\n\r\n${get("/")}`, statuses: [200] },
  { name: "bare lf", request: "GET / HTTP/1.1\nHost: x\n\n", statuses: [400] },
  // framing is judged before the request line, however the bytes arrive: not 505
  {
    name: "bare lf in a field, version 2",
    request: "GET / HTTP/2.1\r\nHost: x\nX: y\r\n\r\n",
    statuses: [400],
  },
  { name: "obs-fold", request: "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n", statuses: [400] },
  { name: "space before colon", request: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", statuses: [400] },
  {
    name: "control char in value",
    request: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    statuses: [400],
  },
  {
    name: "transfer-encoding",
    request: "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    statuses: [400],
  },
  {
    name: "te and cl",
    request: "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    statuses: [400],
  },
  {
    name: "differing content-lengths",
    request: "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    statuses: [400],
  },
  {
    name: "same content-lengths",
    request: `GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab${get("/about")}`,
    statuses: [200, 200],
  },
  {
    name: "bad content-length",
    request: "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
    statuses: [400],
  },
  {
    name: "body discarded",
    request: `GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello${get("/about")}`,
    statuses: [200, 200],
  },
  {
    name: "body too large",
    request: "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
    statuses: [413],
  },
  { name: "uri too long", request: `GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, statuses: [414] },
  {
    name: "headers too large",
    request: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(9000)}\r\n\r\n`,
    statuses: [431],
  },
  {
    name: "if-none-match hit",
    request: get("/about", 'If-None-Match: "nope", W/"about"\r\n'),
    statuses: [304],
    includes: ['ETag: "about"'],
    excludes: ["Content-Length", "<h1>"],
  },
  { name: "if-none-match star", request: get("/about", "If-None-Match: *\r\n"), statuses: [304] },
  { name: "if-none-match miss", request: get("/about", 'If-None-Match: "other"\r\n'), statuses: [200] },
  {
    name: "if-modified-since equal",
    request: get("/about", "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n"),
    statuses: [304],
  },
  {
    name: "if-modified-since older",
    request: get("/about", "If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT\r\n"),
    statuses: [200],
  },
  {
    name: "if-modified-since bad format",
    request: get("/about", "If-Modified-Since: Tuesday, 14-Nov-23 22:13:20 GMT\r\n"),
    statuses: [200],
  },
  {
    name: "inm wins over ims",
    request: get("/about", 'If-None-Match: "x"\r\nIf-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n'),
    statuses: [200],
  },
  {
    name: "range",
    request: get("/long.txt", "Range: bytes=0-5\r\n"),
    statuses: [206],
    includes: ["Content-Range: bytes 0-5/2400\r\n", "Content-Length: 6\r\n"],
  },
  {
    name: "open range",
    request: get("/long.txt", "Range: bytes=2398-\r\n"),
    statuses: [206],
    includes: ["Content-Range: bytes 2398-2399/2400"],
  },
  {
    name: "suffix range",
    request: get("/long.txt", "Range: bytes=-3\r\n"),
    statuses: [206],
    includes: ["Content-Range: bytes 2397-2399/2400"],
  },
  {
    name: "range past end clamps",
    request: get("/long.txt", "Range: bytes=2390-9999\r\n"),
    statuses: [206],
    includes: ["bytes 2390-2399/2400"],
  },
  {
    name: "unsatisfiable range",
    request: get("/long.txt", "Range: bytes=5000-\r\n"),
    statuses: [416],
    includes: ["Content-Range: bytes */2400\r\n"],
  },
  {
    name: "multiple ranges give 200",
    request: get("/long.txt", "Range: bytes=0-1,5-6\r\n"),
    statuses: [200],
  },
  { name: "invalid range ignored", request: get("/long.txt", "Range: bytes=9-1\r\n"), statuses: [200] },
  { name: "other unit ignored", request: get("/long.txt", "Range: items=0-1\r\n"), statuses: [200] },
  {
    name: "if-range etag match",
    request: get("/long.txt", 'Range: bytes=0-0\r\nIf-Range: "long"\r\n'),
    statuses: [206],
  },
  {
    name: "if-range etag mismatch",
    request: get("/long.txt", 'Range: bytes=0-0\r\nIf-Range: "old"\r\n'),
    statuses: [200],
  },
  {
    name: "if-range weak never",
    request: get("/long.txt", 'Range: bytes=0-0\r\nIf-Range: W/"long"\r\n'),
    statuses: [200],
  },
  {
    name: "if-range date",
    request: get("/long.txt", "Range: bytes=0-0\r\nIf-Range: Tue, 14 Nov 2023 22:13:20 GMT\r\n"),
    statuses: [206],
  },
  {
    name: "head ignores range",
    request: "HEAD /long.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0\r\nConnection: close\r\n\r\n",
    statuses: [200],
  },
  {
    name: "brotli preferred",
    request: get("/long.txt", "Accept-Encoding: gzip, deflate, br\r\n"),
    statuses: [200],
    includes: ["Content-Encoding: br", "BR-BODY", "Vary: Accept-Encoding"],
  },
  {
    name: "gzip by q",
    request: get("/long.txt", "Accept-Encoding: br;q=0.5, gzip;q=0.8\r\n"),
    statuses: [200],
    includes: ["GZIP-BODY"],
  },
  {
    name: "br refused",
    request: get("/long.txt", "Accept-Encoding: br;q=0, *\r\n"),
    statuses: [200],
    includes: ["GZIP-BODY"],
  },
  {
    name: "identity preferred by q",
    request: get("/long.txt", "Accept-Encoding: gzip;q=0.1, identity;q=0.9\r\n"),
    statuses: [200],
    includes: ["speck speck"],
  },
  {
    name: "star zero still identity",
    request: get("/long.txt", "Accept-Encoding: *;q=0\r\n"),
    statuses: [200],
    includes: ["speck speck"],
  },
  {
    name: "no accept-encoding",
    request: get("/long.txt"),
    statuses: [200],
    includes: ["speck speck", "Vary: Accept-Encoding"],
  },
  {
    name: "gzip only route",
    request: get("/gz-only.js", "Accept-Encoding: br, gzip\r\n"),
    statuses: [200],
    includes: ["Content-Encoding: gzip"],
  },
  {
    name: "br only route",
    request: get("/br-only.css", "Accept-Encoding: gzip, br\r\nRange: bytes=1-2\r\n"),
    statuses: [206],
    includes: ["Content-Encoding: br", "Content-Range: bytes 1-2/6", "\r\n\r\nR-"],
  },
  {
    name: "br only route, gzip asked",
    request: get("/br-only.css", 'Accept-Encoding: gzip\r\nIf-None-Match: "css"\r\n'),
    statuses: [304],
    includes: ['ETag: "css"', "Vary: Accept-Encoding"],
  },
  {
    name: "malformed q ignored",
    request: get("/long.txt", "Accept-Encoding: br;q=2, gzip\r\n"),
    statuses: [200],
    includes: ["GZIP-BODY"],
  },
  {
    name: "two accept-encoding lines",
    request: get("/long.txt", "Accept-Encoding: gzip\r\nAccept-Encoding: br\r\n"),
    statuses: [200],
    includes: ["BR-BODY"],
  },
  {
    name: "range on compressed variant",
    request: get("/long.txt", "Accept-Encoding: br\r\nRange: bytes=0-1\r\n"),
    statuses: [206],
    includes: ["Content-Range: bytes 0-1/7", "\r\n\r\nBR"],
  },
  { name: "empty file", request: get("/empty.txt"), statuses: [200], includes: ["Content-Length: 0\r\n"] },
  {
    name: "connection token list",
    request: "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n",
    statuses: [200],
    includes: ["Connection: close"],
  },
  { name: "lone cr", request: "GET / HTTP/1.1\rHost: x\r\n\r\n", statuses: [400] },
  { name: "leading bare lf", request: "\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", statuses: [400] },
  {
    name: "redirect with its own query keeps it",
    request: get("/search?q=1"),
    statuses: [302],
    includes: ["Location: /find?src=old\r\n"],
  },
  {
    name: "empty query still appended",
    request: get("/about.html?"),
    statuses: [308],
    includes: ["Location: /about?\r\n"],
  },
  {
    name: "head 404 has no body",
    request: "HEAD /missing.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    statuses: [404],
    excludes: ["<h1>"],
  },
  {
    name: "head bad target has no body",
    request: "HEAD /../x HTTP/1.1\r\nHost: x\r\n\r\n",
    statuses: [400],
    excludes: ["<h1>"],
    includes: ["Connection: close\r\n"],
  },
  {
    name: "416 keeps the connection",
    request: `GET /long.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=-0\r\n\r\n${get("/about")}`,
    statuses: [416, 200],
  },
  {
    name: "405 keeps the connection and discards the body",
    request: `PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nGET ${get("/about")}`,
    statuses: [405, 200],
  },
  {
    name: "404 keeps the connection",
    request: `GET /x.css HTTP/1.1\r\nHost: x\r\n\r\n${get("/about")}`,
    statuses: [404, 200],
  },
  { name: "lowercase method", request: get("/").replace("GET", "get"), statuses: [501] },
  {
    name: "connect authority form",
    request: get("example.com:443").replace("GET", "CONNECT"),
    statuses: [405],
  },
  { name: "get asterisk", request: get("*"), statuses: [400] },
  { name: "raw non-ascii target", request: get("/caf\xc3\xa9.txt"), statuses: [400] },
  {
    name: "https absolute form without path",
    request: get("HTTPS://example.com"),
    statuses: [200],
    includes: ["<h1>home</h1>"],
  },
  { name: "tab and obs-text in a value", request: get("/", "X-A:\tcaf\xe9\t\r\n"), statuses: [200] },
  { name: "header without colon", request: get("/", "X-A\r\n"), statuses: [400] },
  { name: "empty header name", request: get("/", ": x\r\n"), statuses: [400] },
  { name: "http/1.0 two hosts", request: "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", statuses: [400] },
  {
    name: "http/1.0 keep-alive then close",
    request: "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
    statuses: [200],
    includes: ["Connection: close\r\n"],
    excludes: ["keep-alive"],
  },
  {
    name: "head exactly at the limit",
    request: (() => {
      const start = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX: ";
      return `${start}${"v".repeat(8192 - start.length - 4)}\r\n\r\n`;
    })(),
    statuses: [200],
  },
  {
    name: "empty if-none-match disables if-modified-since",
    request: get("/about", "If-None-Match:\r\nIf-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n"),
    statuses: [200],
  },
  {
    name: "if-none-match on the chosen variant",
    request: get("/long.txt", 'Accept-Encoding: br\r\nIf-None-Match: "long-br"\r\n'),
    statuses: [304],
    includes: ["Vary: Accept-Encoding\r\n", 'ETag: "long-br"\r\n'],
  },
  {
    name: "if-none-match of another variant",
    request: get("/long.txt", 'Accept-Encoding: br\r\nIf-None-Match: "long"\r\n'),
    statuses: [200],
    includes: ["BR-BODY"],
  },
  {
    name: "if-range date mismatch",
    request: get("/long.txt", "Range: bytes=0-0\r\nIf-Range: Tue, 14 Nov 2023 22:13:21 GMT\r\n"),
    statuses: [200],
  },
  {
    name: "suffix longer than the body",
    request: get("/about", "Range: bytes=-1000\r\n"),
    statuses: [206],
    includes: ["Content-Range: bytes 0-29/30\r\n"],
  },
  {
    name: "if-modified-since on the spa fallback",
    request: get("/app/route", "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n"),
    statuses: [304],
  },
  {
    name: "conditionals ignored on 404",
    request: get("/x.js", "If-None-Match: *\r\n"),
    statuses: [404],
  },
  {
    name: "conditionals ignored on redirects",
    request: get("/old", "If-None-Match: *\r\nRange: bytes=0-1\r\n"),
    statuses: [301],
  },
  {
    name: "if-modified-since later than last-modified",
    request: get("/about", "If-Modified-Since: Tue, 14 Nov 2023 22:13:60 GMT\r\n"),
    statuses: [200],
  },
];
