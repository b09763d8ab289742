import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { compileAccess } from "../access/compile.ts";
import { FEATURE } from "../access/features.ts";
import { hashPassword } from "../access/password.ts";
import { encodeAccessSection } from "../access/section.ts";
import { fnv1a64 } from "./hash.ts";
import { formatHttpDate } from "./http-date.ts";
import {
  ACCESS_ERROR_STATUSES,
  type Body,
  bodyLength,
  ERROR_STATUSES,
  isNormalisedPath,
  joinPack,
  PackError,
  type PackInput,
  type PackVariant,
  packChunks,
  packPieces,
  packStats,
  type Resource,
  readPack,
  writePack,
  writePackFile,
} from "./index.ts";
import { ERROR, ERROR_SIZE, FIELDS_LIMIT, H, routeSize, STRING, VARIANTS_AT } from "./layout.ts";

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

function small(routes: PackInput["routes"]): PackInput {
  return { routes, prefixRedirects: [], errors: errors() };
}

const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9._~-]{1,8}$/),
  fc.constantFrom("café", "日本", "a b", "%41"),
);
const path = fc
  .array(
    segment.filter((s) => s !== "." && s !== ".."),
    { minLength: 0, maxLength: 4 },
  )
  .chain((s) => fc.constantFrom(`/${s.join("/")}`, `/${s.join("/")}/`.replace("//", "/")));
const body = fc.uint8Array({ maxLength: 300 });
const header = fc.tuple(
  fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}$/),
  fc.stringMatching(/^[\x20-\x7e]{0,20}$/).map((v) => v.trim()),
);
const resourceArb = fc.record({
  kind: fc.constant("resource" as const),
  headers: fc.array(header, { maxLength: 3 }),
  lastModified: fc.option(fc.integer({ min: 0, max: 253402300799 }), { nil: undefined }),
  variants: fc
    .tuple(body, fc.option(body, { nil: undefined }), fc.option(body, { nil: undefined }), fc.boolean())
    .map(([identity, gzip, br, etags]) =>
      (
        [
          ["identity", identity],
          ["gzip", gzip],
          ["br", br],
        ] as const
      )
        .filter(([, b]) => b !== undefined)
        .map(([encoding, b], i) => ({
          encoding,
          body: b!,
          ...(etags ? { etag: `"t${i}-${b!.length}"` } : {}),
        })),
    ),
});
const location = fc.constantFrom("/", "/new", "https://example.com/x", "/q?a=1", "/f#top");
const redirectArb = fc.record({
  kind: fc.constant("redirect" as const),
  status: fc.constantFrom(301 as const, 302 as const, 307 as const, 308 as const),
  location,
  headers: fc.array(header, { maxLength: 2 }),
});
const site: fc.Arbitrary<PackInput> = fc.record({
  routes: fc.uniqueArray(fc.record({ path, response: fc.oneof(resourceArb, redirectArb) }), {
    selector: (r) => r.path,
    maxLength: 40,
  }),
  prefixRedirects: fc.array(
    fc.record({
      prefix: fc.constantFrom("/a/", "/b/c/", "/日本/"),
      status: fc.constantFrom(301 as const, 308 as const),
      target: location.map((l) => (l.endsWith("/") ? l : `${l}/`)),
      headers: fc.array(header, { maxLength: 2 }),
    }),
    { maxLength: 3 },
  ),
  spa: fc.option(resourceArb, { nil: undefined }),
  errors: fc.constant(errors()),
});

/** Every header line of `headers`, in order, somewhere in `head`. */
function assertHeadHas(head: Uint8Array, headers: PackInput["routes"][number]["response"]["headers"]) {
  const text = decode(head);
  let from = 0;
  for (const [name, value] of headers) {
    const at = text.indexOf(`\r\n${name}: ${value}\r\n`, from - 2);
    assert.ok(at >= 0, `${name}: ${value} missing from ${JSON.stringify(text)}`);
    from = at + 2;
  }
}

