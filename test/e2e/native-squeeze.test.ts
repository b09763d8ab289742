// Squeezed executables on real CPUs: the decoder restores the program and hands it the kernel's
// stack (argv, envp), on x86-64 and on arm64 under qemu; the server it restores keeps W^X, holds
// no decoder memory once running, and a start without memory for it, or under a W^X policy that
// refuses it, says so; `speck pack --no-squeeze` ships the server as linked for such hosts.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeExecutable } from "../../src/native/elf/file.ts";
import { ProgramBuilder } from "../../src/native/ir/builder.ts";
import { link } from "../../src/native/link.ts";
import { buildServer } from "../../src/native/server/index.ts";
import { squeeze } from "../../src/native/squeeze/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { startNative, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-squeeze-"));
after(() => rmSync(work, { recursive: true, force: true }));
const SPECK = join(import.meta.dirname, "../../bin/speck.js");

/** Runs `argv` with prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN): no mapping may become executable. */
function underMdwe(argv: string[]) {
  const script = [
    "import ctypes, os, sys",
    "libc = ctypes.CDLL(None, use_errno=True)",
    "if libc.prctl(65, 1, 0, 0, 0) != 0: sys.exit('prctl(PR_SET_MDWE): ' + os.strerror(ctypes.get_errno()))",
    "os.execv(sys.argv[1], sys.argv[1:])",
  ].join("\n");
  return spawnSync("python3", ["-c", script, ...argv], { encoding: "utf8" });
}

/** Writes argv[1], its data's greeting, then the first environment string; exits with argc + a bss count. */
function echoProgram() {
  const p = new ProgramBuilder();
  p.data("greeting", new TextEncoder().encode(" from data\n"));
  p.bss("count", 8);
  p.func("write_string", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a0").mov("a2", 0);
    f.label("length")
      .load(1, "a3", { base: "s0", index: "a2" })
      .br("eq", "a3", 0, "found")
      .add("a2", "a2", 1);
    f.jmp("length");
    f.label("found").mov("a0", 1).mov("a1", "s0").syscall("write").ret();
  });
  p.func("main", {}, (f) => {
    f.mov("s0", "a0").load(8, "s1", "s0").load(8, "a0", { base: "s0", offset: 16 }).call("write_string");
    f.mov("a0", 1).addr("a1", "greeting").mov("a2", 11).syscall("write");
    f.shl("a0", "s1", 3).add("a0", "a0", "s0").load(8, "a0", { base: "a0", offset: 16 }).call("write_string");
    f.addr("a1", "count").load(8, "a0", "a1").add("a0", "a0", 2).store(8, "a0", "a1");
    f.add("a0", "a0", "s1").syscall("exit_group");
  });
  return p.build("main");
}

for (const target of Object.values(TARGETS)) {
  test(`${target.name}: a squeezed program runs as linked, with the kernel's argv, envp and data`, (t) => {
    const runner = target.name === "a64" ? ["qemu-aarch64-static"] : [];
    if (target.name === "a64" && !requireCommands(t, runner, "apt-get install qemu-user-static")) return;
    const linked = link(echoProgram(), target, { optimize: true }).elf;
    const squeezed = squeeze(linked, target).elf;
    const results = [linked, squeezed].map((elf, i) => {
      const path = join(work, `echo-${target.name}-${i}`);
      writeExecutable(path, elf);
      return spawnSync(
        runner[0] ?? path,
        [...runner.slice(1), ...(runner.length ? [path] : []), "hello", "x"],
        {
          env: { GREETING: "from envp" },
          encoding: "utf8",
        },
      );
    });
    assert.equal(results[0]!.stdout, "hello from data\nGREETING=from envp");
    assert.equal(results[1]!.stdout, results[0]!.stdout);
    assert.equal(results[1]!.status, 5);
    assert.equal(results[0]!.status, 5);
  });
}

test("x64: the squeezed server runs with its code read-only and the decoder's memory returned", async () => {
  const port = await freePort();
  const server = startNative(TARGETS.x64, CORPUS_SITE, { PORT: String(port), SPECK_WORKERS: "1" });
  try {
    await waitForPort(port);
    const maps = readFileSync(`/proc/${server.process.pid}/maps`, "utf8").trim().split("\n");
    assert.ok(
      !maps.some((line) => /^\S+ .wx/.test(line)),
      `a writable and executable mapping:\n${maps.join("\n")}`,
    );
    const code = maps.find((line) => line.startsWith("00400000-"));
    assert.match(code ?? "", /^00400000-\S+ r-xp /, maps.join("\n"));
    const sizes = maps.map((line) =>
      line
        .split(" ")[0]!
        .split("-")
        .map((h) => Number.parseInt(h, 16)),
    );
    const scratch = sizes.filter(([from, to]) => to! - from! >= 4 << 20 && from! < 0x10000000);
    assert.deepEqual(scratch, [], `the decoder's table is still mapped:\n${maps.join("\n")}`);
    const response = await fetch(`http://127.0.0.1:${port}/about`);
    assert.equal(await response.text(), "<!doctype html><h1>about</h1>\n");
  } finally {
    await server.stop();
  }
});

test("x64: a squeezed server that cannot map its memory says so in one line", (t) => {
  if (!requireCommands(t, ["prlimit"], "apt-get install util-linux")) return;
  const path = join(work, "speck-oom");
  writeExecutable(path, buildServer(TARGETS.x64).elf);
  const result = spawnSync("prlimit", ["--as=3000000", path, "/nonexistent.pack"], { encoding: "utf8" });
  assert.equal(result.stderr, "speck: out of memory\n");
  assert.equal(result.status, 1);
});

test("x64: under a W^X policy the squeezed server says to use --no-squeeze, and the linked one runs", (t) => {
  if (!requireCommands(t, ["python3"], "apt-get install python3")) return;
  const squeezed = join(work, "speck-mdwe");
  writeExecutable(squeezed, buildServer(TARGETS.x64).elf);
  const refused = underMdwe([squeezed, "/nonexistent.pack"]);
  assert.equal(refused.stderr, "speck: a W^X policy refused unpacking: use --no-squeeze\n");
  assert.equal(refused.status, 1);

  const site = join(work, "site");
  mkdirSync(site);
  writeFileSync(join(site, "index.html"), "<p>hi</p>");
  const out = join(work, "linked");
  const packed = spawnSync(
    process.execPath,
    [SPECK, "pack", site, "-o", out, "--platform", "linux/amd64", "--no-squeeze"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(packed.status, 0, packed.stderr);
  const server = readFileSync(join(out, "speck"));
  assert.deepEqual(new Uint8Array(server), buildServer(TARGETS.x64).linked.elf);
  const ran = underMdwe([join(out, "speck"), "/nonexistent.pack"]);
  assert.match(ran.stderr, /^speck: cannot serve \/nonexistent.pack: missing/);
  assert.equal(ran.status, 2);
});
