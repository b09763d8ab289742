import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import fc from "fast-check";
import { clientHead } from "../../../preview/proxy.ts";
import { ProgramBuilder } from "../../ir/builder.ts";
import { Machine } from "../../ir/interpret.ts";
import { MODE, RESPONSE_HEAD_MAX, XF } from "./layout.ts";
import { emitChunkDecode, emitResponseHead, RI } from "./response.ts";

/** Node's HTTP parser (llhttp), which the preview's http.request reads upstream responses with. */
const { HTTPParser } = createRequire(import.meta.url)("_http_common") as {
  HTTPParser: {
    new (): {
      initialize(type: number, resource: object): void;
      execute(data: Buffer): number | Error;
      finish(): undefined | Error;
      [key: number]: unknown;
    };
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
};

interface Parsed {
  /** Final (non-1xx) heads. */
  head?: { status: number; message: string; headers: string[] };
  body: Buffer;
  error: boolean;
  done: boolean;
}

function llhttp(bytes: Uint8Array, headRequest: boolean): Parsed {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {});
  const out: Parsed = { body: Buffer.alloc(0), error: false, done: false };
  let more: string[] = [];
  parser[HTTPParser.kOnHeaders] = (h: string[]) => {
    more = more.concat(h);
  };
  parser[HTTPParser.kOnHeadersComplete] = (...args: unknown[]) => {
    const [, , headers, , , status, message, upgrade] = args as [
      number,
      number,
      string[] | undefined,
      unknown,
      unknown,
      number,
      string,
      boolean,
    ];
    const all = headers ?? more;
    more = [];
    if (status >= 100 && status < 200 && status !== 101) return 0;
    if (upgrade) out.error = true; // the preview has no upgrade handler: the socket is destroyed
    out.head ??= { status, message, headers: all };
    return headRequest ? 1 : 0;
  };
  parser[HTTPParser.kOnBody] = (b: Buffer) => {
    out.body = Buffer.concat([out.body, b]);
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (out.head) out.done = true;
  };
  if (parser.execute(Buffer.from(bytes)) instanceof Error) out.error = true;
  return out;
}

const p = new ProgramBuilder();
p.bss("input", 64 * 1024, 8);
p.bss("out", 64 * 1024, 8);
p.bss("info", RI.size, 8);
p.bss("state", 16, 8);
emitResponseHead(p, RESPONSE_HEAD_MAX);
emitChunkDecode(p);
p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
const m = new Machine(p.build("main"), { syscall: () => 0n, maxSteps: 1e8 });
const at = (s: string) => m.address(s);
const latin1 = (b: Uint8Array) => Buffer.from(b).toString("latin1");

/** The IR's reading: the client's head and the body's framing, skipping 1xx heads; null when refused. */
function irHead(
  bytes: Uint8Array,
  flags: number,
): { head: string; mode: number; flags: number; length: bigint } | null {
  m.memory.write(at("input"), bytes);
  let offset = 0;
  for (;;) {
    const n = Number(
      BigInt.asIntN(
        64,
        m.call("resp_head", [at("input") + offset, bytes.length - offset, at("out"), at("info"), flags]),
      ),
    );
    if (n < 0) return null;
    assert.notEqual(n, 0, "a complete head is never incomplete");
    const info = (o: number) => m.memory.load(at("info") + o, 8);
    if (Number(info(RI.mode)) === MODE.interim) {
      offset += n;
      continue;
    }
    assert.equal(offset + n, bytes.length, "the head's length");
    return {
      head: latin1(m.memory.read(at("out"), Number(info(RI.outLen)))),
      mode: Number(info(RI.mode)),
      flags: Number(info(RI.flags)),
      length: info(RI.length),
    };
  }
}

const headerLine = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          "X-A",
          "x-b",
          "Server",
          "Keep-Alive",
          "Connection",
          "Transfer-Encoding",
          "Content-Length",
          "Upgrade",
          "TE",
          "Trailer",
          "X-Hop",
          "Set-Cookie",
          "Expect",
        ),
        fc.constantFrom("", " ", "\t", "  "),
        fc.constantFrom(
          "1",
          "a b",
          "X-Hop, close",
          " x-a ",
          "chunked",
          "gzip, chunked",
          "CHUNKED",
          "chunked, gzip",
          "003",
          "+3",
          "3, 3",
          "\u00e9t\u00e9",
          "a\u0001b",
          "a\u007fb",
          "keep-alive",
          "",
          "12",
        ),
        fc.constantFrom("", " ", "\t"),
      )
      .map(([n, a, v, b]) => `${n}:${a}${v}${b}\r\n`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "X-A : 1\r\n",
      "X@A: 1\r\n",
      ": 1\r\n",
      " folded\r\n",
      "X-A: a\nb\r\n",
      "X-A: a\rb\r\n",
    ),
  },
);
const statusLine = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "http/1.1", "HTTP/3.0"),
        fc.constantFrom("200", "204", "304", "404", "099", "000", "999", "101", "20", "2000"),
        fc.constantFrom(" OK", "", " ", "  OK ", " \u00e9t\u00e9", " O\u0001K", "\tOK", " Not Found"),
      )
      .map(([v, s, r]) => `${v} ${s}${r}\r\n`),
  },
  { weight: 1, arbitrary: fc.constantFrom("HTTP/1.1 200 OK\n", "garbage\r\n", "HTTP/1.1  200 OK\r\n") },
);
const interim = fc.constantFrom(
  "",
  "",
  "",
  "HTTP/1.1 100 Continue\r\n\r\n",
  "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
  "\r\n",
);

