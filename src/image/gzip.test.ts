import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { requireCommands } from "../../test/support/tools.ts";
import { collect } from "./blob.ts";
import { GZIP_LEVEL, gzipBytes, gzipHeader, gzipStream } from "./gzip.ts";

function sample(): Uint8Array {
  const text = Buffer.from("<p>speck serves static sites</p>\n".repeat(4000));
  return Buffer.concat([text, randomBytes(50_000), text]);
}

test("gzipHeader() has no time, no name, XFL for the level and OS 255", () => {
  assert.deepEqual([...gzipHeader(9)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
  assert.deepEqual([...gzipHeader(1)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255]);
  assert.deepEqual([...gzipHeader(6)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
});

test("gzipStream() round-trips through zlib and matches gzipBytes()", async () => {
  const data = sample();
  const streamed = await collect(gzipStream([data]));
  assert.deepEqual(gunzipSync(streamed), Buffer.from(data));
  assert.deepEqual(streamed, gzipBytes(data));
  assert.ok(streamed.byteLength < data.byteLength / 2);
  assert.deepEqual(gunzipSync(await collect(gzipStream([]))), Buffer.alloc(0));
});

test("gzipStream() gives the same bytes however the input is chunked", async () => {
  const data = sample();
  const whole = gzipBytes(data, GZIP_LEVEL);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: data.byteLength }), { maxLength: 12 }),
      async (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), data.byteLength];
        const chunks = points.slice(1).map((end, i) => data.subarray(points[i], end));
        assert.deepEqual(await collect(gzipStream(chunks)), whole);
      },
    ),
    { numRuns: 25 },
  );
});

test("gzip -d decompresses gzipStream() output and finds the CRC and size right", async (t) => {
  if (!requireCommands(t, ["gzip"], "apt-get install gzip")) return;
  const data = sample();
  const compressed = await collect(gzipStream([data]));
  const out = execFileSync("gzip", ["-d", "-c"], { input: compressed, maxBuffer: 1 << 26 });
  assert.deepEqual(out, Buffer.from(data));
  const listing = execFileSync("gzip", ["-l", "-v"], { input: compressed, encoding: "utf8" });
  assert.match(listing, new RegExp(`${data.byteLength}`));
});

test("gzipStream() passes on an error of its source", async () => {
  async function* failing() {
    yield new Uint8Array(100_000);
    throw new Error("source broke");
  }
  await assert.rejects(collect(gzipStream(failing())), /source broke/);
});
