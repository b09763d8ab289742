import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgramBuilder } from "../../ir/builder.ts";
import type { Reg } from "../../ir/types.ts";
import { bitLength, programWidths, trackWidths, type Widths } from "./widths.ts";

/** Widths known after running `body` from nothing known; "data" is a data symbol, "fn" a function. */
function after(body: (f: import("../../ir/builder.ts").FuncBuilder) => void): Widths {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => body(f));
  const widths: Widths = new Map();
  for (const insn of p.build("main").funcs[0]!.body) trackWidths(insn, widths, (s) => s === "data");
  return widths;
}

const known = (w: Widths, r: Reg) => w.get(r) ?? 64;

test("bitLength reads values as unsigned 64-bit", () => {
  assert.deepEqual([0n, 1n, 255n, 256n, 0xffffffffn, -1n].map(bitLength), [0, 1, 8, 9, 32, 64]);
});

test("widths follow loads, masks, shifts, divisions and data addresses", () => {
  const w = after((f) =>
    f
      .load(1, "a0", "a1")
      .load(4, "a1", "a2")
      .and("a2", "s0", 0xfff)
      .shr("a3", "a1", 20)
      .urem("a4", "s1", 10)
      .addr("a5", "data")
      .add("s0", "a0", "a2")
      .mul("s1", "a0", "a0")
      .shl("s2", "a0", 4)
      .sub("s3", "a0", 1)
      .mov("s4", -1)
      .sar("s5", "a1", 1),
  );
  assert.deepEqual(
    (["a0", "a1", "a2", "a3", "a4", "a5", "s0", "s1", "s2", "s3", "s4", "s5"] as const).map((r) =>
      known(w, r),
    ),
    [8, 32, 12, 12, 4, 32, 13, 16, 12, 64, 64, 31],
  );
});

test("widths are forgotten across calls (a-registers, a0 bounded by the callee) and syscalls (a0)", () => {
  const base = (f: import("../../ir/builder.ts").FuncBuilder) =>
    f.load(1, "a0", "a1").load(1, "a1", "a1").load(1, "s0", "a1");
  assert.deepEqual([...after((f) => base(f).label("x")).keys()].sort(), ["a0", "a1", "s0"]);
  assert.deepEqual([...after((f) => base(f).call("g")).keys()], ["s0"]);
  assert.deepEqual([...after((f) => base(f).syscall("getpid")).keys()].sort(), ["a1", "s0"]);
  assert.equal(
    known(
      after((f) => base(f).addr("a0", "fn")),
      "a0",
    ),
    64,
  );
  assert.equal(
    known(
      after((f) => base(f).not("a0", "a0")),
      "a0",
    ),
    64,
  );
});

/** Widths before each instruction of `main`, by index, with `g` returning at most what it loads. */
function flowing(body: (f: import("../../ir/builder.ts").FuncBuilder) => void): Widths[] {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => body(f));
  p.func("g", {}, (f) => f.load(2, "a0", "a0").ret());
  return programWidths(p.build("main")).get("main")!;
}

test("widths join at labels (the larger bound wins) and loops reach a fixpoint", () => {
  const w = flowing(
    (f) =>
      f
        .load(1, "a1", "a0") // 0
        .load(2, "a2", "a0") // 1
        .br("eq", "a0", 0, "join") // 2
        .load(4, "a1", "a0") // 3
        .label("join") // 4
        .mov("a3", 0) // 5
        .label("loop") // 6
        .add("a3", "a3", 1) // 7
        .br("ne", "a3", "a0", "loop") // 8
        .ret(), // 9
  );
  assert.equal(known(w[5]!, "a1"), 32, "one path loaded 32 bits");
  assert.equal(known(w[5]!, "a2"), 16);
  assert.equal(known(w[7]!, "a3"), 64, "a counter in a loop has no bound");
});

test("widths narrow on unsigned and equality branches, and calls return their callee's bound", () => {
  const w = flowing(
    (f) =>
      f
        .load(1, "a1", "a0") // 0
        .br("ltu", "a2", "a1", "small") // 1
        .br("eq", "a3", 300, "small") // 2
        .br("geu", "a4", 1000, "big") // 3
        .mov("a5", 0) // 4: a4 < 1000
        .label("small") // 5
        .ret() // 6
        .label("big") // 7
        .call("g") // 8
        .ret(), // 9
  );
  assert.equal(known(w[2]!, "a2"), 64, "not taken: a2 >= a1");
  assert.equal(known(w[4]!, "a4"), 10);
  assert.equal(known(w[5]!, "a2"), 64, "joined with a path where a2 is unknown");
  assert.equal(known(w[9]!, "a0"), 16, "g returns a 16-bit load");
  const taken = flowing((f) => f.load(1, "a1", "a0").br("ltu", "a2", "a1", "t").ret().label("t").ret());
  assert.equal(known(taken[4]!, "a2"), 8, "taken: a2 < a1, a byte");
});
