// Proves the benchmark harness still works, through the code paths `npm run bench` uses: speck and every
// peer start from their generated configs over the benchmark site, serve its files byte for byte, take a
// one-second wrk load (and speck an h2load one) whose real output the parsers read while their CPU
// time is read, hold a few idle connections while their memory is read, and stop. Asserts no
// timings: benchmarks stay out of npm test.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { treeCpuSeconds } from "../../bench/cpu.ts";
import type { LoadResult } from "../../bench/load.ts";
import { holdIdleConnections, treeMemory } from "../../bench/memory.ts";
import { PEERS, type PeerOptions, startServerTimed, stopServer } from "../../bench/peers.ts";
import { BENCH_FILES, writeBenchSite } from "../../bench/site.ts";
import { SPECK } from "../../bench/speck.ts";
import { loadCell, probeCell, throughputCells } from "../../bench/throughput.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-bench-smoke-"));
after(() => rmSync(work, { recursive: true, force: true }));

const root = join(work, "site");
writeBenchSite(root, new URL("../../examples/docs", import.meta.url).pathname);
const cells = throughputCells(false);
const cell = (id: string) => cells.find((c) => c.id === id)!;

function assertSane(result: LoadResult, what: string): void {
  assert.ok(result.requests > 0, `${what}: no requests completed`);
  assert.ok(result.requestsPerSecond > 0, `${what}: requests per second ${result.requestsPerSecond}`);
  assert.ok(result.p50 > 0 && result.p50 <= result.p99, `${what}: p50 ${result.p50} p99 ${result.p99}`);
}

for (const peer of [SPECK, ...PEERS]) {
  test(`bench: ${peer.name} starts, serves the benchmark site byte for byte, takes a load and stops`, async (t) => {
    if (!requireCommands(t, [...peer.commands, "wrk", "h2load"], `${peer.install} wrk nghttp2-client`.trim()))
      return;
    const options: PeerOptions = { root, port: await freePort(), work: join(work, peer.name) };
    const { child } = await startServerTimed(peer.command(options), options);
    try {
      for (const file of BENCH_FILES) {
        const response = await fetch(`http://127.0.0.1:${options.port}${file.path}`);
        assert.equal(response.status, 200, `${peer.name} ${file.path}`);
        const body = Buffer.from(await response.arrayBuffer());
        assert.equal(body.length, file.size, `${peer.name} ${file.path} size`);
        assert.ok(body.equals(readFileSync(join(root, file.path))), `${peer.name} ${file.path} body`);
      }
      const probe = await probeCell(cell("gzip64-10KB"), options.port);
      assert.equal(probe.status, 200);
      assert.ok(probe.bytes > 0);

      const cpuBefore = treeCpuSeconds(child.pid!);
      assertSane(await loadCell(cell("ka64-90B"), options.port, 1), `${peer.name} wrk`);
      const cpuAfter = treeCpuSeconds(child.pid!);
      assert.ok(
        Number.isFinite(cpuBefore) && cpuAfter >= cpuBefore,
        `CPU seconds ${cpuBefore} then ${cpuAfter}`,
      );
      if (peer.name === "speck") {
        const pipelined = await loadCell(cell("pipe64x16-90B"), options.port, 1);
        assertSane(pipelined, "speck h2load");
        assert.equal(pipelined.errors, 0);
        assert.equal(probe.encoding, "gzip");
      }
      if (peer.keepAlive !== false) {
        const idle = await holdIdleConnections(options.port, BENCH_FILES[0]!.path, 20);
        try {
          assert.equal(idle.open(), 20);
          const memory = treeMemory(child.pid!);
          assert.ok(memory.rss > 0 && memory.anon <= memory.rss, JSON.stringify(memory));
        } finally {
          await idle.close();
        }
      }
      assert.match(peer.version(), /\d/);
    } finally {
      await stopServer(child);
    }
  });
}
