// The server shell (start-up, listener, epoll loop, buffering, output, time-outs, SIGTERM) run as a
// real process natively and under qemu, with a minimal HTTP layer defined here that answers every
// complete request head with a fixed 200 KB response.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CORPUS_SITE } from "../../../test/corpus/site.ts";
import { freePort } from "../../../test/support/net.ts";
import { requireCommands } from "../../../test/support/tools.ts";
import { writePack } from "../../pack/write.ts";
import { ProgramBuilder } from "../ir/builder.ts";
import { link } from "../link.ts";
import { TARGETS } from "../target/index.ts";
import type { Target } from "../target/types.ts";
import { DATE_LINE, DATE_LINE_LENGTH, G } from "./globals.ts";
import { R } from "./loop.ts";
import { emitServerShell } from "./start.ts";

const work = mkdtempSync(join(tmpdir(), "speck-shell-"));
after(() => rmSync(work, { recursive: true, force: true }));
const BODY = "x".repeat(200_000);
const HEAD = `HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n`;

/** A test HTTP layer: answers each complete request head (up to CRLFCRLF) with HEAD, Date, CRLF and BODY. */
function program(target: Target) {
  const p = new ProgramBuilder();
  p.rodata("head", `${HEAD}`)
    .rodata("body", `\r\n${BODY}`)
    .rodata("timeout", "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n");
  emitServerShell(p, target);
  p.func("http_input", { frame: 32, saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a1").mov("s2", "a2").mov("s3", 0); // s3 consumed
    f.label("scan").sub("a3", "s2", "s3").br("ltu", "a3", 4, "done");
    f.mov("a4", "s3");
    f.label("find").add("a5", "a4", 4).br("gtu", "a5", "s2", "done");
    f.load(4, "a5", { base: "s1", index: "a4" }).add("a4", "a4", 1).br("ne", "a5", 0x0a0d0a0d, "find");
    f.add("s3", "a4", 3).add("a0", "s5", G.response);
    f.addr("a1", "head")
      .store(8, "a1", { base: "a0", offset: R.head })
      .store(8, HEAD.length, { base: "a0", offset: R.headLen });
    f.addr("a1", DATE_LINE).store(8, "a1", { base: "a0", offset: R.dyn });
    f.store(8, DATE_LINE_LENGTH, { base: "a0", offset: R.dynLen });
    f.addr("a1", "body")
      .store(8, "a1", { base: "a0", offset: R.body })
      .store(8, BODY.length + 2, { base: "a0", offset: R.bodyLen });
    f.store(8, 0, { base: "a0", offset: R.close }).mov("a0", "s0").call("send").br("eq", "a0", 0, "scan");
    f.label("done").mov("a0", "s3").ret();
  });
  p.func("http_timeout", {}, (f) => {
    f.add("a1", "s5", G.response).addr("a2", "timeout").store(8, "a2", { base: "a1", offset: R.head });
    f.store(8, 71, { base: "a1", offset: R.headLen }).store(8, 0, { base: "a1", offset: R.dynLen });
    f.store(8, 0, { base: "a1", offset: R.bodyLen })
      .store(8, 1, { base: "a1", offset: R.close })
      .call("send")
      .ret();
  });
  return p.build("_start");
}

function startServer(target: Target, port: number) {
  const path = join(process.env.SPECK_KEEP_SHELL ?? work, `shell-${target.name}`);
  writeFileSync(path, link(program(target), target).elf);
  chmodSync(path, 0o755);
  const packPath = join(work, "site.pack");
  writeFileSync(packPath, writePack(CORPUS_SITE));
  const argv = [...(target.name === "a64" ? ["qemu-aarch64-static", path] : [path]), packPath];
  const child = spawn(argv[0]!, argv.slice(1), { env: { PORT: String(port) }, stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited };
}

async function request(port: number, text: string, expectResponses: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        let data = "";
        const socket = connect(port, "127.0.0.1", () => socket.write(text));
        socket.on("data", (d) => {
          data += d.toString("latin1");
          if (data.split("HTTP/1.1 200 OK").length - 1 === expectResponses && data.endsWith(BODY)) {
            socket.destroy();
            resolve(data);
          }
        });
        socket.on("error", reject);
        socket.on("close", () => resolve(data));
      });
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

for (const target of Object.values(TARGETS)) {
  test(`${target.name}: the shell serves keep-alive and pipelined requests, large bodies, and drains on SIGTERM`, async (t) => {
    if (
      target.name === "a64" &&
      !requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")
    )
      return;
    const port = await freePort();
    const { child, exited } = startServer(target, port);
    try {
      const one = await request(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1);
      assert.match(
        one,
        /^HTTP\/1\.1 200 OK\r\nContent-Length: 200000\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n\r\nx/,
      );
      assert.equal(one.length, HEAD.length + DATE_LINE_LENGTH + 2 + BODY.length);
      const three = await request(
        port,
        "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n",
        3,
      );
      assert.equal(three.split("HTTP/1.1 200 OK").length - 1, 3);
      // a head that arrives in pieces is buffered until complete
      const pieces = await new Promise<string>((resolve) => {
        let data = "";
        const socket = connect(port, "127.0.0.1", async () => {
          for (const part of ["GET / HT", "TP/1.1\r\n", "Host: x\r\n", "\r", "\n"]) {
            socket.write(part);
            await new Promise((r) => setTimeout(r, 30));
          }
        });
        socket.on("data", (d) => {
          data += d.toString("latin1");
          if (data.endsWith(BODY)) {
            socket.destroy();
            resolve(data);
          }
        });
      });
      assert.match(pieces.slice(0, 20), /^HTTP\/1\.1 200 OK/);
      const stopAt = Date.now();
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      assert.ok(Date.now() - stopAt < 2000, "drained within 2 s");
    } finally {
      child.kill("SIGKILL");
    }
  });
}
