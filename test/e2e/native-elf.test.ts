// The ELF files speck writes are accepted by readelf and file, keep every PT_LOAD congruent modulo
// 64 KiB (arm64 kernels with 64 KiB pages), and stay tiny: hello world fits in 240 bytes per arch.
// Asked for, the linker adds a map file and a symbol table that gdb uses to name the crashing function.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { writeExecutable } from "../../src/native/elf/file.ts";
import { ProgramBuilder } from "../../src/native/ir/builder.ts";
import type { Program } from "../../src/native/ir/types.ts";
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

/** The program headers of an ELF image, read back from its bytes. */
function parseSegments(elf: Uint8Array) {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const count = view.getUint16(56, true);
  return Array.from({ length: count }, (_, i) => {
    const at = 64 + i * 56;
    return {
      type: view.getUint32(at, true),
      offset: Number(view.getBigUint64(at + 8, true)),
      vaddr: Number(view.getBigUint64(at + 16, true)),
      filesz: Number(view.getBigUint64(at + 32, true)),
      memsz: Number(view.getBigUint64(at + 40, true)),
    };
  });
}

test("every layout keeps PT_LOAD offsets congruent to addresses and segments in separate 64 KiB pages", () => {
  const layout = fc.record({
    rodata: fc.array(
      fc.record({ size: fc.integer({ min: 0, max: 70_000 }), align: fc.constantFrom(1, 8, 4096) }),
      {
        maxLength: 3,
      },
    ),
    data: fc.array(
      fc.record({ size: fc.integer({ min: 1, max: 5000 }), align: fc.constantFrom(1, 16, 65536) }),
      {
        maxLength: 3,
      },
    ),
    bss: fc.array(
      fc.record({ size: fc.integer({ min: 1, max: 1 << 20 }), align: fc.constantFrom(8, 4096) }),
      {
        maxLength: 3,
      },
    ),
  });
  fc.assert(
    fc.property(layout, (l) => {
      const p = new ProgramBuilder();
      for (const [i, d] of l.rodata.entries()) p.rodata(`r${i}`, new Uint8Array(d.size), d.align);
      for (const [i, d] of l.data.entries()) p.data(`d${i}`, new Uint8Array(d.size).fill(7), d.align);
      for (const [i, d] of l.bss.entries()) p.bss(`b${i}`, d.size, d.align);
      p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
      for (const target of Object.values(TARGETS)) {
        const { elf, map } = link(p.build("main"), target, { map: true });
        const loads = parseSegments(elf).filter((s) => s.type === 1);
        assert.equal(loads.length, l.data.length + l.bss.length > 0 ? 2 : 1);
        for (const s of loads) assert.equal(s.offset % 0x10000, s.vaddr % 0x10000);
        assert.equal(
          loads.at(-1)!.offset + loads.at(-1)!.filesz,
          elf.length,
          "no bytes after the last segment",
        );
        if (loads.length === 2) {
          const [text, rw] = loads as [(typeof loads)[0], (typeof loads)[0]];
          assert.ok(Math.floor(rw.vaddr / 0x10000) > Math.floor((text.vaddr + text.memsz - 1) / 0x10000));
          assert.equal(rw.offset, text.offset + text.filesz, "the file has no padding before data");
        }
        const aligns = new Map<string, number>([
          ...l.rodata.map((d, i) => [`r${i}`, d.align] as const),
          ...l.data.map((d, i) => [`d${i}`, d.align] as const),
          ...l.bss.map((d, i) => [`b${i}`, d.align] as const),
        ]);
        for (const line of map!.trim().split("\n")) {
          const [address, , kind, name] = line.trim().split(/\s+/);
          if (kind === "D") assert.equal(Number(address) % aligns.get(name!)!, 0, `${name} is aligned`);
        }
      }
    }),
    { numRuns: 100, seed: 7 },
  );
});

function crashing(): Program {
  const p = new ProgramBuilder();
  p.rodata("msg", "unused\n").data("counter", new Uint8Array(8)).bss("buffer", 64);
  p.func("main", {}, (f) => f.mov("a0", 5).call("helper").call("crash").syscall("exit_group"));
  p.func("helper", {}, (f) => f.add("a0", "a0", 1).ret());
  p.func("crash", {}, (f) => f.mov("a1", 0).load(8, "a0", "a1").ret());
  return p.build("main");
}

test("link() returns a map file only when asked, naming every function and data symbol", () => {
  for (const target of Object.values(TARGETS)) {
    const plain = link(crashing(), target);
    assert.equal(plain.map, undefined);
    const { map, sizes } = link(crashing(), target, { map: true });
    const lines = map!.trim().split("\n");
    assert.equal(lines.length, 6);
    for (const f of sizes.functions)
      assert.ok(
        lines.includes(
          `0x${f.address.toString(16).padStart(8, "0")} ${String(f.size).padStart(6)} T ${f.name}`,
        ),
      );
    assert.match(map!, / D counter\n/);
  }
});

for (const target of Object.values(TARGETS)) {
  test(`${target.name}: a symbol table only when asked, naming every function without moving a loaded byte`, (t) => {
    if (!requireCommands(t, ["readelf"], "apt-get install binutils")) return;
    const plain = link(crashing(), target);
    const debug = link(crashing(), target, { symbols: true });
    assert.ok(debug.elf.length > plain.elf.length);
    assert.deepEqual(debug.elf.subarray(64, plain.elf.length), plain.elf.subarray(64));
    assert.equal(new DataView(plain.elf.buffer).getUint16(60, true), 0, "no section headers by default");
    const path = join(work, `symbols-${target.name}`);
    writeExecutable(path, debug.elf);
    const symbols = execFileSync("readelf", ["-sW", path], { encoding: "utf8" });
    for (const f of debug.sizes.functions)
      assert.match(
        symbols,
        new RegExp(
          `${f.address.toString(16).padStart(16, "0")}\\s+${f.size} FUNC\\s+GLOBAL\\s+DEFAULT\\s+1 ${f.name}$`,
          "m",
        ),
      );
    assert.match(symbols, /OBJECT\s+GLOBAL\s+DEFAULT\s+\d+ buffer$/m);
    const sections = execFileSync("readelf", ["-SW", path], { encoding: "utf8" });
    for (const name of [".text", ".rodata", ".data", ".bss", ".symtab", ".strtab"])
      assert.ok(sections.includes(name), name);
  });
}

test("x64: gdb names the IR function a crash happens in, and its callers", (t) => {
  if (!requireCommands(t, ["gdb"], "apt-get install gdb")) return;
  const path = join(work, "crash-x64");
  writeExecutable(path, link(crashing(), TARGETS.x64, { symbols: true }).elf);
  const result = spawnSync("gdb", ["-nx", "-batch", "-ex", "run", "-ex", "bt", path], {
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.match(result.stdout, /SIGSEGV/);
  assert.match(result.stdout, /#0\s+0x[0-9a-f]+ in crash \(\)/);
  assert.match(result.stdout, /#1\s+0x[0-9a-f]+ in main \(\)/);
});