test("readPack(writePack(site)) gives back every route, variant, head and body", () => {
  fc.assert(
    fc.property(site, (input) => {
      const pack = readPack(writePack(input));
      assert.equal(pack.routeCount, input.routes.length);
      assert.deepEqual(
        pack.routes().map((r) => r.path),
        input.routes.map((r) => r.path).sort(),
      );
      for (const r of input.routes) {
        const got = pack.lookup(text.encode(r.path));
        assert.ok(got, r.path);
        assert.equal(got.path, r.path);
        assert.equal(got.kind, r.response.kind);
        if (r.response.kind === "redirect") {
          assert.equal(got.status, r.response.status);
          assert.ok(decode(got.variants[0]!.full).endsWith(`\r\nLocation: ${r.response.location}`));
          assert.equal(got.appendQuery, !/[?#]/.test(r.response.location));
          assertHeadHas(got.variants[0]!.full, r.response.headers);
          continue;
        }
        const lm = r.response.lastModified;
        assert.equal(decode(got.lastModifiedText), lm === undefined ? "" : formatHttpDate(lm));
        assert.equal(got.variants.filter(Boolean).length, r.response.variants.length);
        for (const v of r.response.variants) {
          const slot: PackVariant = got.variants[["identity", "gzip", "br"].indexOf(v.encoding)]!;
          assert.deepEqual(slot.body, v.body);
          assert.equal(decode(slot.etag), v.etag ?? "");
          assert.ok(decode(slot.full).endsWith(`Content-Length: ${bodyLength(v.body)}\r\n`));
          assert.equal(
            decode(slot.full).includes("Vary: Accept-Encoding\r\n"),
            r.response.variants.length > 1,
          );
          assertHeadHas(slot.full, r.response.headers);
          assertHeadHas(slot.partial, r.response.headers);
          assert.ok(decode(slot.notModified).startsWith("HTTP/1.1 304 Not Modified\r\n"));
        }
      }
      input.prefixRedirects.forEach((rule, i) => {
        const got = pack.prefixRedirects[i]!;
        assert.equal(decode(got.prefix), rule.prefix);
        assert.equal(got.status, rule.status);
        assert.ok(decode(got.head).endsWith(`\r\nLocation: ${rule.target}`));
      });
      assert.equal(pack.lookup(text.encode("/definitely/not/there")), undefined);
      assert.equal(Boolean(pack.spa), Boolean(input.spa));
    }),
    { numRuns: 150 },
  );
});

test("writePack() is deterministic whatever the route order", () => {
  fc.assert(
    fc.property(site, (input) => {
      const reversed = { ...input, routes: [...input.routes].reverse() };
      assert.deepEqual(writePack(input), writePack(reversed));
    }),
    { numRuns: 50 },
  );
});

test("heads: 200, 206 and 304 forms, the lines a 304 repeats last, Vary on negotiable routes", () => {
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
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nAccept-Ranges: bytes\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\nETag: "x"\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 5\r\n',
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
  assert.equal(old.appendQuery, true);
  assert.equal(decode(a.lastModifiedText), "Sun, 06 Nov 1994 08:49:37 GMT");
  assert.equal(decode(pack.prefixRedirects[0]!.prefix), "/blog/");
  assert.equal(pack.prefixRedirects[0]!.status, 308);
  assert.equal(pack.errors[404].status, 404);
  assert.equal(decode(pack.strings[STRING.connectionClose]!), "Connection: close\r\n");
  assert.equal(pack.strings[STRING.byteClasses]!.length, 256);
});

test("a Location with its own query or fragment does not get the request's query", () => {
  const pack = readPack(
    writePack({
      routes: [
        { path: "/q", response: { kind: "redirect", status: 302, location: "/x?a=1", headers: [] } },
        { path: "/f", response: { kind: "redirect", status: 302, location: "/x#top", headers: [] } },
      ],
      prefixRedirects: [{ prefix: "/p/", status: 301, target: "https://e.com/?to=", headers: [] }],
      errors: errors(),
    }),
  );
  assert.equal(pack.lookup(text.encode("/q"))!.appendQuery, false);
  assert.equal(pack.lookup(text.encode("/f"))!.appendQuery, false);
  assert.equal(pack.prefixRedirects[0]!.appendQuery, false);
});

test("Last-Modified at the epoch is still sent and compared", () => {
  const pack = readPack(
    writePack({
      routes: [{ path: "/", response: resource("x", { lastModified: 0 }) }],
      prefixRedirects: [],
      errors: errors(),
    }),
  );
  const root = pack.lookup(text.encode("/"))!;
  assert.equal(decode(root.lastModifiedText), "Thu, 01 Jan 1970 00:00:00 GMT");
  assert.match(decode(root.variants[0]!.full), /Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n/);
});

test("writePack() refuses input that would put bad bytes on the wire or never match", () => {
  const base = { prefixRedirects: [], errors: errors() };
  const one = (path: string, r: Resource) => writePack({ ...base, routes: [{ path, response: r }] });
  assert.throws(() => one("/a//b", resource("x")), /not normalised/);
  assert.throws(() => one("/a/../b", resource("x")), /not normalised/);
  assert.throws(() => one("a", resource("x")), /not normalised/);
  assert.throws(
    () => one("/a", resource("x", { headers: [["X-A", "1\r\nSet-Cookie: y"]] })),
    /control character/,
  );
  assert.throws(() => one("/a", resource("x", { headers: [["Bad Name", "1"]] })), /not a token/);
  assert.throws(
    () => one("/a", resource("x", { headers: [["content-length", "1"]] })),
    /written by the pack/,
  );
  assert.throws(
    () =>
      one("/a", resource("x", { variants: [{ encoding: "identity", body: new Uint8Array(), etag: "abc" }] })),
    /quoted strong entity tag/,
  );
  assert.throws(
    () =>
      writePack({
        ...base,
        routes: [{ path: "/r", response: { kind: "redirect", status: 301, location: "/a b", headers: [] } }],
      }),
    /printable ASCII/,
  );
  assert.throws(
    () =>
      writePack({
        ...base,
        routes: [],
        prefixRedirects: [{ prefix: "/p", status: 301, target: "/", headers: [] }],
      }),
    /ending with "\/"/,
  );
});

test("a pack with access rules is version 12: the section, its feature bits and the 401/403/502/504 responses", () => {
  const section = encodeAccessSection(
    compileAccess({
      auth: [
        { path: "/a", realm: "A", users: { bob: hashPassword("pw", 1000) } },
        { path: "/e", realm: "E", usersFrom: { env: "USERS" } },
      ],
      ipRules: [{ path: "/", rules: ["deny 10.0.0.0/8"] }],
      trustedProxies: [],
      proxy: [],
    }),
  );
  const accessErrors = Object.fromEntries(
    ACCESS_ERROR_STATUSES.map((s) => [s, resource(`denied ${s}`)]),
  ) as Record<(typeof ACCESS_ERROR_STATUSES)[number], Resource>;
  const input = {
    ...small([{ path: "/", response: resource("home") }]),
    access: { section, errors: accessErrors },
  };
  const bytes = writePack(input);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(H.version, true), 12);
  assert.equal(view.getUint32(H.accessFeatures, true), FEATURE.ip | FEATURE.auth | FEATURE.runtimeUsers);
  assert.equal(Number(view.getBigUint64(H.access, true)) % 8, 0);
  const pack = readPack(bytes);
  assert.deepEqual(pack.access?.section, section);
  assert.equal(pack.access?.features, FEATURE.ip | FEATURE.auth | FEATURE.runtimeUsers);
  for (const status of ACCESS_ERROR_STATUSES) {
    assert.equal(pack.errors[status]?.status, status);
    assert.equal(decode(pack.errors[status]!.variants[0]!.body), `denied ${status}`);
  }
  assert.equal(decode(pack.errors[404].variants[0]!.body), "error 404");

  const plain = writePack(small([{ path: "/", response: resource("home") }]));
  assert.equal(new DataView(plain.buffer).getUint32(H.version, true), 11, "no rules: version 11");
  assert.equal(readPack(plain).access, undefined);
  assert.equal(readPack(plain).errors[401], undefined);

  const lying = bytes.slice();
  new DataView(lying.buffer).setUint32(H.accessFeatures, FEATURE.ip, true);
  assert.throws(() => readPack(lying), /access features 1 are not the section's 13/);
  const damaged = bytes.slice();
  damaged[Number(view.getBigUint64(H.access, true))] = 0;
  assert.throws(() => readPack(damaged), /access section: no "SPKACC01" magic/);
  const downgraded = bytes.slice();
  new DataView(downgraded.buffer).setUint32(H.version, 11, true);
  assert.throws(() => readPack(downgraded), PackError);
  assert.throws(
    () => writePack({ ...input, access: { section: section.subarray(0, 8), errors: accessErrors } }),
    /pack: access section/,
  );
});

test("readPack() refuses corrupt and truncated packs with a clear error", () => {
  const good = writePack(small([{ path: "/x", response: resource("0123456789", { lastModified: 1 }) }]));
  assert.throws(() => readPack(good.subarray(0, good.length - 1)), /truncated/);
  assert.throws(() => readPack(new Uint8Array(100)), /bad magic/);
  const wrongVersion = good.slice();
  wrongVersion[8] = 13;
  assert.throws(() => readPack(wrongVersion), /version 13/);
  const fixedRecords = good.slice();
  fixedRecords[8] = 1;
  assert.throws(
    () => readPack(fixedRecords),
    /version 1, this speck reads versions 11 and 12 \(rebuild the pack\)/,
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 16, max: good.length - 1 }),
      fc.integer({ min: 0, max: 255 }),
      (at, value) => {
        const bad = good.slice();
        bad[at] = value;
        let pack: ReturnType<typeof readPack>;
        try {
          pack = readPack(bad);
        } catch (error) {
          assert.ok(error instanceof PackError, String(error));
          return;
        }
        // a pack that passed validation serves without errors
        pack.routes();
        pack.lookup(text.encode("/x"));
        pack.lookup(text.encode("/y"));
      },
    ),
    { numRuns: 1000 },
  );
});

