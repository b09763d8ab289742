// Bounded differential fuzzing: corpus requests mutated at random (bytes replaced, inserted, cut,
// requests spliced together) go to the native server and to the preview over the same pack; the
// native server must never crash or hang and must answer byte for byte like the oracle (Date masked).
// SPECK_FUZZ_RUNS raises the count for longer manual runs.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { buildServer } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import { writePack } from "../../src/pack/write.ts";
import { startPreview } from "../../src/preview/index.ts";
import { CORPUS } from "../corpus/requests.ts";
import { exchange } from "../corpus/run.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { freePort } from "../support/net.ts";

const RUNS = Number(process.env.SPECK_FUZZ_RUNS ?? 1000);
const work = mkdtempSync(join(tmpdir(), "speck-fuzz-"));
after(() => rmSync(work, { recursive: true, force: true }));

const INTERESTING = [
  "\r\n",
  "\r",
  "\n",
  " ",
  "%",
  "%2F",
  "%00",
  "..",
  "/",
  "?",
  ":",
  ",",
  ";q=0",
  "\t",
  "\x00",
  "\x7f",
  "é",
  "HTTP/1.1",
  "0",
  "-",
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), text: fc.constantFrom(...INTERESTING) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...INTERESTING), fc.string({ maxLength: 4 })),
  }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
);
const request = fc
  .tuple(
    fc.constantFrom(...CORPUS.map((c) => c.request)),
    fc.array(mutation, { minLength: 1, maxLength: 4 }),
    fc.option(fc.constantFrom(...CORPUS.map((c) => c.request)), { nil: undefined }),
  )
  .map(([base, mutations, tail]) => {
    let text = base;
    for (const m of mutations) {
      const at = m.at % (text.length + 1);
      if (m.kind === "replace") text = text.slice(0, at) + m.text + text.slice(at + m.text.length);
      else if (m.kind === "insert") text = text.slice(0, at) + m.text + text.slice(at);
      else text = text.slice(0, at) + text.slice(at + m.length);
    }
    return Buffer.from(text + (tail ?? ""), "utf8");
  });

test(`x64: ${RUNS} mutated requests get the preview's exact answers from the native server`, async () => {
  const port = await freePort();
  const pack = writePack(CORPUS_SITE);
  writeFileSync(join(work, "site.pack"), pack);
  const binary = join(work, "speck");
  writeFileSync(binary, buildServer(TARGETS.x64).elf);
  chmodSync(binary, 0o755);
  const server = spawn(binary, [join(work, "site.pack")], {
    env: { PORT: String(port), SPECK_WORKERS: "1" },
    stdio: "ignore",
  });
  let crashed: string | undefined;
  server.on("exit", (code, signal) => {
    crashed = `native server exited (${code ?? signal})`;
  });
  const preview = await startPreview({ pack, port: 0 });
  try {
    for (let i = 0; i < 50; i++) {
      if (
        await exchange(port, "GET / HTTP/1.0\r\n\r\n", 500).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const samples = fc.sample(request, { numRuns: RUNS, seed: 20261122 });
    for (const bytes of samples) {
      const [native, oracle] = await Promise.all([
        exchange(port, bytes, 15_000),
        exchange(preview.port, bytes, 15_000),
      ]);
      assert.equal(crashed, undefined);
      assert.equal(native, oracle, `request ${JSON.stringify(bytes.toString("latin1"))}`);
    }
  } finally {
    await preview.close();
    server.kill("SIGKILL");
  }
});
