import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { fnv1a64 } from "./hash.ts";
import { formatHttpDate, parseHttpDate } from "./http-date.ts";
import {
  ERROR_STATUSES,
  type PackInput,
  type Resource,
  readPack,
  writePack,
  writePackFile,
} from "./index.ts";

const text = new TextEncoder();
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function resource(body: string, extra: Partial<Resource> = {}): Resource {
  return {
    kind: "resource",
    headers: [["Content-Type", "text/plain"]],
    variants: [{ encoding: "identity", body: text.encode(body), etag: '"e"' }],
    ...extra,
  };
}

function errors(): PackInput["errors"] {
  return Object.fromEntries(ERROR_STATUSES.map((s) => [s, resource(`error ${s}`)])) as PackInput["errors"];
}

const segment = fc.stringMatching(/^[a-z0-9._~-]{1,8}$/);
const path = fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => `/${s.join("/")}`);
const body = fc.uint8Array({ maxLength: 300 });
const site = fc.record({
  routes: fc.uniqueArray(
    fc.record({
      path,
      bodies: fc.array(body, { minLength: 1, maxLength: 3 }),
      lm: fc.integer({ min: 0, max: 2 ** 40 }),
    }),
    {
      selector: (r) => r.path,
      maxLength: 40,
    },
  ),
  spa: fc.option(body, { nil: undefined }),
});

function toInput(s: typeof site extends fc.Arbitrary<infer T> ? T : never): PackInput {
  return {
    routes: s.routes.map((r) => ({
      path: r.path,
      response: {
        kind: "resource",
        headers: [["Content-Type", "application/octet-stream"]],
        lastModified: r.lm,
        variants: r.bodies.map((b, i) => ({
          encoding: (["identity", "gzip", "br"] as const)[i]!,
          body: b,
          etag: `"h${i}"`,
        })),
      },
    })),
    prefixRedirects: [],
    spa: s.spa ? resource("spa") : undefined,
    errors: errors(),
  };
}

test("readPack(writePack(site)) gives back every route, variant and body", () => {
  fc.assert(
    fc.property(site, (s) => {
      const input = toInput(s);
      const pack = readPack(writePack(input));
      assert.equal(pack.routeCount, input.routes.length);
      for (const r of input.routes) {
        const got = pack.lookup(text.encode(r.path));
        assert.ok(got, r.path);
        assert.equal(got.path, r.path);
        if (r.response.kind !== "resource") continue;
        assert.equal(got.lastModified, r.response.lastModified);
        r.response.variants.forEach((v, i) => {
          assert.deepEqual(got.variants[i]!.body, v.body);
          assert.equal(decode(got.variants[i]!.etag), v.etag);
          assert.match(decode(got.variants[i]!.full), new RegExp(`Content-Length: ${v.body.length}\r\n$`));
        });
      }
      assert.equal(pack.lookup(text.encode("/definitely/not/there")), undefined);
      assert.equal(Boolean(pack.spa), Boolean(s.spa));
    }),
    { numRuns: 150 },
  );
});

test("writePack() is deterministic whatever the route order", () => {
  fc.assert(
    fc.property(site, (s) => {
      const input = toInput(s);
      const reversed = { ...input, routes: [...input.routes].reverse() };
      assert.deepEqual(writePack(input), writePack(reversed));
    }),
    { numRuns: 50 },
  );
});

test("heads are precomputed: 200, 206 and 304 forms, Vary on negotiable routes", () => {
  const pack = readPack(
    writePack({
      routes: [
        {
          path: "/a.txt",
          response: {
            kind: "resource",
            headers: [
              ["Content-Type", "text/plain; charset=utf-8"],
              ["Cache-Control", "no-cache"],
            ],
            lastModified: 784111777,
            variants: [
              { encoding: "identity", body: text.encode("hello"), etag: '"x"' },
              { encoding: "br", body: text.encode("hi"), etag: '"x-br"' },
            ],
          },
        },
        { path: "/old", response: { kind: "redirect", status: 301, location: "/new", headers: [] } },
      ],
      prefixRedirects: [{ prefix: "/blog/", status: 308, target: "/news/", headers: [] }],
      errors: errors(),
    }),
  );
  const a = pack.lookup(text.encode("/a.txt"))!;
  assert.equal(
    decode(a.variants[0]!.full),
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\nETag: "x"\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nAccept-Ranges: bytes\r\nContent-Length: 5\r\n',
  );
  assert.match(decode(a.variants[2]!.full), /Content-Encoding: br\r\n/);
  assert.equal(a.variants[1], undefined);
  assert.equal(
    decode(a.variants[0]!.partial),
    decode(a.variants[0]!.full).replace("200 OK", "206 Partial Content").replace("Content-Length: 5\r\n", ""),
  );
  assert.equal(
    decode(a.variants[0]!.notModified),
    'HTTP/1.1 304 Not Modified\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\nETag: "x"\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n',
  );
  const old = pack.lookup(text.encode("/old"))!;
  assert.equal(old.kind, "redirect");
  assert.equal(
    decode(old.variants[0]!.full),
    "HTTP/1.1 301 Moved Permanently\r\nContent-Length: 0\r\nLocation: /new",
  );
  assert.equal(decode(pack.prefixRedirects[0]!.prefix), "/blog/");
  assert.equal(pack.errors[404].status, 404);
});

test("readPack() refuses corrupt and truncated packs with a clear error", () => {
  const good = writePack(
    toInput({ routes: [{ path: "/x", bodies: [new Uint8Array(10)], lm: 1 }], spa: undefined }),
  );
  assert.throws(() => readPack(good.subarray(0, good.length - 1)), /truncated/);
  assert.throws(() => readPack(new Uint8Array(100)), /bad magic/);
  const wrongVersion = good.slice();
  wrongVersion[8] = 9;
  assert.throws(() => readPack(wrongVersion), /version 9/);
  fc.assert(
    fc.property(
      fc.integer({ min: 16, max: good.length - 1 }),
      fc.integer({ min: 0, max: 255 }),
      (at, value) => {
        const bad = good.slice();
        bad[at] = value;
        try {
          const pack = readPack(bad);
          pack.routes();
          pack.lookup(text.encode("/x"));
        } catch (error) {
          assert.match((error as Error).message, /not a valid speck pack|duplicate|identity/);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("writePackFile() streams the same bytes to disk", () => {
  const dir = mkdtempSync(join(tmpdir(), "speck-pack-"));
  try {
    const input = toInput({
      routes: [{ path: "/x", bodies: [new Uint8Array(1000)], lm: 1 }],
      spa: new Uint8Array(1),
    });
    writePackFile(input, join(dir, "site.pack"));
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, "site.pack"))), writePack(input));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fnv1a64() and HTTP dates match their definitions", () => {
  assert.equal(fnv1a64(new Uint8Array()), 0xcbf29ce484222325n);
  assert.equal(fnv1a64(text.encode("a")), 0xaf63dc4c8601ec8cn);
  assert.equal(formatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  assert.equal(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  assert.equal(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), null);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253402300799 }), (t) =>
      assert.equal(parseHttpDate(formatHttpDate(t)), t),
    ),
  );
});
