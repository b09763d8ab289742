// The native server as a process tree: a supervisor and SPECK_WORKERS workers, a worker killed with
// SIGKILL is replaced while the site keeps answering, and SIGTERM drains everything to exit 0.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildServer } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import { writePack } from "../../src/pack/write.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { freePort } from "../support/net.ts";

const work = mkdtempSync(join(tmpdir(), "speck-process-"));
after(() => rmSync(work, { recursive: true, force: true }));

function children(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text ? text.split(" ").map(Number) : [];
  } catch {
    return [];
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("x64: SPECK_WORKERS workers under a supervisor; a SIGKILLed worker is replaced; SIGTERM exits 0", async () => {
  const port = await freePort();
  const binary = join(work, "speck");
  writeFileSync(binary, buildServer(TARGETS.x64).elf);
  chmodSync(binary, 0o755);
  writeFileSync(join(work, "site.pack"), writePack(CORPUS_SITE));
  const server = spawn(binary, [join(work, "site.pack")], {
    env: { PORT: String(port), SPECK_WORKERS: "3" },
    stdio: "ignore",
  });
  const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
  const answers = async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/about`)).status === 200;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(answers, "the site");
    await waitFor(() => children(server.pid!).length === 3, "three workers");
    const [victim] = children(server.pid!);
    process.kill(victim!, "SIGKILL");
    await waitFor(
      () => children(server.pid!).length === 3 && !children(server.pid!).includes(victim!),
      "a replacement worker",
    );
    assert.ok(await answers());
    const stopped = Date.now();
    server.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.ok(Date.now() - stopped < 2000, `stopped in ${Date.now() - stopped} ms`);
  } finally {
    server.kill("SIGKILL");
  }
});
