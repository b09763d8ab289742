import assert from "node:assert/strict";
import { test } from "node:test";
import { type FuncBuilder, ProgramBuilder } from "./builder.ts";
import { Exit, interpret, Machine } from "./interpret.ts";
import { streamSyscalls } from "./streams.ts";

function run(build: (p: ProgramBuilder) => void, input: Record<number, string> = {}, argv?: string[]) {
  const p = new ProgramBuilder();
  build(p);
  const streams = streamSyscalls(input);
  const result = interpret(p.build("main"), { syscall: streams.handler, argv });
  return { ...result, stdout: streams.text(1) };
}

test("interpret() writes a line from rodata and exits with a code", () => {
  const r = run((p) => {
    p.rodata("msg", "hello\n");
    p.func("main", {}, (f) => {
      f.mov("a0", 1).addr("a1", "msg").mov("a2", 6).syscall("write");
      f.mov("a0", 7).syscall("exit_group");
    });
  });
  assert.equal(r.stdout, "hello\n");
  assert.equal(r.exitCode, 7);
});

test("interpret() wraps arithmetic at 64 bits and distinguishes signed from unsigned", () => {
  const r = run((p) => {
    p.func("main", {}, (f) => {
      f.mov("s0", -1n).add("s0", "s0", 2).br("ne", "s0", 1, "bad");
      f.mov("s1", -5n)
        .sar("s1", "s1", 1)
        .br("ne", "s1", -3n & ((1n << 64n) - 1n), "bad");
      f.mov("s1", -5n).shr("s1", "s1", 60).br("ne", "s1", 15, "bad");
      f.mov("s2", -1n).br("lt", "s2", 0, "signed_ok").jmp("bad");
      f.label("signed_ok").br("gtu", "s2", 0, "good").jmp("bad");
      f.label("good").mov("a0", 0).syscall("exit");
      f.label("bad").mov("a0", 1).syscall("exit");
    });
  });
  assert.equal(r.exitCode, 0);
});

test("interpret() restores saved registers on return and keeps frames apart", () => {
  const r = run((p) => {
    p.bss("out", 8);
    p.func("main", { frame: 16 }, (f) => {
      f.mov("s0", 41).store(8, 100, { base: "sp", offset: 8 }).call("clobber");
      f.load(8, "a1", { base: "sp", offset: 8 }).add("a0", "s0", "a1").syscall("exit");
    });
    p.func("clobber", { frame: 16, saves: ["s0"] }, (f) => {
      f.mov("s0", 999).store(8, "s0", { base: "sp", offset: 8 }).ret();
    });
  });
  assert.equal(r.exitCode, 141);
});

test("interpret() reads input and indexes memory with base + index * scale", () => {
  const r = run(
    (p) => {
      p.bss("buf", 64);
      p.func("main", {}, (f) => {
        f.mov("a0", 0).addr("a1", "buf").mov("a2", 64).syscall("read");
        // sum of bytes at even indexes, via 2-byte loads masked to the low byte
        f.mov("s0", 0).mov("s1", 0).mov("s2", "a0").shr("s2", "s2", 1).addr("s3", "buf");
        const loop = f.newLabel("loop");
        const done = f.newLabel("done");
        f.label(loop).br("geu", "s1", "s2", done);
        f.load(2, "a3", { base: "s3", index: "s1", scale: 2 }).and("a3", "a3", 0xff).add("s0", "s0", "a3");
        f.add("s1", "s1", 1).jmp(loop);
        f.label(done).mov("a0", "s0").syscall("exit");
      });
    },
    { 0: "\x01\x09\x02\x09\x03\x09" },
  );
  assert.equal(r.exitCode, 6);
});

test("interpret() passes argv and envp on the initial stack", () => {
  const r = run(
    (p) => {
      p.func("main", {}, (f) => {
        // a0 = &argc; argv[1] is at a0 + 16: write its first byte to stdout
        f.load(8, "a1", { base: "a0", offset: 16 }).mov("a0", 1).mov("a2", 3).syscall("write");
        f.mov("a0", 0).syscall("exit");
      });
    },
    {},
    ["speck", "abc"],
  );
  assert.equal(r.stdout, "abc");
});

test("interpret() stops a runaway program and reports faults", () => {
  assert.throws(
    () =>
      run((p) => {
        p.func("main", {}, (f) => {
          f.label("spin").jmp("spin");
        });
      }),
    /steps/,
  );
  assert.throws(
    () =>
      run((p) => {
        p.func("main", {}, (f) => {
          f.mov("a0", 0).load(8, "a1", "a0").syscall("exit");
        });
      }),
    /outside memory/,
  );
});

const M64 = (1n << 64n) - 1n;

