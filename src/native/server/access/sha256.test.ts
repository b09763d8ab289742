import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { ProgramBuilder } from "../../ir/builder.ts";
import { Machine } from "../../ir/interpret.ts";
import { CTX_BYTES, emitSha256 } from "./sha256.ts";

const p = new ProgramBuilder();
p.bss("ctx", CTX_BYTES);
p.bss("msg", 4096);
p.bss("out", 32);
emitSha256(p);
p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
const m = new Machine(p.build("main"), { syscall: () => 0n });
const [ctx, msg, out] = ["ctx", "msg", "out"].map((s) => m.address(s)) as [number, number, number];

/** SHA-256 in the IR, the message given in `parts` update calls. */
function irSha256(parts: Uint8Array[]): string {
  m.call("sha256_init", [ctx]);
  for (const part of parts) {
    m.memory.write(msg, part);
    m.call("sha256_update", [ctx, msg, BigInt(part.length)]);
  }
  m.call("sha256_final", [ctx, out]);
  return Buffer.from(m.memory.read(out, 32)).toString("hex");
}

test("sha256 in the IR matches node:crypto at every length around block edges", () => {
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 200]) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
    assert.equal(irSha256([data]), createHash("sha256").update(data).digest("hex"), `length ${n}`);
  }
  assert.equal(
    irSha256([new TextEncoder().encode("abc")]),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

test("sha256 in the IR matches node:crypto over random messages split into random updates", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 150 }), { maxLength: 4 }), (parts) => {
      const hash = createHash("sha256");
      for (const part of parts) hash.update(part);
      assert.equal(irSha256(parts), hash.digest("hex"));
    }),
    { numRuns: 150 },
  );
});
