// Random sites written to disk, compiled, packed and answered by the preview server's request
// machine: every file is reachable at its URL (at most one redirect away) with its exact bytes and
// type, unknown pages get the SPA or the 404 page, unknown assets always 404, and every variant
// decodes to the file.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import fc from "fast-check";
import { validateConfig } from "../../src/config/load.ts";
import { readPack } from "../../src/pack/read.ts";
import { writePack } from "../../src/pack/write.ts";
import { serveBytes } from "../../src/preview/index.ts";
import { dateLine } from "../../src/preview/respond.ts";
import { compileSite } from "../../src/site/compile.ts";
import { contentType } from "../../src/site/content-type.ts";
import { encodePath } from "../../src/site/url.ts";

const work = mkdtempSync(join(tmpdir(), "speck-site-e2e-"));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

interface Answer {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

function ask(pack: ReturnType<typeof readPack>, method: string, target: string, extra = ""): Answer {
  const raw = Buffer.from(
    serveBytes(
      pack,
      Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`, "latin1"),
      dateLine(0),
    ),
  );
  const end = raw.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const headers = new Map(
    lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  return { status: Number(statusLine!.split(" ")[1]), headers, body: raw.subarray(end + 4) };
}

const segment = fc.constantFrom("a", "b", "docs", "c d", "é", "x.y");
const page = fc.constantFrom(".html", ".css", ".js", ".svg", ".png", ".txt");
const filePath = fc
  .tuple(fc.array(segment, { maxLength: 2 }), fc.constantFrom("index", "a", "b", "z"), page)
  .map(([dirs, name, ext]) => [...dirs, name + ext].join("/"));
const siteArbitrary = fc.record({
  files: fc
    .uniqueArray(filePath, { minLength: 1, maxLength: 7 })
    .filter((files) =>
      files.every((f) => !files.some((g) => g.startsWith(`${f.slice(0, f.lastIndexOf("."))}/`))),
    ),
  body: fc.string({ minLength: 0, maxLength: 600, unit: fc.constantFrom("a", "b", "<p>", " ", "é") }),
  cleanUrls: fc.boolean(),
  trailingSlash: fc.constantFrom("auto" as const, "always" as const, "never" as const),
  spa: fc.boolean(),
  notFound: fc.boolean(),
});

test("random sites: every file answers with its bytes and type, fallbacks answer the rest", async () => {
  await fc.assert(
    fc.asyncProperty(siteArbitrary, async (site) => {
      const root = join(work, `site${counter++}`);
      const files = new Map(site.files.map((f, i) => [f, `${site.body}#${i}`.repeat(i + 1)]));
      if (site.spa) files.set("app.html", "<main>app</main>");
      if (site.notFound) files.set("404.html", "<p>custom 404</p>");
      for (const [path, body] of files) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), body);
      }
      const config = validateConfig(
        {
          cleanUrls: site.cleanUrls,
          trailingSlash: site.trailingSlash,
          compression: { minSize: 0 },
          ...(site.spa ? { spa: "app.html" } : {}),
        },
        "test",
        root,
      );
      let compiled: Awaited<ReturnType<typeof compileSite>>;
      try {
        compiled = await compileSite(config, { cacheDir: join(work, "cache") });
      } catch (error) {
        assert.match((error as Error).message, / is claimed twice: by .+ and by .+/);
        return;
      }
      const pack = readPack(writePack(compiled.input));

      for (const [path, body] of files) {
        let url = encodePath(`/${path}`);
        const first = ask(pack, "GET", url);
        if (first.status === 308) url = first.headers.get("location")!;
        const answer = ask(pack, "GET", url);
        assert.equal(answer.status, 200, `/${path}`);
        assert.equal(answer.body.toString("utf8"), body, `/${path}`);
        assert.equal(answer.headers.get("content-type"), contentType(path));
        assert.equal(ask(pack, "HEAD", url).body.length, 0);
        for (const [coding, decode] of [
          ["br", brotliDecompressSync],
          ["gzip", gunzipSync],
        ] as const) {
          const encoded = ask(pack, "GET", url, `Accept-Encoding: ${coding}\r\n`);
          const used = encoded.headers.get("content-encoding");
          assert.ok(used === undefined || used === coding, `${coding} asked, ${used} given`);
          const bytes = used === coding ? decode(encoded.body) : encoded.body;
          assert.equal(bytes.toString("utf8"), body, `/${path} with ${coding}`);
        }
      }

      const unknownPage = ask(pack, "GET", "/no/such/page");
      const unknownAsset = ask(pack, "GET", "/no/such/file.js");
      assert.equal(unknownAsset.status, 404, "unknown assets are never the SPA");
      if (site.spa) {
        assert.equal(unknownPage.status, 200);
        assert.equal(unknownPage.body.toString(), "<main>app</main>");
      } else assert.equal(unknownPage.status, 404);
      for (const missing of site.spa ? [unknownAsset] : [unknownAsset, unknownPage])
        assert.equal(
          missing.body.toString().includes("<p>custom 404</p>"),
          site.notFound,
          "the site's 404 page when it has one",
        );
      const post = ask(pack, "POST", "/", "Content-Length: 0\r\n");
      assert.equal(post.status, 405);
      assert.equal(post.headers.get("allow"), "GET, HEAD");
    }),
    { numRuns: 40 },
  );
});
