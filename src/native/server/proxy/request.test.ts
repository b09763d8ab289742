import assert from "node:assert/strict";
import { SocketAddress } from "node:net";
import { test } from "node:test";
import fc from "fast-check";
import type { ProxyRule } from "../../../access/rules.ts";
import { parseRequest } from "../../../preview/parse.ts";
import { upstreamHeaders, upstreamTarget } from "../../../preview/proxy.ts";
import { normaliseTarget } from "../../../preview/target.ts";
import { ProgramBuilder } from "../../ir/builder.ts";
import { Machine } from "../../ir/interpret.ts";
import { Q } from "./layout.ts";
import { emitAddressText, emitProxyHead } from "./request.ts";

const p = new ProgramBuilder();
for (const name of ["input", "out", "rest", "query", "base", "host", "peer"]) p.bss(name, 40 * 1024, 8);
p.bss("q", Q.size, 8);
emitProxyHead(p);
emitAddressText(p);
p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
const m = new Machine(p.build("main"), { syscall: () => 0n, maxSteps: 1e8 });
const at = (s: string) => m.address(s);
const latin1 = (b: Uint8Array) => Buffer.from(b).toString("latin1");

/** What Node's http.request writes for these arguments (agent: false, headers as a flat list, no body). */
function nodeHead(method: string, target: string, flat: string[]): string {
  const upper = method.toUpperCase();
  let head = `${upper} ${target} HTTP/1.1\r\n`;
  for (let i = 0; i < flat.length; i += 2) head += `${flat[i]}: ${flat[i + 1]}\r\n`;
  return `${head}Connection: close\r\n\r\n`;
}

/** The header fields as the preview's access front reads them from a head the parser accepted. */
function headerFields(head: string): [string, string][] {
  return head
    .split("\r\n")
    .slice(1)
    .filter((l) => l.includes(":"))
    .map((l) => {
      const colon = l.indexOf(":");
      return [l.slice(0, colon), l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "")];
    });
}

interface Case {
  method: string;
  target: string;
  minor: 0 | 1;
  fields: [string, string][];
  rule: { path: string; host: string; port: number; base: string };
  trusted: boolean;
  peer: string;
}

function irHead(c: Case, head: Uint8Array, rest: Uint8Array, query: Uint8Array | undefined): string {
  m.memory.write(at("input"), head);
  const put = (symbol: string, bytes: Uint8Array, ptr: number, len: number) => {
    m.memory.write(at(symbol), bytes);
    m.memory.store(at("q") + ptr, 8, BigInt(at(symbol)));
    m.memory.store(at("q") + len, 8, BigInt(bytes.length));
  };
  const q = at("q");
  m.memory.store(q + Q.head, 8, BigInt(at("input")));
  put("rest", rest, Q.rest, Q.restLen);
  put("query", query ?? new Uint8Array(0), Q.query, Q.queryLen);
  if (!query) m.memory.store(q + Q.query, 8, 0n);
  put("base", Buffer.from(c.rule.base), Q.base, Q.baseLen);
  put("host", Buffer.from(c.rule.host), Q.host, Q.hostLen);
  put("peer", Buffer.from(c.peer), Q.peer, Q.peerLen);
  m.memory.store(q + Q.port, 8, BigInt(c.rule.port));
  m.memory.store(q + Q.trusted, 8, c.trusted ? 1n : 0n);
  const end = Number(m.call("proxy_head", [at("out"), q]));
  assert.equal(Number(m.memory.load(q + Q.end, 8)) - at("input"), head.length, "Q.end is the head's end");
  const expect = m.memory.load(q + Q.expect, 8) === 1n;
  const modelExpect = c.fields.some(
    ([n, v]) => n.toLowerCase() === "expect" && /^100-continue$/i.test(v.trim()),
  );
  assert.equal(expect, modelExpect, "Q.expect");
  return latin1(m.memory.read(at("out"), end - at("out")));
}

