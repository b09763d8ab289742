// With access rules that cover none of its paths, the preview's access front must answer the request
// corpus, and mutations of it, byte for byte as the plain preview does: the front only judges, and
// hands every other byte (pipelined requests, bodies, malformed heads) to the usual connection code.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { compileAccess } from "../../src/access/compile.ts";
import { hashPassword } from "../../src/access/password.ts";
import { encodeAccessSection } from "../../src/access/section.ts";
import { writePack } from "../../src/pack/write.ts";
import { type PreviewServer, startPreview } from "../../src/preview/index.ts";
import { accessErrorPages } from "../../src/site/error-pages.ts";
import { CORPUS } from "../corpus/requests.ts";
import { exchange, recordCorpus } from "../corpus/run.ts";
import { CORPUS_SITE } from "../corpus/site.ts";

let plain: PreviewServer;
let guarded: PreviewServer;
before(async () => {
  const pack = writePack(CORPUS_SITE);
  const access = encodeAccessSection(
    compileAccess({
      auth: [{ path: "/zz-private", realm: "Z", users: { z: hashPassword("z", 1000) } }],
      ipRules: [{ path: "/zz-ip", rules: ["deny all"] }],
      trustedProxies: ["127.0.0.1"],
      proxy: [
        {
          path: "/zz-api",
          upstream: "http://127.0.0.1:9",
          connectTimeout: 1000,
          timeout: 1000,
          maxBodySize: 10,
        },
      ],
    }),
  );
  plain = await startPreview({ pack, port: 0 });
  guarded = await startPreview({
    pack: writePack({ ...CORPUS_SITE, access: { section: access, errors: accessErrorPages() } }),
    port: 0,
  });
});
after(async () => {
  await plain.close();
  await guarded.close();
});

test("the corpus gets the same bytes with and without the access front", async () => {
  assert.deepEqual(await recordCorpus(guarded.port), await recordCorpus(plain.port));
});

test("mutated and concatenated corpus requests get the same bytes with and without the access front", async () => {
  const cases = fc.sample(
    fc.tuple(
      fc.array(fc.constantFrom(...CORPUS.map((c) => c.request)), { minLength: 1, maxLength: 3 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    ),
    { numRuns: 300, seed: 8 },
  );
  const deadline = Date.now() + 30_000;
  for (let i = 0; i < cases.length && Date.now() < deadline; i += 20)
    await Promise.all(
      cases.slice(i, i + 20).map(async ([requests, edits]) => {
        const bytes = Buffer.from(requests.join(""), "latin1");
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        const [a, b] = await Promise.all([exchange(guarded.port, bytes), exchange(plain.port, bytes)]);
        assert.equal(a, b, JSON.stringify(bytes.toString("latin1").slice(0, 300)));
      }),
    );
});