test("resp_head accepts what Node's parser accepts and writes the preview's client head", () => {
  let compared = 0;
  fc.assert(
    fc.property(
      interim,
      statusLine,
      fc.array(headerLine, { maxLength: 6 }),
      fc.constantFrom("GET", "HEAD"),
      fc.constantFrom(0 as const, 1 as const),
      fc.boolean(),
      (first, status, lines, method, minor, close) => {
        const bytes = Buffer.from(`${first}${status}${lines.join("")}\r\n`, "latin1");
        const node = llhttp(bytes, method === "HEAD");
        const flags =
          (method === "HEAD" ? XF.head : 0) | (minor === 0 ? XF.http10 : 0) | (close ? XF.close : 0);
        const ir = irHead(bytes, flags);
        const text = latin1(bytes);
        if (node.error || !node.head) {
          assert.equal(ir, null, `Node refuses ${JSON.stringify(text)}`);
          return;
        }
        assert.ok(ir, `Node accepts ${JSON.stringify(text)}`);
        const expected = clientHead(node.head.status, node.head.message, node.head.headers, {
          method,
          minor,
          close,
        });
        assert.equal(ir.head, latin1(expected.head), JSON.stringify(text));
        assert.equal((ir.flags & XF.rechunk) !== 0, expected.chunked, "rechunked");
        assert.equal((ir.flags & XF.close) !== 0, expected.close, "closes");
        // a Transfer-Encoding that is not empty frames the body (an empty one does not, for Node)
        const te = node.head.headers.some(
          (h, i) =>
            i % 2 === 0 && h.toLowerCase() === "transfer-encoding" && node.head!.headers[i + 1] !== "",
        );
        if (ir.mode === MODE.length) assert.ok(!te);
        compared++;
      },
    ),
    { numRuns: 2500 },
  );
  assert.ok(compared > 300, `only ${compared} heads were accepted`);
});

test("resp_head waits for a head in pieces and refuses one above the limit", () => {
  const whole = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
  for (let cut = 0; cut < whole.length; cut++) {
    m.memory.write(at("input"), whole.subarray(0, cut));
    assert.equal(m.call("resp_head", [at("input"), cut, at("out"), at("info"), 0]), 0n, `${cut} bytes`);
  }
  const huge = Buffer.from(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(RESPONSE_HEAD_MAX)}\r\n\r\n`);
  m.memory.write(at("input"), huge);
  assert.equal(
    BigInt.asIntN(64, m.call("resp_head", [at("input"), RESPONSE_HEAD_MAX, at("out"), at("info"), 0])),
    -1n,
  );
});

/** The IR's decoding of `body` in pieces: the data, whether it ended, whether it failed. */
function irChunks(body: Uint8Array, cuts: number[]): { data: Buffer; done: boolean; error: boolean } {
  m.memory.store(at("state"), 8, 0n);
  m.memory.store(at("state") + 8, 8, 0n);
  const parts: Buffer[] = [];
  let from = 0;
  for (const to of [...cuts.filter((c) => c < body.length).sort((a, b) => a - b), body.length]) {
    if (to < from) continue;
    m.memory.write(at("input"), body.subarray(from, to));
    const n = Number(m.call("chunk_decode", [at("state"), at("input"), to - from]));
    const status = Number(BigInt.asIntN(64, m.reg("a1")));
    parts.push(Buffer.from(m.memory.read(at("input"), n)));
    from = to;
    if (status === -1) return { data: Buffer.concat(parts), done: false, error: true };
    if (status === 1) return { data: Buffer.concat(parts), done: true, error: false };
  }
  return { data: Buffer.concat(parts), done: false, error: false };
}

const chunk = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).chain((data) =>
      fc
        .tuple(fc.constantFrom("", "0", "00"), fc.boolean(), fc.constantFrom("", ";x=y", ';q="a;b"', ";"))
        .map(([zeros, upper, ext]) => {
          const size = data.length.toString(16);
          return Buffer.concat([
            Buffer.from(`${zeros}${upper ? size.toUpperCase() : size}${ext}\r\n`),
            data,
            Buffer.from("\r\n"),
          ]);
        }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        "3 \r\nabc\r\n",
        "3\nabc\r\n",
        "3\r\nabcX\r\n",
        "\r\nabc\r\n",
        "g\r\n",
        "fffffffffffffffff\r\nabc\r\n",
        "3;a\nb\r\nabc\r\n",
      )
      .map((t) => Buffer.from(t)),
  },
);
const last = fc.constantFrom(
  "0\r\n\r\n",
  "0;x\r\n\r\n",
  "000\r\n\r\n",
  "0\r\nX-T: 1\r\n\r\n",
  "0\r\nA: 1\r\nB: 2\r\n\r\n",
  "0\r\n\n",
  "",
);

test("chunk_decode decodes what Node's parser decodes, in any pieces, and fails where it fails", () => {
  const head = Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  fc.assert(
    fc.property(
      fc.array(chunk, { maxLength: 5 }),
      last,
      fc.array(fc.nat({ max: 300 }), { maxLength: 6 }),
      (chunks, end, cuts) => {
        const body = Buffer.concat([...chunks, Buffer.from(end)]);
        const node = llhttp(Buffer.concat([head, body]), false);
        const ir = irChunks(body, cuts);
        assert.equal(ir.error, node.error, `error for ${JSON.stringify(body.toString("latin1"))}`);
        if (node.error) return;
        assert.equal(ir.done, node.done, "done");
        assert.deepEqual(ir.data, node.body);
      },
    ),
    { numRuns: 2000 },
  );
});