test("equal heads and bodies are stored once, small or large, and counted once by packStats", () => {
  const large = "y".repeat(5000);
  const input = small([
    { path: "/a/", response: resource("small page") },
    { path: "/a/index.html", response: resource("small page") },
    { path: "/big", response: resource(large) },
    { path: "/big.txt", response: resource(large) },
    { path: "/other", response: resource("z".repeat(5000)) },
  ]);
  const bytes = writePack(input);
  const pack = readPack(bytes);
  const variant = (path: string) => pack.lookup(text.encode(path))!.variants[0]!;
  for (const [one, two] of [
    ["/a/", "/a/index.html"],
    ["/big", "/big.txt"],
  ]) {
    const [a, b] = [variant(one!), variant(two!)];
    assert.equal(a.body.byteOffset, b.body.byteOffset, `${one} and ${two} share their body`);
    assert.equal(a.full.byteOffset, b.full.byteOffset, `${one} and ${two} share their head`);
    assert.deepEqual(a.body, b.body);
  }
  assert.notEqual(variant("/big").body.byteOffset, variant("/other").body.byteOffset);
  assert.equal(decode(variant("/other").body), "z".repeat(5000));
  const distinct = writePack(
    small(
      input.routes.map((r) => (r.path === "/big.txt" ? { ...r, response: resource("x".repeat(5000)) } : r)),
    ),
  );
  assert.ok(distinct.length - bytes.length >= 5000, "a duplicate body costs no bytes of its own");
  const stats = packStats(pack);
  assert.equal(stats.total, stats.headers + stats.identity + stats.gzip + stats.br + stats.index);
  const errorBodies = ERROR_STATUSES.reduce((sum, status) => sum + `error ${status}`.length, 0);
  assert.equal(stats.identity, 5000 + 5000 + "small page".length + errorBodies, "each body counted once");
  assert.deepEqual(packChunks(input).stats, stats, "the writer's account equals the reader's");
});