const ows = fc.constantFrom("", " ", "\t", "  ");
const fieldCase = fc.oneof(
  fc.tuple(
    fc.constantFrom(
      "X-Foo",
      "x-foo",
      "Accept",
      "Keep-Alive",
      "TE",
      "Trailer",
      "Upgrade",
      "Proxy-Connection",
      "X-Hop",
      "X-Forwarded-For",
      "x-forwarded-proto",
      "X-Forwarded-Host",
      "Expect",
      "Cookie",
      "Content-Length",
    ),
    fc.constantFrom(
      "1",
      "a b",
      "trailers",
      "100-continue",
      "100-Continue",
      "203.0.113.7, 10.0.0.1",
      "https",
      "\u00e9t\u00e9",
      "",
      "0",
    ),
  ),
  fc.tuple(
    fc.constantFrom("Connection", "connection"),
    fc
      .array(
        fc.constantFrom(
          "close",
          "keep-alive",
          "X-Hop",
          " x-foo ",
          "content-length",
          "",
          "Cookie",
          "x-forwarded-for",
          "host",
        ),
        {
          maxLength: 4,
        },
      )
      .map((ts) => ts.join(",")),
  ),
);
const caseArb: fc.Arbitrary<Case> = fc.record({
  method: fc.constantFrom("GET", "POST", "get", "Put", "PATCH", "DELETE", "PROPFIND", "HEAD", "OPTIONS"),
  target: fc
    .tuple(
      fc.constantFrom("/api", "/"),
      fc.array(
        fc.constantFrom(
          "a",
          "a%20b",
          "%C3%A9",
          "..",
          ".",
          "b~c",
          "q!$&'()*+,;=:@",
          "[x]",
          "a%25b",
          "",
          "%7e",
        ),
        {
          maxLength: 4,
        },
      ),
      fc.option(
        fc
          .array(fc.constantFrom(...'ab=&%20?"<{|}^`#é'.split("")), { maxLength: 8 })
          .map((cs) => cs.join("")),
      ),
    )
    .map(([root, segments, query]) => {
      const path = `${root}${root.endsWith("/") ? "" : "/"}${segments.join("/")}`;
      return query === null ? path : `${path}?${query}`;
    }),
  minor: fc.constantFrom(0 as const, 1 as const),
  fields: fc.array(
    fc.tuple(fieldCase, ows, ows).map(([[n, v], a, b]) => [n, `${a}${v}${b}`] as [string, string]),
    {
      maxLength: 7,
    },
  ),
  rule: fc.record({
    path: fc.constantFrom("/api", "/"),
    host: fc.constantFrom("api", "10.0.0.2", "::1", "upstream.example"),
    port: fc.constantFrom(80, 3000),
    base: fc.constantFrom("", "/v1", "/a%20b", "/%C3%A9", "/a%25"),
  }),
  trusted: fc.boolean(),
  peer: fc.constantFrom("127.0.0.1", "::1", "2001:db8::5"),
});

test("proxy_head writes the request the preview has Node send, byte for byte", () => {
  let compared = 0;
  fc.assert(
    fc.property(caseArb, fc.option(fc.constantFrom("site.example", "site.example:8080", "")), (c, host) => {
      const fields = [...c.fields];
      if (host !== null) fields.splice(fields.length >> 1, 0, ["Host", host]);
      // the parser wants one Host in HTTP/1.1, and a Content-Length it can read
      const text =
        `${c.method} ${c.target} HTTP/1.${c.minor}\r\n` +
        fields.map(([n, v]) => `${n}:${v}\r\n`).join("") +
        "\r\n";
      const head = Buffer.from(text, "latin1");
      const parsed = parseRequest(head);
      if (parsed.kind !== "request" || parsed.headLength !== head.length) return;
      const target = normaliseTarget(parsed.request.target);
      if (!target) return;
      const path = latin1(target.path);
      if (c.rule.path !== "/" && path !== c.rule.path && !path.startsWith(`${c.rule.path}/`)) return;
      const rest = c.rule.path === "/" ? target.path : target.path.subarray(c.rule.path.length);
      const rule: ProxyRule = { ...c.rule, connectTimeout: 1, timeout: 1, maxBody: 1 };
      const flat = upstreamHeaders({
        rule,
        method: c.method,
        headers: headerFields(text),
        peer: c.peer,
        trustedPeer: c.trusted,
      });
      const expected = nodeHead(c.method, upstreamTarget(c.rule.base, rest, target.query), flat);
      assert.equal(irHead({ ...c, fields }, head, rest, target.query), expected);
      compared++;
    }),
    { numRuns: 1500 },
  );
  assert.ok(compared > 500, `only ${compared} cases were requests the parser accepts`);
});

/** Node's text of an IPv6 address (what remoteAddress shows), with the preview's ::ffff: stripped. */
function nodeText(bytes: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  const text = new SocketAddress({ address: groups.join(":"), family: "ipv6" }).address;
  return text.replace(/^::ffff:(?=\d+\.)/, "");
}

test("address_text writes an address as Node shows a peer (IPv4-mapped as a dotted quad)", () => {
  const word = fc.oneof(
    fc.constant(0),
    fc.constant(0),
    fc.constant(0xffff),
    fc.constant(1),
    fc.integer({ min: 0, max: 0xffff }),
  );
  fc.assert(
    fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
      const bytes = Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff]));
      m.memory.write(at("input"), bytes);
      const end = Number(m.call("address_text", [at("input"), at("out")]));
      assert.equal(latin1(m.memory.read(at("out"), end - at("out"))), nodeText(bytes));
    }),
    { numRuns: 2000 },
  );
});
