// The native server's time-outs, built short (2 s) so they can be watched: a client that keeps taking
// a large response slowly keeps its connection past every time-out, one that stops taking it is cut
// after the send time-out, a head that stalls gets 408, and an idle keep-alive connection is closed.

import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { TARGETS } from "../../src/native/target/index.ts";
import type { PackInput } from "../../src/pack/model.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { type NativeServer, startNative, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";

const BIG = new Uint8Array(32 << 20).fill(120);
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
const TIMEOUTS = { headerSeconds: 2, idleSeconds: 2, sendSeconds: 2 };
let server: NativeServer;
let port: number;

before(async () => {
  port = await freePort();
  server = startNative(
    TARGETS.x64,
    site,
    { PORT: String(port), SPECK_WORKERS: "1" },
    { server: { timeouts: TIMEOUTS } },
  );
  await waitForPort(port);
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A connection whose received bytes are counted, and whose end is noticed. */
function client(): Promise<{
  socket: Socket;
  received: () => number;
  ended: () => boolean;
  text: () => string;
}> {
  return new Promise((resolve, reject) => {
    let received = 0;
    let ended = false;
    let text = "";
    const socket = connect({ port, host: "127.0.0.1" }, () =>
      resolve({ socket, received: () => received, ended: () => ended, text: () => text }),
    );
    socket.on("data", (chunk) => {
      received += chunk.length;
      if (text.length < 4096) text += chunk.toString("latin1");
    });
    socket.on("end", () => (ended = true));
    socket.on("close", () => (ended = true));
    socket.on("error", reject);
  });
}

test("a slow but steady reader keeps its connection past the idle and send time-outs", async () => {
  // paused mode: Node reads from the kernel only as the test takes bytes, so the client is truly slow
  const socket = connect({ port, host: "127.0.0.1" });
  await new Promise((resolve) => socket.once("connect", resolve));
  let closed = false;
  socket.on("close", () => (closed = true));
  socket.write("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
  let received = 0;
  const take = (limit: number) => {
    while (received < limit) {
      const chunk: Buffer | null = socket.read();
      if (chunk === null) return;
      received += chunk.length;
    }
  };
  // 64 KiB every 100 ms for 5 s: more than twice each time-out, far slower than the server sends
  for (let i = 1; i <= 50; i++) {
    await sleep(100);
    take(i * 64 * 1024);
    assert.ok(!closed, `cut after ${received} bytes at ${i * 100} ms`);
  }
  assert.ok(received < BIG.length / 2, `still downloading (${received} bytes)`);
  take(Number.POSITIVE_INFINITY);
  socket.on("data", (chunk: Buffer) => (received += chunk.length));
  for (let i = 0; i < 400 && received < BIG.length; i++) await sleep(10);
  assert.ok(received > BIG.length, `received ${received} bytes`);
  assert.ok(!closed, "kept alive after the response");
  socket.destroy();
});

test("a reader that stops taking the response is cut after the send time-out", async () => {
  const c = await client();
  c.socket.write("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
  c.socket.pause();
  await sleep(4500);
  c.socket.resume();
  for (let i = 0; i < 200 && !c.ended(); i++) await sleep(25);
  assert.ok(c.ended(), "the server closed the connection");
  assert.ok(c.received() < BIG.length, `only part arrived (${c.received()} bytes)`);
});

test("a request head that stalls gets 408; an idle keep-alive connection is closed", async () => {
  const stalled = await client();
  stalled.socket.write("GET / HTTP/1.1\r\nHost:");
  const idle = await client();
  idle.socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  for (let i = 0; i < 200 && !(stalled.ended() && idle.ended()); i++) await sleep(25);
  assert.match(stalled.text(), /^HTTP\/1\.1 408 /);
  assert.match(idle.text(), /^HTTP\/1\.1 200 OK/);
  assert.ok(stalled.ended() && idle.ended());
});
