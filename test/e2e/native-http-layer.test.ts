// The HTTP layer of the native server linked for each target and run as a real process (natively on
// x86-64, under qemu-aarch64-static for arm64): a small driver program with the corpus pack in its
// rodata reads one connection's bytes from stdin, calls http_input once and writev's every response
// to stdout. Each corpus request must get the preview server's bytes (Date masked).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeExecutable } from "../../src/native/elf/file.ts";
import { ProgramBuilder } from "../../src/native/ir/builder.ts";
import { link } from "../../src/native/link.ts";
import { TEST_SHELL } from "../../src/native/server/http/harness.ts";
import { emitHttp } from "../../src/native/server/http/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import type { Target } from "../../src/native/target/types.ts";
import { readPack } from "../../src/pack/read.ts";
import { writePack } from "../../src/pack/write.ts";
import { serveBytes } from "../../src/preview/connection.ts";
import { dateLine } from "../../src/preview/respond.ts";
import { CORPUS } from "../corpus/requests.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-http-layer-"));
after(() => rmSync(work, { recursive: true, force: true }));

const packBytes = writePack(CORPUS_SITE);
const pack = readPack(packBytes);
const DATE = dateLine(0);
const INPUT = 65536;

function driver(target: Target): Uint8Array {
  const G = TEST_SHELL;
  const R = G.R;
  const p = new ProgramBuilder();
  p.rodata("pack", packBytes, 8);
  p.data(G.dateLine, DATE);
  p.bss("globals", 128, 16);
  p.bss("iov", 48, 8);
  p.bss("conns", 64 * 64, 8);
  p.bss("inbuf", INPUT, 8);
  emitHttp(p, TEST_SHELL);
  p.func("entry", {}, (f) => f.shl("a0", "a0", 6).addr("a1", "conns").add("a0", "a0", "a1").ret());
  // send(fd): writev(1, [head, dyn, body]); a closing response forgets the body to discard
  p.func("send", {}, (f) => {
    f.add("a5", "s5", G.response).addr("a1", "iov");
    for (const [i, [ptr, len]] of [
      [R.head, R.headLen],
      [R.dyn, R.dynLen],
      [R.body, R.bodyLen],
    ].entries()) {
      f.load(8, "a2", { base: "a5", offset: ptr }).store(8, "a2", { base: "a1", offset: i * 16 });
      f.load(8, "a2", { base: "a5", offset: len }).store(8, "a2", { base: "a1", offset: i * 16 + 8 });
    }
    f.mov("a0", 1).mov("a2", 3).syscall("writev").mov("a0", 0).ret();
  });
  p.func("_start", {}, (f) => {
    f.addr("s5", "globals").addr("a0", "pack").store(8, "a0", { base: "s5", offset: G.pack });
    f.mov("s0", 0);
    f.label("read")
      .mov("a0", 0)
      .addr("a1", "inbuf")
      .add("a1", "a1", "s0")
      .mov("a2", INPUT)
      .sub("a2", "a2", "s0");
    f.syscall("read").br("le", "a0", 0, "serve").add("s0", "s0", "a0").jmp("read");
    f.label("serve").mov("a0", 3).addr("a1", "inbuf").mov("a2", "s0").call("http_input");
    f.mov("a0", 0).syscall("exit_group");
  });
  return link(p.build("_start"), target, { optimize: true }).elf;
}

const mask = (b: Uint8Array | Buffer) =>
  Buffer.from(b)
    .toString("latin1")
    .replace(/Date: [^\r]*\r\n/g, "Date: <masked>\r\n");

for (const target of Object.values(TARGETS)) {
  test(`the HTTP layer answers the corpus like the preview on ${target.name}`, (t) => {
    const foreign = target.name === "a64" && process.arch !== "arm64";
    if (foreign && !requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")) return;
    if (!foreign && target.name === "x64" && process.arch !== "x64") return t.skip("not an x86-64 host");
    const path = join(work, `http-${target.name}`);
    writeExecutable(path, driver(target));
    const argv = foreign ? ["qemu-aarch64-static", path] : [path];
    for (const c of CORPUS) {
      const input = Buffer.from(c.request, "latin1");
      if (input.length > INPUT) continue;
      const result = spawnSync(argv[0]!, argv.slice(1), { input, timeout: 20_000 });
      assert.equal(result.status, 0, `${c.name}: exit ${result.status} ${result.signal ?? ""}`);
      assert.equal(mask(result.stdout), mask(serveBytes(pack, input, DATE)), c.name);
    }
  });
}