test("writePackFile() streams the same bytes to disk", () => {
  const dir = mkdtempSync(join(tmpdir(), "speck-pack-"));
  try {
    const input = { ...small([{ path: "/x", response: resource("x".repeat(1000)) }]), spa: resource("spa") };
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
  assert.equal(formatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  assert.equal(formatHttpDate(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  assert.equal(formatHttpDate(253402300799), "Fri, 31 Dec 9999 23:59:59 GMT");
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253402300799 }), (t) => {
      const date = formatHttpDate(t);
      assert.match(date, /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
      assert.equal(Date.parse(date) / 1000, t);
    }),
  );
});

test("packStats() accounts for every byte and names the largest routes", () => {
  const big = new Uint8Array(5000);
  const input: PackInput = {
    ...small([
      { path: "/small", response: resource("x") },
      {
        path: "/big",
        response: resource("", {
          variants: [
            { encoding: "identity", body: big },
            { encoding: "gzip", body: new Uint8Array(300) },
            { encoding: "br", body: new Uint8Array(200) },
          ],
        }),
      },
    ]),
  };
  const bytes = writePack(input);
  const stats = packStats(readPack(bytes));
  assert.equal(stats.total, bytes.length);
  assert.equal(stats.routes, 2);
  assert.equal(stats.gzip, 300);
  assert.equal(stats.br, 200);
  assert.equal(stats.identity, 5000 + 1 + ERROR_STATUSES.reduce((n, s) => n + `error ${s}`.length, 0));
  assert.ok(stats.headers > 0 && stats.index > 0);
  assert.equal(stats.headers + stats.identity + stats.gzip + stats.br + stats.index, stats.total);
  assert.deepEqual(
    stats.largest.map((l) => l.path),
    ["/big", "/small"],
  );
  assert.ok(stats.largest[0]!.bytes > 5500);
  assert.deepEqual(packChunks(input).stats, stats, "the writer's account equals the reader's");
});

test("packPieces() copies small chunks together into pieces of up to a MiB, in file order", () => {
  const routes = Array.from({ length: 3000 }, (_, i) => ({
    path: `/page/${i}`,
    response: resource(`page ${i} `.repeat(1 + (i % 50))),
  }));
  const big = { path: "/big", response: resource("b".repeat(300_000)) };
  const pack = packChunks(small([...routes, big]));
  const pieces = [...packPieces(pack)];
  assert.deepEqual(Buffer.concat(pieces), Buffer.concat(pack.chunks as Uint8Array[]));
  assert.ok(pack.chunks.length > 6000, `${pack.chunks.length} chunks`);
  assert.ok(pieces.length <= Math.ceil(pack.size / 2 ** 20) + 3, `${pieces.length} pieces`);
  assert.ok(pieces.every((piece) => piece.length <= 2 ** 20 || pack.chunks.includes(piece)));
});

test("bodies left in their files are read as the pack is written: the same bytes as in memory", () => {
  const dir = mkdtempSync(join(tmpdir(), "speck-pack-"));
  try {
    const contents = [randomBytes(3 << 20), randomBytes(5000)];
    const files = contents.map((bytes, i) => {
      const file = join(dir, `${i}.bin`);
      writeFileSync(file, bytes);
      return { file, size: bytes.length, hash: createHash("sha256").update(bytes).digest("hex") };
    });
    const copy = join(dir, "copy.bin");
    writeFileSync(copy, contents[0]!);
    const routes = (bodies: Body[]) =>
      small([
        { path: "/a", response: resource("", { variants: [{ encoding: "identity", body: bodies[0]! }] }) },
        { path: "/b", response: resource("", { variants: [{ encoding: "identity", body: bodies[1]! }] }) },
        { path: "/c", response: resource("", { variants: [{ encoding: "identity", body: bodies[2]! }] }) },
      ]);
    const fromFiles = routes([files[0]!, files[1]!, { ...files[0]!, file: copy }]);
    const inMemory = routes([contents[0]!, contents[1]!, contents[0]!]);
    const pack = packChunks(fromFiles);
    assert.equal(pack.chunks.filter((c) => !(c instanceof Uint8Array)).length, 2, "the copy is stored once");
    assert.deepEqual(joinPack(pack), writePack(inMemory));
    assert.deepEqual(pack.stats, packChunks(inMemory).stats);
    writePackFile(fromFiles, join(dir, "site.pack"));
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, "site.pack"))), writePack(inMemory));

    truncateSync(files[1]!.file, 4000);
    assert.throws(() => joinPack(pack), /1\.bin changed while the pack was being written; build again/);
    writeFileSync(files[1]!.file, Buffer.concat([contents[1]!, Buffer.from("more")]));
    assert.throws(() => joinPack(pack), /changed while the pack was being written/);
    rmSync(files[1]!.file);
    assert.throws(() => joinPack(pack), /cannot read .*1\.bin: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fnv1a64() equals the BigInt definition for any bytes", () => {
  const reference = (bytes: Uint8Array) => {
    let h = 0xcbf29ce484222325n;
    for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
    return h;
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => assert.equal(fnv1a64(b), reference(b))),
    {
      numRuns: 2000,
    },
  );
});