/** One function computing a0 from a0 and a1: [name, body, a0, a1, expected a0]. */
const table: [string, (f: FuncBuilder) => void, bigint, bigint, bigint][] = [
  ["add wraps", (f) => f.add("a0", "a0", "a1"), M64, 2n, 1n],
  ["sub wraps", (f) => f.sub("a0", "a0", "a1"), 0n, 1n, M64],
  ["mul keeps the low 64 bits", (f) => f.mul("a0", "a0", "a1"), 1n << 40n, (1n << 30n) + 3n, 3n << 40n],
  ["udiv is unsigned", (f) => f.udiv("a0", "a0", "a1"), M64, 2n, M64 >> 1n],
  ["urem is unsigned", (f) => f.urem("a0", "a0", 10), M64, 0n, 5n],
  ["and", (f) => f.and("a0", "a0", 0xf0f0), 0xffffn, 0n, 0xf0f0n],
  ["or with a negative constant", (f) => f.or("a0", "a0", -256n), 0x12n, 0n, M64 - 255n + 0x12n],
  ["xor", (f) => f.xor("a0", "a0", "a1"), 0b1100n, 0b1010n, 0b0110n],
  ["shl drops high bits", (f) => f.shl("a0", "a0", 60), 0x1fn, 0n, 0xfn << 60n],
  ["shl uses the count mod 64", (f) => f.shl("a0", "a0", "a1"), 1n, 65n, 2n],
  ["shr is logical", (f) => f.shr("a0", "a0", 63), M64, 0n, 1n],
  ["sar keeps the sign", (f) => f.sar("a0", "a0", 4), M64 - 255n, 0n, M64 - 15n],
  ["neg", (f) => f.neg("a0", "a0"), 1n, 0n, M64],
  ["not", (f) => f.not("a0", "a0"), 0n, 0n, M64],
  ["mov of a 64-bit constant", (f) => f.mov("a0", 0x123456789abcdef0n), 0n, 0n, 0x123456789abcdef0n],
  [
    "store8 then load64 zero-extends in little-endian order",
    (f) =>
      f
        .store(8, "a0", { base: "sp", offset: 0 })
        .store(1, 0xab, { base: "sp", offset: 1 })
        .load(8, "a0", "sp"),
    0x1122334455667788n,
    0n,
    0x112233445566ab88n,
  ],
  [
    "load16 zero-extends",
    (f) => f.store(2, -1n, { base: "sp", offset: 4 }).load(2, "a0", { base: "sp", offset: 4 }),
    0n,
    0n,
    0xffffn,
  ],
  [
    "indexed store32 and load32 with scale 4",
    (f) =>
      f
        .mov("a2", 1)
        .addr("a3", "memory")
        .store(4, "a0", { base: "a3", index: "a2", scale: 4 })
        .load(4, "a0", { base: "a3", offset: 4 }),
    0xdeadbeefcafen,
    0n,
    0xbeefcafen,
  ],
];
for (const [cond, a, b, taken] of [
  ["lt", M64, 0n, true],
  ["ltu", M64, 0n, false],
  ["le", 5n, 5n, true],
  ["gt", 0n, M64, true],
  ["gtu", 0n, M64, false],
  ["ge", 1n << 63n, 0n, false],
  ["geu", 1n << 63n, 0n, true],
  ["leu", 4n, 5n, true],
  ["eq", 7n, 7n, true],
  ["ne", 7n, 7n, false],
] as const) {
  table.push([
    `br ${cond} ${a}, ${b} is ${taken ? "taken" : "not taken"}`,
    (f) => f.br(cond, "a0", "a1", "yes").mov("a0", 0).ret().label("yes").mov("a0", 1),
    a,
    b,
    taken ? 1n : 0n,
  ]);
}

test("Machine.call() computes the table of small programs", () => {
  const p = new ProgramBuilder();
  p.bss("memory", 16);
  table.forEach(([, body], i) => {
    p.func(`case${i}`, { frame: 16 }, (f) => {
      body(f);
      f.ret();
    });
  });
  p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
  const machine = new Machine(p.build("main"), { syscall: streamSyscalls().handler });
  table.forEach(([name, , a, b, expected], i) => {
    assert.equal(machine.call(`case${i}`, [a, b]), expected, name);
  });
});

test("Machine.call() keeps memory between calls and reaches data by symbol", () => {
  const p = new ProgramBuilder();
  p.data("counter", new Uint8Array(8));
  p.func("bump", {}, (f) =>
    f.addr("a1", "counter").load(8, "a0", "a1").add("a0", "a0", 1).store(8, "a0", "a1").ret(),
  );
  p.func("keeps", { saves: ["s1"] }, (f) => f.add("s1", "a0", 1).mov("a0", "s1").ret());
  p.func("main", {}, (f) => f.call("bump").syscall("exit_group"));
  const machine = new Machine(p.build("main"), { syscall: streamSyscalls().handler });
  for (let i = 1n; i <= 3n; i++) assert.equal(machine.call("bump"), i);
  assert.equal(machine.call("keeps", [5]), 6n);
  assert.equal(machine.reg("s1"), 0n, "s1 is restored after the call");
  assert.equal(machine.memory.load(machine.address("counter"), 8), 3n);
  assert.equal(machine.run(), 4);
});

