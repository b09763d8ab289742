import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgramBuilder } from "./ir/builder.ts";
import { VerifyError } from "./ir/verify.ts";
import { BASE_ADDRESS, link } from "./link.ts";
import { TARGETS } from "./target/index.ts";

function sample() {
  const p = new ProgramBuilder();
  p.rodata("msg", `${"hello ".repeat(8)}\n`)
    .data("counter", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))
    .bss("buf", 100, 16);
  p.func("helper", {}, (f) => f.ret());
  p.func("main", {}, (f) => f.call("helper").addr("a1", "counter").mov("a0", 0).syscall("exit_group"));
  return p.build("main");
}

for (const target of Object.values(TARGETS)) {
  test(`${target.name}: link() accounts for every byte and points e_entry at the entry function`, () => {
    const { elf, sizes, map } = link(sample(), target, { map: true });
    const view = new DataView(elf.buffer);
    assert.equal(sizes.total, elf.length);
    // the PT_GNU_STACK header is its type and flags; its other 48 bytes are the code's first ones
    assert.equal(sizes.headers, 64 + 2 * 56 + 8);
    assert.equal(view.getUint32(64 + 2 * 56, true), 0x6474e551);
    assert.equal(view.getUint32(64 + 2 * 56 + 4, true), 6, "PT_GNU_STACK RW");
    assert.equal(sizes.headers + sizes.text + sizes.rodata + sizes.data, elf.length);
    assert.equal(sizes.rodata, 49);
    assert.ok(sizes.data >= 8 && sizes.data < 16, "8 bytes and the padding that aligns them");
    assert.ok(sizes.bss >= 100);
    assert.equal(view.getUint16(18, true), target.elfMachine);
    const main = sizes.functions.find((f) => f.name === "main")!;
    assert.equal(view.getBigUint64(24, true), main.address, "e_entry");
    assert.equal(
      sizes.functions.reduce((n, f) => n + f.size, 0),
      sizes.text,
    );
    // the data item's bytes are in the file where the map says the R+W segment puts them
    const counter = BigInt(`0x${/^0x([0-9a-f]+)\s+8 D counter$/m.exec(map!)![1]}`);
    const rwOffset = Number(view.getBigUint64(64 + 56 + 8, true));
    const rwAddress = view.getBigUint64(64 + 56 + 16, true);
    const at = rwOffset + Number(counter - rwAddress);
    assert.deepEqual([...elf.subarray(at, at + 8)], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(rwAddress >= BASE_ADDRESS + 0x10000n);
  });
}

test("link() pads a program too small to hold the rest of the PT_GNU_STACK header", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
  for (const target of Object.values(TARGETS)) {
    const { elf, sizes } = link(p.build("main"), target);
    assert.equal(elf.length, 64 + 2 * 56, "the file holds the whole program header table");
    assert.equal(sizes.headers + sizes.text + sizes.rodata, elf.length);
    const view = new DataView(elf.buffer);
    assert.equal(Number(view.getBigUint64(64 + 32, true)), elf.length, "the R+X segment covers the padding");
  }
});

test("link() verifies before emitting anything", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.jmp("nowhere"));
  assert.throws(
    () => link(p.build("main"), TARGETS.a64),
    (e) => e instanceof VerifyError && /fn main, insn 0 "jmp nowhere"/.test(e.message),
  );
  const q = new ProgramBuilder();
  q.func("main", {}, (f) => f.mov("a0", 0).syscall("epoll_wait").syscall("exit_group"));
  assert.throws(() => link(q.build("main"), TARGETS.a64), /syscall "epoll_wait" does not exist on a64/);
  link(q.build("main"), TARGETS.x64);
});

test("link() with optimize leaves out what cannot run, and is never larger", () => {
  const p = new ProgramBuilder();
  p.bss("unused", 4096);
  p.func("main", {}, (f) =>
    f.jmp("go").label("go").mov("a0", 0).syscall("exit_group").mov("a0", 1).syscall("exit"),
  );
  p.func("unused_helper", {}, (f) => f.addr("a0", "unused").ret());
  for (const target of Object.values(TARGETS)) {
    const plain = link(p.build("main"), target);
    const optimized = link(p.build("main"), target, { optimize: true });
    assert.deepEqual(
      optimized.sizes.functions.map((f) => f.name),
      ["main"],
    );
    assert.equal(optimized.sizes.bss, 0);
    assert.ok(optimized.elf.length < plain.elf.length, `${optimized.elf.length} < ${plain.elf.length}`);
  }
});