test("readPack() refuses a pack cut at any length", () => {
  const good = writePack(small([{ path: "/x", response: resource("body", { lastModified: 5 }) }]));
  for (let length = 0; length < good.length; length++)
    assert.throws(() => readPack(good.subarray(0, length)), PackError, `cut at ${length}`);
});

test("offsets past 4 GiB are written as 64-bit values", () => {
  // 70 distinct 64 MiB bodies (equal ones would be stored once) as windows of one buffer, each
  // starting with a different byte
  const size64 = 64 << 20;
  const memory = new Uint8Array(size64 + 70);
  for (let i = 0; i < 70; i++) memory[i] = i;
  const body = memory.subarray(69, 69 + size64);
  const routes = Array.from({ length: 70 }, (_, i) => ({
    path: `/${String(i).padStart(2, "0")}`,
    response: resource("", {
      variants: [{ encoding: "identity" as const, body: memory.subarray(i, i + size64) }],
    }),
  }));
  const { chunks, size } = packChunks(small(routes));
  assert.ok(size > 70 * body.length && size > 2 ** 32);
  assert.equal(
    chunks.reduce((n, c) => n + bodyLength(c), 0),
    size,
  );
  const records = new DataView((chunks[0] as Uint8Array).buffer);
  const last = Number(records.getBigUint64(32, true)) + 69 * routeSize(1);
  const bodyAt = Number(records.getBigUint64(last + VARIANTS_AT + 48, true));
  assert.ok(bodyAt > 2 ** 32, `last body at ${bodyAt}`);
  assert.equal(records.getBigUint64(last + VARIANTS_AT + 56, true), BigInt(body.length));
  assert.equal(records.getBigUint64(16, true), BigInt(size));
});

