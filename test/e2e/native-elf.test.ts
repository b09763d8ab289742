// The ELF files speck writes are accepted by readelf and file, keep every PT_LOAD congruent modulo
// 64 KiB (arm64 kernels with 64 KiB pages), and stay tiny: hello world fits in 240 bytes per arch.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ProgramBuilder } from "../../src/native/ir/builder.ts";
import { link } from "../../src/native/link.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-elf-"));
after(() => rmSync(work, { recursive: true, force: true }));

function hello() {
  const p = new ProgramBuilder();
  p.rodata("msg", "hello, world\n");
  p.func("main", {}, (f) => {
    f.mov("a0", 1).addr("a1", "msg").mov("a2", 13).syscall("write").mov("a0", 0).syscall("exit_group");
  });
  return p.build("main");
}

function withData() {
  const p = new ProgramBuilder();
  p.rodata("msg", "x".repeat(70_000));
  p.data("counter", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  p.bss("big", 1 << 20, 4096);
  p.func("main", {}, (f) => {
    f.addr("a0", "counter")
      .load(8, "a1", "a0")
      .addr("a2", "big")
      .store(8, "a1", { base: "a2", offset: 4096 });
    f.mov("a0", 0).syscall("exit_group");
  });
  return p.build("main");
}

interface Header {
  type: string;
  offset: number;
  vaddr: number;
  flags: string;
}

function programHeaders(path: string): Header[] {
  const out = execFileSync("readelf", ["-lW", path], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => /^\s+(LOAD|GNU_STACK)\s/.test(l))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return { type: f[0]!, offset: Number(f[1]), vaddr: Number(f[2]), flags: f.slice(6, -1).join("") };
    });
}

for (const target of Object.values(TARGETS)) {
  test(`${target.name}: hello world is at most 240 bytes, PT_GNU_STACK included`, (t) => {
    const { elf } = link(hello(), target);
    t.diagnostic(`${target.name} hello world: ${elf.length} bytes`);
    assert.ok(elf.length <= 240, `${elf.length} bytes`);
  });

  for (const [name, program] of [
    ["hello", hello()],
    ["data+bss", withData()],
  ] as const) {
    test(`${target.name}: readelf and file accept the ${name} ELF and its segments are 64 KiB congruent`, (t) => {
      if (!requireCommands(t, ["readelf", "file"], "apt-get install binutils file")) return;
      const path = join(work, `${name}-${target.name}`);
      writeFileSync(path, link(program, target).elf);
      const header = execFileSync("readelf", ["-hW", path], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      assert.match(header, /Type:\s+EXEC/);
      assert.match(header, /Size of this header:\s+64/);
      assert.match(header, /Size of program headers:\s+56/);
      const described = execFileSync("file", ["-b", path], { encoding: "utf8" });
      assert.match(
        described,
        new RegExp(`ELF 64-bit LSB executable, ${target.name === "x64" ? "x86-64" : "ARM aarch64"}`),
      );
      const headers = programHeaders(path);
      const loads = headers.filter((h) => h.type === "LOAD");
      assert.ok(
        headers.some((h) => h.type === "GNU_STACK" && h.flags === "RW"),
        "PT_GNU_STACK RW",
      );
      assert.equal(loads[0]!.flags, "RE");
      for (const h of loads)
        assert.equal(h.offset % 0x10000, h.vaddr % 0x10000, `segment at 0x${h.vaddr.toString(16)}`);
      assert.equal(loads.length, name === "hello" ? 1 : 2, "only the segments the program needs");
    });
  }
}

test("linking is deterministic: the same program gives the same bytes", () => {
  for (const target of Object.values(TARGETS)) {
    assert.deepEqual(link(withData(), target).elf, link(withData(), target).elf);
  }
});
