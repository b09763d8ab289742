// The differential suite: the linked native server (natively on x86-64, under qemu-aarch64-static on
// arm64) and the preview server answer every corpus request over the same pack with identical bytes,
// Date masked. Also: a bad pack is refused with one line and exit code 2, and --health works.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildServer } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import type { Target } from "../../src/native/target/types.ts";
import { writePack } from "../../src/pack/write.ts";
import { startPreview } from "../../src/preview/index.ts";
import { CORPUS } from "../corpus/requests.ts";
import { recordCorpus } from "../corpus/run.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-native-server-"));
const packPath = join(work, "site.pack");
const pack = writePack(CORPUS_SITE);
writeFileSync(packPath, pack);
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

const written = new Set<string>();
function command(target: Target): string[] {
  const path = join(work, `speck-${target.name}`);
  if (!written.has(path)) {
    writeFileSync(path, buildServer(target).elf);
    chmodSync(path, 0o755);
    written.add(path);
  }
  return target.name === "a64" ? ["qemu-aarch64-static", path] : [path];
}

async function startNative(target: Target): Promise<number> {
  const port = await freePort();
  const [cmd, ...args] = command(target);
  const child = spawn(cmd!, [...args, packPath], { env: { PORT: String(port) }, stdio: "ignore" });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    const health = spawnSync(cmd!, [...args, "--health"], { env: { PORT: String(port) } });
    if (health.status === 0) return port;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${target.name} server did not become healthy`);
}

let previewRecords: Awaited<ReturnType<typeof recordCorpus>> | undefined;
async function preview() {
  if (!previewRecords) {
    const server = await startPreview({ pack, port: 0 });
    previewRecords = await recordCorpus(server.port);
    await server.close();
  }
  return previewRecords;
}

for (const target of Object.values(TARGETS)) {
  test(`${target.name}: the native server answers all ${CORPUS.length} corpus requests exactly like the preview`, async (t) => {
    if (
      target.name === "a64" &&
      !requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")
    )
      return;
    const port = await startNative(target);
    const native = await recordCorpus(port);
    const expected = await preview();
    native.forEach((record, i) => {
      assert.equal(record.response, expected[i]!.response, `case "${record.name}"`);
    });
  });

  test(`${target.name}: a missing or foreign pack is refused with one line and exit code 2`, (t) => {
    if (
      target.name === "a64" &&
      !requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")
    )
      return;
    const [cmd, ...args] = command(target);
    // a truncated pack (its magic but not its size), an empty file and a directory too
    const truncated = join(work, "truncated.pack");
    writeFileSync(truncated, pack.subarray(0, 200));
    for (const bad of [join(work, "missing.pack"), "/etc/hostname", truncated, "/dev/null", work]) {
      const r = spawnSync(cmd!, [...args, bad], { encoding: "utf8" });
      assert.equal(r.status, 2);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.equal(r.stderr, `speck: cannot serve ${bad}: missing, or not a speck pack of this version\n`);
    }
  });
}

test("x64: --health fails when nothing listens", () => {
  const [cmd, ...args] = command(TARGETS.x64);
  assert.equal(spawnSync(cmd!, [...args, "--health"], { env: { PORT: "1" } }).status, 1);
});