test("a route record holds only the variants it has: identity and br take 160 bytes, br at 96", () => {
  const both = resource("identity body", {
    variants: [
      { encoding: "identity", body: text.encode("identity body") },
      { encoding: "br", body: text.encode("br body") },
    ],
  });
  const bytes = writePack(small([{ path: "/a", response: both }]));
  const view = new DataView(bytes.buffer);
  const at = Number(view.getBigUint64(H.routes, true));
  assert.equal(view.getUint8(at + 15), 0b101);
  const brHead = Number(view.getBigUint64(at + 96, true));
  assert.match(
    decode(bytes.subarray(brHead, brHead + view.getUint32(at + 104, true))),
    /Content-Encoding: br/,
  );
  assert.equal(Number(view.getBigUint64(H.prefixes, true)), at + routeSize(0b101), "then the error table");
  assert.equal(routeSize(0b101), 160);
  assert.equal(decode(readPack(bytes).lookup(text.encode("/a"))!.variants[2]!.body), "br body");
});

test("206 and 304 heads are not stored: the record points at the 200 head's fields, the 304's last", () => {
  const bytes = writePack(small([{ path: "/a", response: resource("0123456789", { lastModified: 1 }) }]));
  const view = new DataView(bytes.buffer);
  const v = Number(view.getBigUint64(H.routes, true)) + VARIANTS_AT;
  const full = decode(
    bytes.subarray(
      Number(view.getBigUint64(v, true)),
      Number(view.getBigUint64(v, true)) + view.getUint32(v + 8, true),
    ),
  );
  const fieldsAt = Number(view.getBigUint64(v + 16, true));
  assert.equal(fieldsAt, Number(view.getBigUint64(v, true)) + "HTTP/1.1 200 OK\r\n".length);
  const fields = decode(bytes.subarray(fieldsAt, fieldsAt + view.getUint32(v + 12, true)));
  assert.equal(full, `HTTP/1.1 200 OK\r\n${fields}Content-Length: 10\r\n`);
  const kept = 'ETag: "e"\r\nLast-Modified: Thu, 01 Jan 1970 00:00:01 GMT\r\n';
  assert.ok(fields.endsWith(`Accept-Ranges: bytes\r\n${kept}`), fields);
  const notModifiedAt = Number(view.getBigUint64(v + 24, true));
  assert.equal(notModifiedAt, fieldsAt + fields.length - kept.length);
  assert.equal(view.getUint32(v + 32, true), kept.length);
  const read = readPack(bytes).lookup(text.encode("/a"))!.variants[0]!;
  assert.equal(decode(read.partial), `HTTP/1.1 206 Partial Content\r\n${fields}`);
  assert.equal(decode(read.notModified), `HTTP/1.1 304 Not Modified\r\n${kept}`);
  const huge = resource("big", { headers: [["X-Big", "a".repeat(FIELDS_LIMIT)]] });
  assert.throws(
    () => writePack(small([{ path: "/big", response: huge }])),
    /route \/big: its headers take 16\d{3} bytes, more than the 16384/,
  );
});

