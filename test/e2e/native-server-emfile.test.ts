// Out of file descriptors: with a low RLIMIT_NOFILE and a flood of connections, the native server
// pauses accepting instead of spinning on the listener (it stays nearly idle in CPU time), serves
// again once the flood is gone, and closes connections that sit idle to make room meanwhile.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildServer } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import { writePack } from "../../src/pack/write.ts";
import { exchange } from "../corpus/run.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-emfile-"));
const flood: Socket[] = [];
after(() => {
  for (const s of flood) s.destroy();
  rmSync(work, { recursive: true, force: true });
});

/** User plus system CPU time of a process, in clock ticks (from /proc/PID/stat). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** One worker over the corpus site, allowed 32 descriptors. */
async function startWithFewDescriptors() {
  const port = await freePort();
  writeFileSync(join(work, "site.pack"), writePack(CORPUS_SITE));
  const binary = join(work, "speck");
  writeFileSync(binary, buildServer(TARGETS.x64).elf);
  chmodSync(binary, 0o755);
  const server = spawn("prlimit", ["--nofile=32", binary, join(work, "site.pack")], {
    env: { PORT: String(port), SPECK_WORKERS: "1" },
    stdio: "ignore",
  });
  return { port, server };
}

test("x64: out of descriptors, the server pauses accepting instead of spinning, then recovers", async (t) => {
  if (!requireCommands(t, ["prlimit"], "apt-get install util-linux")) return;
  const { port, server } = await startWithFewDescriptors();
  try {
    const ok = () =>
      fetch(`http://127.0.0.1:${port}/about`, { signal: AbortSignal.timeout(3000) }).then(
        (r) => r.status === 200,
        () => false,
      );
    for (let i = 0; i < 50 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 60; i++) {
      const s = connect(port, "127.0.0.1");
      s.on("error", () => {});
      flood.push(s);
    }
    await new Promise((r) => setTimeout(r, 300));
    const before = cpuTicks(server.pid!);
    await new Promise((r) => setTimeout(r, 1500));
    const spent = cpuTicks(server.pid!) - before;
    assert.ok(spent < 50, `the server used ${spent} ticks of CPU in 1.5 s while out of descriptors`);
    for (const s of flood.splice(0)) s.destroy();
    let served = false;
    for (let i = 0; i < 40 && !served; i++) {
      served = await ok();
      if (!served) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(served, "serves again after the flood");
  } finally {
    server.kill("SIGKILL");
  }
});

test("x64: idle connections holding every descriptor make room for a new client within seconds", async (t) => {
  if (!requireCommands(t, ["prlimit"], "apt-get install util-linux")) return;
  const { port, server } = await startWithFewDescriptors();
  try {
    await waitForPort(port);
    // more silent connections than descriptors, held open: without reclaiming they would keep every
    // descriptor until the 75 s idle time-out
    for (let i = 0; i < 60; i++) {
      const s = connect(port, "127.0.0.1");
      s.on("error", () => {});
      flood.push(s);
    }
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    // a connection of its own (fetch would reuse the pooled one that checked for the port)
    const answer = await exchange(port, "GET /about HTTP/1.1\r\nHost: a\r\n\r\n", 10_000);
    assert.match(
      answer,
      /^HTTP\/1\.1 200 /,
      "a new client is served while the idle connections are still open",
    );
    t.diagnostic(`served after ${Date.now() - started} ms`);
    assert.ok(
      flood.some((s) => s.readyState !== "open"),
      "the server closed idle connections to make room",
    );
  } finally {
    for (const s of flood.splice(0)) s.destroy();
    server.kill("SIGKILL");
  }
});