test("interpret() names the function and instruction of a fault", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.call("divide").syscall("exit_group"));
  p.func("divide", {}, (f) => f.mov("a1", 0).udiv("a0", "a0", "a1").ret());
  assert.throws(
    () => interpret(p.build("main"), { syscall: streamSyscalls().handler }),
    /interpret: fn divide, insn 1 "udiv a0, a0, a1": udiv by zero/,
  );
});

test("Machine.call() lets an exit syscall end the call with Exit", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.mov("a0", 9).syscall("exit"));
  const machine = new Machine(p.build("main"), { syscall: streamSyscalls().handler });
  assert.throws(
    () => machine.call("main"),
    (e) => e instanceof Exit && e.code === 9,
  );
});

test("interpret() reports a stack overflow by name", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.call("deep").syscall("exit_group"));
  p.func("deep", { frame: 1024 }, (f) => f.call("deep").ret());
  assert.throws(
    () => interpret(p.build("main"), { syscall: streamSyscalls().handler, stackSize: 64 * 1024 }),
    /interpret: fn deep, insn 0 "call deep": stack overflow \(raise stackSize\)/,
  );
  const big = new ProgramBuilder();
  big.func("main", { frame: 500_000 }, (f) => f.mov("a0", 0).syscall("exit_group"));
  assert.throws(
    () => interpret(big.build("main"), { syscall: streamSyscalls().handler }),
    /interpret: fn main, insn 0 "mov a0, 0": stack overflow/,
  );
});

test("interpret() stops unbounded recursion", () => {
  const p = new ProgramBuilder();
  p.func("main", {}, (f) => f.call("main").syscall("exit_group"));
  assert.throws(
    () => interpret(p.build("main"), { syscall: streamSyscalls().handler, maxDepth: 1000 }),
    /call depth over 1000/,
  );
});

test("Machine.call() runs an IR request-line scanner over thousands of inputs, agreeing with JavaScript", () => {
  // headerEnd(buf, len): offset just past the first "\r\n\r\n", or 0 when there is none.
  const p = new ProgramBuilder();
  p.bss("input", 512);
  p.func("headerEnd", {}, (f) => {
    const loop = f.newLabel("loop");
    const none = f.newLabel("none");
    f.mov("a2", 0).sub("a1", "a1", 3);
    f.label(loop).br("ge", "a2", "a1", none);
    f.load(4, "a3", { base: "a0", index: "a2" }).add("a2", "a2", 1);
    f.br("ne", "a3", 0x0a0d0a0d, loop);
    f.add("a0", "a2", 3).ret();
    f.label(none).mov("a0", 0).ret();
  });
  p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
  const machine = new Machine(p.build("main"), { syscall: streamSyscalls().handler });
  const at = machine.address("input");
  const encoder = new TextEncoder();
  const pieces = ["GET / HTTP/1.1", "\r\n", "Host: a", "\r", "\n", "x".repeat(40), "\r\n\r\n", "Accept: */*"];
  let state = 12345;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 16;
  };
  let found = 0;
  const started = performance.now();
  for (let n = 0; n < 3000; n++) {
    let text = "";
    while (text.length < 120) text += pieces[random() % pieces.length];
    const bytes = encoder.encode(text.slice(0, 60 + (random() % 200)));
    machine.memory.write(at, bytes);
    const end = text.indexOf("\r\n\r\n");
    const expected = end >= 0 && end + 4 <= bytes.length ? end + 4 : 0;
    assert.equal(Number(machine.call("headerEnd", [at, bytes.length])), expected, JSON.stringify(text));
    if (expected) found += 1;
  }
  assert.ok(found > 100 && found < 2900, `${found} inputs with a header end`);
  const ms = performance.now() - started;
  assert.ok(ms < 20_000, `3000 scans took ${ms.toFixed(0)} ms`);
});

test("interpret() wraps addresses modulo 2^64 like the hardware", () => {
  const p = new ProgramBuilder();
  p.data("word", new Uint8Array([42, 0, 0, 0, 0, 0, 0, 0]));
  p.func("below", {}, (f) =>
    f.addr("a1", "word", -100_000).load(8, "a0", { base: "a1", offset: 100_000 }).ret(),
  );
  p.func("minusOne", {}, (f) =>
    f.addr("a1", "word", 8).mov("a2", -1n).load(8, "a0", { base: "a1", index: "a2", scale: 8 }).ret(),
  );
  p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
  const machine = new Machine(p.build("main"), { syscall: streamSyscalls().handler });
  assert.equal(machine.call("below"), 42n);
  assert.equal(machine.call("minusOne"), 42n);
});
