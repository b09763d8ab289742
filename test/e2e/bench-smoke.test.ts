// Proves the benchmark harness still works: every peer starts from its generated config, serves the
// same files byte for byte, and stops. Keeps bench/ from rotting while benchmarks stay out of npm test.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { PEERS, startServer, stopServer } from "../../bench/peers.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-bench-smoke-"));
after(() => rmSync(work, { recursive: true, force: true }));

const root = join(work, "site");
const files: Record<string, Buffer> = {
  "index.html": Buffer.from("<!doctype html><title>smoke</title><p>hello\n"),
  "assets/data.bin": Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 31) % 251)),
};
for (const [path, body] of Object.entries(files)) {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), body);
}

for (const peer of PEERS) {
  test(`bench peer ${peer.name} starts, serves the site byte for byte and stops`, async (t) => {
    if (!requireCommands(t, peer.commands, peer.install)) return;
    const options = { root, port: await freePort(), work: join(work, peer.name) };
    const child = await startServer(peer.command(options), options);
    try {
      for (const [path, body] of Object.entries(files)) {
        const response = await fetch(`http://127.0.0.1:${options.port}/${path}`);
        assert.equal(response.status, 200, `${peer.name} /${path}`);
        assert.deepEqual(Buffer.from(await response.arrayBuffer()), body, `${peer.name} /${path} body`);
      }
      assert.match(peer.version(), /\d/);
    } finally {
      await stopServer(child);
    }
  });
}
