// Pushes through a proxy that resets connections and answers 503 to a share of the requests
// (seeded, so the same faults every run), in front of a real registry (Debian's docker-registry,
// distribution 2.8). The push still completes, its chunked upload resumed or restarted where the
// registry stood, and the image skopeo copies back from the registry itself is intact. When every
// connection fails the push ends with one error naming the operation and the tries.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { buildImage, PLATFORMS, readLayout } from "../../src/image/index.ts";
import { standInServer } from "../../src/image/stand-in.ts";
import { type PushEvent, PushedBlobs, pushImage, RegistryError } from "../../src/registry/index.ts";
import { seededRandom, startFaultsProxy } from "../support/faults-proxy.ts";
import { startRegistry } from "../support/registry.ts";
import { requireCommands } from "../support/tools.ts";

const execFileAsync = promisify(execFile);
const INSTALL = "apt-get install docker-registry skopeo";
const work = mkdtempSync(join(tmpdir(), "speck-registry-faults-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** Short waits between tries, so many faults still make a quick test. */
const RETRY = { attempts: 10, baseDelayMs: 20, maxDelayMs: 400 };
const CHUNK = 256 * 1024;

test("a push through resets and 503s completes, resuming its chunked upload, and the pulled image is intact", async (t) => {
  if (!requireCommands(t, ["docker-registry", "skopeo"], INSTALL)) return;
  const registry = await startRegistry();
  const proxy = await startFaultsProxy({ target: registry.port, reset: 0.12, unavailable: 0.12, seed: 7 });
  try {
    // a random (incompressible) pack of 3 MiB: 12 chunks in the layer
    const random = seededRandom(99);
    const pack = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, () => Math.floor(random() * 256)));
    const image = await buildImage({
      platforms: PLATFORMS.map((platform) => ({ platform, server: standInServer(platform) })),
      pack,
      created: 1_700_000_000,
      tag: "acme/faulty:1",
    });
    const events: PushEvent[] = [];
    const summary = await pushImage(image, `127.0.0.1:${proxy.port}/acme/faulty:1`, {
      retry: RETRY,
      chunkSize: CHUNK,
      pushed: new PushedBlobs(),
      onEvent: (event) => events.push(event),
    });
    assert.equal(summary.digest, image.root.digest);

    const fates = (fate: string) => proxy.requests.filter((request) => request.fate === fate).length;
    t.diagnostic(
      `${proxy.requests.length} requests: ${fates("reset")} reset, ${fates("unavailable")} answered 503`,
    );
    assert.ok(fates("reset") > 0 && fates("unavailable") > 0, "the proxy did get in the way");
    const retries = events.filter((event) => event.type === "retry");
    assert.ok(retries.length >= fates("reset") + fates("unavailable") - 2, "every fault was retried");
    const packLayer = summary.blobs.find((blob) => blob.size > CHUNK)!;
    assert.equal(packLayer.outcome, "uploaded");
    t.diagnostic(
      `pack layer: ${packLayer.resumes} resumes, ${packLayer.restarts} restarts, ${packLayer.sentBytes} bytes sent for ${packLayer.size}`,
    );
    assert.ok(packLayer.resumes + packLayer.restarts > 0, "the chunked upload was interrupted and went on");
    assert.ok(
      proxy.requests.some(
        (r) => r.method === "GET" && r.path.includes("/blobs/uploads/") && r.fate === "forwarded",
      ),
      "it asked the registry where an upload stood",
    );

    // straight from the registry, not through the proxy: every platform, every blob checked
    const copied = join(work, "copied");
    await execFileAsync("skopeo", [
      "copy",
      "--all",
      "--src-tls-verify=false",
      `docker://${registry.host}/acme/faulty:1`,
      `oci:${copied}:1`,
    ]);
    const back = readLayout(copied);
    assert.equal(back.root.digest, image.root.digest);
    for (const platform of back.images) {
      for (const layer of platform.manifest.layers) for await (const _ of back.blob(layer.digest).open());
    }
  } finally {
    await proxy.stop();
    await registry.stop();
  }
});

test("when every connection is reset, the push fails with one line naming what failed and the tries", async (t) => {
  if (!requireCommands(t, ["docker-registry"], INSTALL)) return;
  const registry = await startRegistry();
  const proxy = await startFaultsProxy({ target: registry.port, reset: 1 });
  try {
    const image = await buildImage({
      platforms: [{ platform: PLATFORMS[0]!, server: standInServer(PLATFORMS[0]!) }],
      pack: randomBytes(1000),
      created: 1_700_000_000,
    });
    await assert.rejects(
      pushImage(image, `127.0.0.1:${proxy.port}/acme/down:1`, { retry: { ...RETRY, attempts: 3 } }),
      (error: Error) =>
        error instanceof RegistryError &&
        error.message ===
          `127.0.0.1:${proxy.port}/acme/down: GET http://127.0.0.1:${proxy.port}/v2/ failed after 3 tries: ECONNRESET`,
    );
    assert.equal(proxy.requests.length, 3);
  } finally {
    await proxy.stop();
    await registry.stop();
  }
});
