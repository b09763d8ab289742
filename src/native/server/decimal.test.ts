import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ProgramBuilder } from "../ir/builder.ts";
import { Machine } from "../ir/interpret.ts";
import { emitDecimal } from "./decimal.ts";

const p = new ProgramBuilder();
p.bss("out", 80);
emitDecimal(p);
p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
const m = new Machine(p.build("main"), { syscall: () => 0n });
const out = m.address("out");

function written(fn: "digits" | "decimal", args: bigint[]): string {
  const end = m.call(fn, [args[0]!, BigInt(out), ...args.slice(1)]);
  return new TextDecoder().decode(m.memory.read(out, Number(end) - out));
}

test("digits writes a value in any base up to 16, zero-padded to the width, lower-case", () => {
  for (const [value, width, base, want] of [
    [0n, 0n, 10n, "0"],
    [0n, 2n, 10n, "00"],
    [7n, 4n, 10n, "0007"],
    [2026n, 4n, 10n, "2026"],
    [0xfd00n, 1n, 16n, "fd00"],
    [0x1n, 1n, 16n, "1"],
    [0x7fn, 2n, 16n, "7f"],
    [5n, 8n, 2n, "00000101"],
    [(1n << 64n) - 1n, 0n, 10n, "18446744073709551615"],
  ] as const)
    assert.equal(written("digits", [value, width, base]), want, `${value} base ${base} width ${width}`);
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.integer({ min: 0, max: 24 }),
      fc.integer({ min: 2, max: 16 }),
      (value, width, base) => {
        const want = value.toString(base).padStart(width, "0");
        assert.equal(written("digits", [value, BigInt(width), BigInt(base)]), want);
      },
    ),
    { numRuns: 500 },
  );
});

test("decimal is digits in base 10", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.integer({ min: 0, max: 4 }),
      (value, width) => {
        assert.equal(written("decimal", [value, BigInt(width)]), value.toString().padStart(width, "0"));
      },
    ),
    { numRuns: 200 },
  );
});
