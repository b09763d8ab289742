import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { formatHttpDate } from "../../pack/http-date.ts";
import { ProgramBuilder } from "../ir/builder.ts";
import { Machine } from "../ir/interpret.ts";
import { DATE_LENGTH, emitFormatDate } from "./date.ts";

function machine(): Machine {
  const p = new ProgramBuilder();
  p.bss("buf", 64);
  emitFormatDate(p);
  p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
  return new Machine(p.build("main"), { syscall: () => 0n });
}

const m = machine();
const buf = m.address("buf");

function format(seconds: number): string {
  // fmt_date rewrites the names and digits of a date already in place (the Date line's template)
  m.memory.write(buf, new TextEncoder().encode(formatHttpDate(0)));
  m.call("fmt_date", [BigInt(seconds), buf]);
  return new TextDecoder().decode(m.memory.read(buf, DATE_LENGTH));
}

test("fmt_date writes the same IMF-fixdate as the preview server", () => {
  for (const t of [0, 784111777, 951782400, 1_700_000_000, 253402300799])
    assert.equal(format(t), formatHttpDate(t));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253402300799 }), (t) => assert.equal(format(t), formatHttpDate(t))),
    { numRuns: 300 },
  );
});
