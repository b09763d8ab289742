// The request corpus against the preview server: every case's statuses and key bytes as the spec says.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { writePack } from "../../src/pack/write.ts";
import { type PreviewServer, startPreview } from "../../src/preview/index.ts";
import { CORPUS } from "../corpus/requests.ts";
import { exchange, recordCorpus, statuses } from "../corpus/run.ts";
import { CORPUS_SITE } from "../corpus/site.ts";

let server: PreviewServer;
before(async () => {
  server = await startPreview({ pack: writePack(CORPUS_SITE), port: 0 });
});
after(() => server.close());

for (const c of CORPUS) {
  test(`preview answers the corpus case "${c.name}"`, async () => {
    const raw = await exchange(server.port, c.request);
    assert.deepEqual(statuses(raw), c.statuses, raw.slice(0, 400));
    for (const pattern of c.includes ?? []) {
      if (typeof pattern === "string")
        assert.ok(raw.includes(pattern), `missing ${JSON.stringify(pattern)} in\n${raw.slice(0, 600)}`);
      else assert.match(raw, pattern);
    }
    for (const pattern of c.excludes ?? []) {
      if (typeof pattern === "string")
        assert.ok(!raw.includes(pattern), `unexpected ${JSON.stringify(pattern)}`);
      else assert.doesNotMatch(raw, pattern);
    }
    assert.ok(raw.includes("Date: <masked>\r\n"), "every response carries Date");
  });
}

test("recordCorpus() gives the same bytes on a second run (only Date varies, and it is masked)", async () => {
  const [first, second] = [await recordCorpus(server.port), await recordCorpus(server.port)];
  assert.equal(first.length, CORPUS.length);
  assert.deepEqual(second, first);
});

test("500 mutated corpus requests over sockets: every connection is answered or closed, the server keeps serving", async () => {
  const rng = fc.sample(
    fc.tuple(
      fc.constantFrom(...CORPUS.map((c) => c.request)),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    ),
    { numRuns: 500, seed: 42 },
  );
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < rng.length && Date.now() < deadline; i += 25) {
    await Promise.all(
      rng.slice(i, i + 25).map(async ([request, edits]) => {
        const bytes = Buffer.from(request, "latin1");
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        const raw = await exchange(server.port, bytes);
        for (const status of statuses(raw)) assert.ok(status >= 200 && status < 600, raw.slice(0, 200));
      }),
    );
  }
  const after = await exchange(server.port, CORPUS[0]!.request);
  assert.deepEqual(statuses(after), CORPUS[0]!.statuses);
});