test("the error table holds each error response's status line, shared fields and body in 40 bytes, in ordinal order", () => {
  const bytes = writePack(small([{ path: "/a", response: resource("a") }]));
  const view = new DataView(bytes.buffer);
  const table = Number(view.getBigUint64(H.errors, true));
  assert.equal(Number(view.getBigUint64(H.strings, true)), table + ERROR_STATUSES.length * ERROR_SIZE);
  const piece = (at: number, lengthAt: number) => {
    const offset = Number(view.getBigUint64(at, true));
    return { offset, text: decode(bytes.subarray(offset, offset + view.getUint32(lengthAt, true))) };
  };
  const fieldOffsets = new Set<number>();
  ERROR_STATUSES.forEach((status, ordinal) => {
    const at = table + ordinal * ERROR_SIZE;
    assert.equal(view.getUint16(at + ERROR.status, true), status);
    assert.match(
      piece(at + ERROR.statusLine, at + ERROR.statusLineLength).text,
      new RegExp(`^HTTP/1.1 ${status} [^\r]+\r\n$`),
    );
    assert.equal(piece(at + ERROR.body, at + ERROR.bodyLength).text, `error ${status}`);
    const fields = piece(at + ERROR.fields, at + ERROR.fieldsLength);
    assert.doesNotMatch(fields.text, /HTTP\/1\.1|Content-Length/);
    fieldOffsets.add(fields.offset);
  });
  assert.equal(fieldOffsets.size, 1, "error pages with the same headers share one copy of them");
  const read = readPack(bytes).errors[404].variants[0]!;
  assert.match(decode(read.full), /^HTTP\/1\.1 404 Not Found\r\n[\s\S]*\r\nContent-Length: 9\r\n$/);
  const broken = bytes.slice();
  new DataView(broken.buffer).setUint16(table + ERROR.status, 401, true);
  assert.throws(() => readPack(broken), /error entry 0 has status 401, expected 400/);
  const huge = resource("big", { headers: [["X-Big", "a".repeat(FIELDS_LIMIT)]] });
  assert.throws(
    () => writePack({ ...small([]), errors: { ...errors(), 404: huge } }),
    /the 404 error response: its headers take 16\d{3} bytes, more than the 16384/,
  );
});

test("isNormalisedPath() accepts clean paths only", () => {
  for (const good of ["/", "/a", "/a/", "/a/b.html", "/.well-known/x"])
    assert.ok(isNormalisedPath(good), good);
  for (const bad of ["", "a", "//", "/a//b", "/./a", "/a/..", "/a\0"]) assert.ok(!isNormalisedPath(bad), bad);
});
