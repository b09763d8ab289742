// Slow and hostile clients against the native server (one worker, so nothing hides behind another):
// hundreds of idle and byte-at-a-time connections and clients that vanish mid-response must not
// stop a normal client from being served.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildServer } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import type { PackInput } from "../../src/pack/model.ts";
import { writePack } from "../../src/pack/write.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { freePort } from "../support/net.ts";

const work = mkdtempSync(join(tmpdir(), "speck-hostile-"));
const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.destroy();
  rmSync(work, { recursive: true, force: true });
});

const BIG = new Uint8Array(8 << 20).fill(120);
const site: PackInput = {
  ...CORPUS_SITE,
  routes: [
    ...CORPUS_SITE.routes,
    {
      path: "/big.bin",
      response: {
        kind: "resource",
        headers: [["Content-Type", "application/octet-stream"]],
        variants: [{ encoding: "identity", body: BIG }],
      },
    },
  ],
};

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
    sockets.push(s);
  });
}

test("x64: idle, byte-at-a-time and vanishing clients do not deny service to a normal client", async () => {
  const port = await freePort();
  writeFileSync(join(work, "site.pack"), writePack(site));
  const binary = join(work, "speck");
  writeFileSync(binary, buildServer(TARGETS.x64).elf);
  chmodSync(binary, 0o755);
  const server = spawn(binary, [join(work, "site.pack")], {
    env: { PORT: String(port), SPECK_WORKERS: "1" },
    stdio: "ignore",
  });
  let exited = false;
  server.on("exit", () => {
    exited = true;
  });
  try {
    for (let i = 0; i < 50; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/`).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // 300 idle connections and 100 that dribble a request head one byte at a time
    for (let i = 0; i < 300; i++) await open(port);
    const slow = await Promise.all(Array.from({ length: 100 }, () => open(port)));
    const head = "GET /about HTTP/1.1\r\nHost: x\r\n";
    let byte = 0;
    const dribble = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write(head[byte % head.length]!);
      byte++;
    }, 20);
    // clients that ask for 8 MiB and vanish after the first bytes
    for (let i = 0; i < 20; i++) {
      const s = await open(port);
      s.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
      await new Promise<void>((resolve) => s.once("data", () => resolve()));
      s.destroy();
    }
    // a normal client is fully served, every time
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/about`, { signal: AbortSignal.timeout(2000) });
      assert.equal(r.status, 200);
      assert.match(await r.text(), /about/);
    }
    const big = await fetch(`http://127.0.0.1:${port}/big.bin`, { signal: AbortSignal.timeout(10_000) });
    assert.equal((await big.arrayBuffer()).byteLength, BIG.length);
    clearInterval(dribble);
    assert.equal(exited, false, "the server is still running");
  } finally {
    server.kill("SIGKILL");
  }
});
