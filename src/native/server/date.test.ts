import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { formatHttpDate, parseHttpDate } from "../../pack/http-date.ts";
import { ProgramBuilder } from "../ir/builder.ts";
import { Machine } from "../ir/interpret.ts";
import { DATE_LENGTH, emitFormatDate, emitParseDate, NOT_A_DATE } from "./date.ts";

function machine(): Machine {
  const p = new ProgramBuilder();
  p.bss("buf", 64);
  emitFormatDate(p);
  emitParseDate(p);
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

function parse(text: string): number | null {
  const bytes = new TextEncoder().encode(text);
  m.memory.write(buf, bytes.subarray(0, 64));
  const v = BigInt.asIntN(64, m.call("parse_date", [buf, bytes.length]));
  return v === NOT_A_DATE ? null : Number(v);
}

test("fmt_date writes the same IMF-fixdate as the preview server", () => {
  for (const t of [0, 784111777, 951782400, 1_700_000_000, 253402300799])
    assert.equal(format(t), formatHttpDate(t));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253402300799 }), (t) => assert.equal(format(t), formatHttpDate(t))),
    { numRuns: 300 },
  );
});

test("parse_date agrees with the preview on valid, odd and malformed dates", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253402300799 }), (t) => assert.equal(parse(formatHttpDate(t)), t)),
    { numRuns: 200 },
  );
  const odd = [
    "Mon, 31 Feb 2021 23:59:60 GMT",
    "Sun, 01 Jan 0000 00:00:00 GMT",
    "Sat, 29 Feb 2000 12:00:00 GMT",
    "Fri, 00 Jan 2020 00:00:00 GMT",
    "Fri, 32 Jan 2020 00:00:00 GMT",
    "Fri, 01 Jan 2020 24:00:00 GMT",
    "Fri, 01 Jan 2020 00:60:00 GMT",
    "Fri, 01 Jan 2020 00:00:61 GMT",
    "Foo, 01 Jan 2020 00:00:00 GMT",
    "Fri, 01 Jxn 2020 00:00:00 GMT",
    "Fri, 01 Jan 2020 00:00:00 UTC",
    "Fri,  1 Jan 2020 00:00:00 GMT",
    "Friday, 01-Jan-20 00:00:00 GMT",
    "",
  ];
  for (const text of odd) assert.equal(parse(text), parseHttpDate(text), text);
  const alphabet = fc.constantFrom(..."0123456789 :,ADFGJMNOSTWadehinortuy".split(""));
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 253402300799 }),
      fc.array(fc.tuple(fc.nat(28), alphabet), { maxLength: 3 }),
      (t, edits) => {
        const chars = formatHttpDate(t).split("");
        for (const [at, c] of edits) chars[at] = c;
        const text = chars.join("");
        assert.equal(parse(text), parseHttpDate(text), text);
      },
    ),
    { numRuns: 500 },
  );
});
