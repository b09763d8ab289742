// x86-64 lowering: the shape of what small IR programs become (disassembled with objdump: shortest
// immediates, short branches in range, near ones relaxed to a fixpoint), and sweeps of every op,
// constant edge and register aliasing run on this CPU, which must agree with the IR interpreter.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { arch, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { requireCommands } from "../../../../test/support/tools.ts";
import { type FuncBuilder, type FuncOptions, ProgramBuilder } from "../../ir/builder.ts";
import { interpret } from "../../ir/interpret.ts";
import { streamSyscalls } from "../../ir/streams.ts";
import { BIN_OPS, CONDS, type Cond, type Program, REGS, type Reg, type Size } from "../../ir/types.ts";
import { link } from "../../link.ts";
import { x64 } from "./index.ts";

const work = mkdtempSync(join(tmpdir(), "speck-x64-"));
after(() => rmSync(work, { recursive: true, force: true }));

interface Line {
  offset: number;
  bytes: number;
  text: string;
}

/** objdump's Intel-syntax listing of raw x86-64 code, one entry per instruction. */
function disassemble(code: Uint8Array): Line[] {
  const path = join(work, `code-${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(path, code);
  const out = execFileSync(
    "objdump",
    ["-D", "--insn-width=15", "-b", "binary", "-m", "i386:x86-64", "-M", "intel", path],
    {
      encoding: "utf8",
    },
  );
  const lines: Line[] = [];
  for (const m of out.matchAll(/^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t(.*)$/gm))
    lines.push({
      offset: Number.parseInt(m[1]!, 16),
      bytes: m[2]!.trim().split(" ").length,
      text: m[3]!
        .replace(/\s+/g, " ")
        .replace(/ ?#.*$/, "")
        .trim(),
    });
  return lines;
}

/** The instructions of function `name` in `program`, as objdump prints them; branch targets are offsets in the function ("@6"). */
function listing(program: Program, name: string): Line[] {
  const text = x64.assemble(program);
  const start = text.symbols.get(name)!;
  const starts = program.funcs.map((f) => text.symbols.get(f.name)!).filter((at) => at > start);
  const end = starts.length > 0 ? Math.min(...starts) : text.code.length;
  return disassemble(text.code.subarray(start, end)).map((l) => ({
    ...l,
    text: l.text.replace(
      /^(j\w+|call) 0x([0-9a-f]+)$/,
      (_, op: string, to: string) => `${op} @${Number.parseInt(to, 16)}`,
    ),
  }));
}

/**
 * A program whose entry exits at once and whose function `f` has the given body; `result` is the
 * register the entry reads after the call (its exit status), so f hands it back where it is.
 */
function oneFunction(body: (f: FuncBuilder) => void, options: FuncOptions = {}, result?: Reg): Program {
  const p = new ProgramBuilder();
  p.bss("data", 64);
  p.func("main", {}, (f) =>
    f
      .call("f")
      .mov("a0", result ?? 0)
      .syscall("exit_group"),
  );
  p.func("f", options, (f) => body(f));
  p.func("g", {}, (f) => f.ret());
  return p.build("main");
}

const texts = (lines: Line[]): string[] => lines.map((l) => l.text);

test("x64 lowering picks the shortest forms", (t) => {
  if (!requireCommands(t, ["objdump"], "apt-get install binutils")) return;
  const shapes: { name: string; body: (f: FuncBuilder) => FuncBuilder; want: string[]; result?: Reg }[] = [
    { name: "zero", body: (f) => f.mov("a1", 0), want: ["xor esi,esi"] },
    { name: "small constant", body: (f) => f.mov("s2", -5), want: ["push 0xfffffffffffffffb", "pop r12"] },
    { name: "32-bit constant", body: (f) => f.mov("a1", 0xffffffff), want: ["mov esi,0xffffffff"] },
    {
      name: "negative imm32",
      body: (f) => f.mov("a1", -1000),
      want: ["push 0xfffffffffffffc18", "pop rsi"],
    },
    { name: "64-bit constant", body: (f) => f.mov("a1", 1n << 40n), want: ["movabs rsi,0x10000000000"] },
    {
      name: "copies: push/pop between registers without REX, mov otherwise",
      body: (f) => f.mov("a1", "a2").mov("a3", "a1"),
      want: ["push rdx", "pop rsi", "mov r10,rsi"],
      result: "a3",
    },
    { name: "increment", body: (f) => f.add("a1", "a1", 1), want: ["inc rsi"] },
    { name: "decrement", body: (f) => f.sub("s3", "s3", 1), want: ["dec r13"] },
    { name: "three-address add", body: (f) => f.add("a1", "a2", 8), want: ["lea rsi,[rdx+0x8]"] },
    { name: "reversed sub", body: (f) => f.sub("a1", "a2", "a1"), want: ["neg rsi", "add rsi,rdx"] },
    { name: "byte mask", body: (f) => f.and("a1", "a2", 0xff), want: ["movzx esi,dl"] },
    { name: "word mask", body: (f) => f.and("a1", "a1", 0xffff), want: ["movzx esi,si"] },
    { name: "dword mask", body: (f) => f.and("a0", "a0", 0xffffffff), want: ["mov edi,edi"] },
    { name: "imm8 mask", body: (f) => f.and("a0", "a0", 7), want: ["and edi,0x7"] },
    { name: "unsigned mask", body: (f) => f.and("a0", "a0", 0x80000000), want: ["and edi,0x80000000"] },
    { name: "xor -1", body: (f) => f.xor("a0", "a0", -1), want: ["not rdi"] },
    { name: "mul by 8", body: (f) => f.mul("a0", "a0", 8), want: ["shl rdi,0x3"] },
    { name: "mul by 10", body: (f) => f.mul("a0", "a1", 10), want: ["imul rdi,rsi,0xa"] },
    { name: "udiv by 16", body: (f) => f.udiv("a0", "a0", 16), want: ["shr rdi,0x4"] },
    { name: "urem by 4096", body: (f) => f.urem("a0", "a0", 4096), want: ["and edi,0xfff"] },
    {
      name: "udiv by 10, a2 read later",
      body: (f) => f.udiv("a0", "a1", 10).add("a0", "a0", "a2"),
      want: [
        "push rdx",
        "push 0xa",
        "pop rcx",
        "push rsi",
        "pop rax",
        "xor edx,edx",
        "div rcx",
        "xchg rdi,rax",
        "pop rdx",
        "add rdi,rdx",
      ],
    },
    {
      name: "udiv by 10, a2 dead (returning)",
      body: (f) => f.udiv("a0", "a1", 10),
      want: ["push 0xa", "pop rcx", "push rsi", "pop rax", "xor edx,edx", "div rcx", "xchg rdi,rax"],
    },
    {
      name: "quotient and remainder of one division",
      body: (f) => f.urem("a3", "a0", 10).udiv("a0", "a0", 10),
      want: [
        "push 0xa",
        "pop rcx",
        "push rdi",
        "pop rax",
        "xor edx,edx",
        "div rcx",
        "mov r10,rdx",
        "xchg rdi,rax",
      ],
      result: "a3",
    },
    {
      name: "urem into a2",
      body: (f) => f.urem("a2", "a1", "a2"),
      want: ["push rdx", "pop rcx", "push rsi", "pop rax", "xor edx,edx", "div rcx"],
    },
    { name: "shift by register", body: (f) => f.shr("a1", "a1", "a0"), want: ["mov ecx,edi", "shr rsi,cl"] },
    {
      name: "compare with 0",
      body: (f) => f.br("lt", "a1", 0, "x").mov("a1", 1).label("x"),
      want: ["test rsi,rsi", "jl @8", "push 0x1", "pop rsi"],
    },
    {
      name: "ZF of an ALU result",
      body: (f) =>
        f
          .and("a2", "a2", 8)
          .br("ne", "a2", 0, "x")
          .sub("a1", "a1", 1)
          .br("eq", "a1", 0, "x")
          .mov("a0", 0)
          .label("x"),
      want: ["and edx,0x8", "jne @12", "dec rsi", "je @12", "xor edi,edi"],
    },
    {
      name: "no ZF from lea, imul or a signed condition",
      body: (f) =>
        f
          .add("a1", "a2", 1)
          .br("eq", "a1", 0, "x")
          .mul("a1", "a1", 3)
          .br("ne", "a1", 0, "x")
          .sub("a1", "a1", 1)
          .br("lt", "a1", 0, "x")
          .mov("a0", 0)
          .label("x"),
      want: [
        "lea rsi,[rdx+0x1]",
        "test rsi,rsi",
        "je @28",
        "imul rsi,rsi,0x3",
        "test rsi,rsi",
        "jne @28",
        "dec rsi",
        "test rsi,rsi",
        "jl @28",
        "xor edi,edi",
      ],
    },
    {
      name: "branch on a dead loaded byte",
      body: (f) =>
        f.load(1, "a1", { base: "a0", offset: 3 }).br("lt", "a1", 0x80, "x").mov("a0", 0).label("x"),
      want: ["cmp BYTE PTR [rdi+0x3],0x80", "jb @8", "xor edi,edi"],
    },
    {
      name: "branch on a dead loaded qword and a register",
      body: (f) => f.load(8, "a1", "s4").br("gt", "a1", "a2", "x").mov("a0", 0).label("x"),
      want: ["cmp QWORD PTR [r14],rdx", "jg @7", "xor edi,edi"],
    },
    {
      name: "branch on a loaded byte still read later",
      body: (f) => f.load(1, "a1", "a0").br("eq", "a1", 0, "x").mov("a0", "a1").label("x"),
      want: ["movzx esi,BYTE PTR [rdi]", "test esi,esi", "je @9", "mov edi,esi"],
    },
    {
      name: "32-bit arithmetic on a loaded byte, across a label",
      body: (f) =>
        f
          .load(1, "a1", "a0")
          .label("x")
          .add("a2", "a1", 8)
          .shl("a2", "a2", 2)
          .add("a2", "a2", 1)
          .udiv("a0", "a2", 10),
      want: [
        "movzx esi,BYTE PTR [rdi]",
        "lea edx,[rsi+0x8]",
        "shl edx,0x2",
        "inc edx",
        "push 0xa",
        "pop rcx",
        "mov eax,edx",
        "xor edx,edx",
        "div ecx",
        "xchg edi,eax",
      ],
    },
    {
      name: "digit test: 32-bit sub and compare, the difference unread where it wrapped",
      body: (f) =>
        f.load(1, "a1", "a0").sub("a1", "a1", 48).br("gtu", "a1", 9, "x").mov("a0", "a1").label("x"),
      want: ["movzx esi,BYTE PTR [rdi]", "sub esi,0x30", "cmp esi,0x9", "ja @13", "mov edi,esi"],
    },
    {
      name: "a mask of a dead loaded byte tests memory",
      body: (f) =>
        f
          .load(1, "a1", { base: "a0", index: "a2" })
          .and("a1", "a1", 16)
          .br("eq", "a1", 0, "x")
          .mov("a0", 0)
          .label("x"),
      want: ["test BYTE PTR [rdi+rdx*1],0x10", "je @8", "xor edi,edi"],
    },
    {
      name: "a mask of a register read later tests its low byte",
      body: (f) => f.load(1, "a1", "a0").and("a2", "a1", 4).br("ne", "a2", 0, "x").mov("a0", "a1").label("x"),
      want: ["movzx esi,BYTE PTR [rdi]", "test sil,0x4", "jne @11", "mov edi,esi"],
    },
    {
      name: "two adds of a register and a constant: one lea",
      body: (f) => f.add("a2", "a2", "s4").add("a2", "a2", 512).add("a1", "a0", 8).add("a1", "a1", "a3"),
      want: ["lea rdx,[rdx+r14*1+0x200]", "lea rsi,[rdi+r10*1+0x8]"],
    },
    {
      name: "an op on a dead loaded qword takes it from memory",
      body: (f) =>
        f
          .load(8, "a1", { base: "s5", offset: 64 })
          .add("a0", "a0", "a1")
          .load(8, "a2", "a0")
          .or("a0", "a2", "a0"),
      want: ["add rdi,QWORD PTR [r15+0x40]", "or rdi,QWORD PTR [rdi]"],
    },
    {
      name: "load, op and store back of a dead value: one read-modify-write",
      body: (f) =>
        f
          .load(8, "a1", { base: "s5", offset: 48 })
          .sub("a1", "a1", 1)
          .store(8, "a1", { base: "s5", offset: 48 })
          .load(1, "a2", { base: "a0", offset: 4 })
          .and("a2", "a2", 247)
          .store(1, "a2", { base: "a0", offset: 4 })
          .load(4, "a2", "a0")
          .add("a2", "a2", "a3")
          .store(4, "a2", "a0"),
      want: ["dec QWORD PTR [r15+0x30]", "and BYTE PTR [rdi+0x4],0xf7", "add DWORD PTR [rdi],r10d"],
    },
    {
      name: "a dead shifted index added: one scaled lea",
      body: (f) => f.shl("a1", "a1", 3).add("a0", "a0", "a1").shl("a2", "a3", 1).add("a0", "a2", "s0"),
      want: ["lea rdi,[rdi+rsi*8]", "lea rdi,[rbx+r10*2]"],
    },
    {
      name: "a copy straight back is nothing",
      body: (f) => f.mov("a1", "s0").mov("s0", "a1").mov("a0", "a1"),
      want: ["push rbx", "pop rsi", "push rsi", "pop rdi"],
    },
    {
      name: "store small qword",
      body: (f) => f.store(8, 7, "a1"),
      want: ["push 0x7", "pop rax", "mov QWORD PTR [rsi],rax"],
    },
    {
      name: "store zero dword",
      body: (f) => f.store(4, 0, "a1"),
      want: ["xor eax,eax", "mov DWORD PTR [rsi],eax"],
    },
    { name: "store byte", body: (f) => f.store(1, 255, "a1"), want: ["mov BYTE PTR [rsi],0xff"] },
    { name: "store word", body: (f) => f.store(2, -1, "a1"), want: ["mov WORD PTR [rsi],0xffff"] },
    { name: "data address", body: (f) => f.addr("a1", "data", 8), want: ["mov esi,0x0"] },
    { name: "function address", body: (f) => f.addr("a1", "g"), want: ["lea rsi,[rip+0x1]"] },
    {
      name: "jump to the next label",
      body: (f) => f.jmp("x").label("x").br("eq", "a0", "a1", "y").label("y"),
      want: [],
    },
    {
      name: "syscall result",
      body: (f) => f.syscall("getpid").add("a0", "a0", 1),
      want: ["push 0x27", "pop rax", "syscall", "xchg rdi,rax", "inc rdi"],
    },
    {
      name: "syscall result overwritten later",
      body: (f) => f.syscall("close").mov("a1", 2).mov("a0", 1),
      want: ["push 0x3", "pop rax", "syscall", "push 0x2", "pop rsi", "push 0x1", "pop rdi"],
    },
    {
      name: "syscall result read later",
      body: (f) => f.syscall("close").mov("a1", 2).store(8, "a1", "a0"),
      want: [
        "push 0x3",
        "pop rax",
        "syscall",
        "xchg rdi,rax",
        "push 0x2",
        "pop rsi",
        "mov QWORD PTR [rdi],rsi",
      ],
    },
    {
      name: "syscall result branched on, then dead: compared in rax",
      body: (f) => f.syscall("close").br("lt", "a0", 0, "x").mov("a0", 1).label("x"),
      want: ["push 0x3", "pop rax", "syscall", "test rax,rax", "jl @13", "push 0x1", "pop rdi"],
    },
    {
      name: "syscall result copied, then dead: copied from rax",
      body: (f) => f.syscall("close").mov("a3", "a0").mov("a0", "a3"),
      want: ["push 0x3", "pop rax", "syscall", "mov r10,rax", "mov rdi,r10"],
      // the entry reads a3 after the call, so f's value stays there (see webs.ts)
      result: "a3",
    },
    {
      name: "syscall numbers 128..255",
      body: (f) => f.syscall("clock_gettime"),
      want: ["xor eax,eax", "mov al,0xe4", "syscall"],
    },
    {
      name: "syscall result overwritten",
      body: (f) => f.syscall("close").mov("a0", 1),
      want: ["push 0x3", "pop rax", "syscall", "push 0x1", "pop rdi"],
    },
  ];
  for (const s of shapes) {
    const lines = texts(
      listing(
        oneFunction((f) => s.body(f).ret(), {}, s.result),
        "f",
      ),
    );
    assert.deepEqual(lines, [...s.want, "ret"], s.name);
  }
});

test("x64 frames: pushes for small frames, one shared epilogue, tail jumps, sp handed to the entry", (t) => {
  if (!requireCommands(t, ["objdump"], "apt-get install binutils")) return;
  const small = oneFunction((f) => f.store(8, "a0", "sp").ret(), { frame: 12 });
  assert.deepEqual(texts(listing(small, "f")), [
    "push rax",
    "push rax",
    "mov QWORD PTR [rsp],rdi",
    "pop rcx",
    "pop rcx",
    "ret",
  ]);
  const large = oneFunction(
    (f) => f.mov("s0", 1).br("eq", "a0", 0, "two").mov("s2", 2).ret().label("two").ret(),
    { frame: 40, saves: ["s0", "s2"] },
  );
  // s2 is private to f, so it lives in rbp, which needs no REX prefix (see saved.ts).
  assert.deepEqual(texts(listing(large, "f")), [
    "push rbx",
    "push rbp",
    "sub rsp,0x28",
    "push 0x1",
    "pop rbx",
    "test rdi,rdi",
    "je @24",
    "push 0x2",
    "pop rbp",
    "add rsp,0x28",
    "pop rbp",
    "pop rbx",
    "ret",
    "jmp @17",
  ]);
  const tail = oneFunction((f) => f.mov("a0", 1).call("g").ret());
  assert.deepEqual(texts(listing(tail, "f")), ["push 0x1", "pop rdi", "jmp @5"]);
  const tailWithFrame = oneFunction((f) => f.store(8, "a0", "sp").call("g").ret(), { frame: 8 });
  assert.deepEqual(texts(listing(tailWithFrame, "f")), [
    "push rax",
    "mov QWORD PTR [rsp],rdi",
    "pop rcx",
    "jmp @8",
  ]);
  // Two pops before the ret: a call and a jump to the epilogue are shorter than inlining it.
  const noTail = oneFunction((f) => f.mov("s0", 1).call("g").ret(), { frame: 8, saves: ["s0"] });
  assert.deepEqual(texts(listing(noTail, "f")), [
    "push rbx",
    "push rax",
    "push 0x1",
    "pop rbx",
    "call @13",
    "pop rcx",
    "pop rbx",
    "ret",
  ]);
  // Functions whose epilogues end alike share one copy: the later ones jump into the first.
  const shared = new ProgramBuilder();
  shared.func("main", {}, (f) => {
    for (const name of ["one", "two", "three", "one", "two", "three"]) f.call(name);
    f.mov("a0", 0).syscall("exit_group");
  });
  for (const [name, frame] of [
    ["one", 16],
    ["two", 0],
    ["three", 24],
  ] as const)
    shared.func(name, { frame, saves: ["s0", "s1", "s2", "s3"] }, (f) => {
      for (const r of ["s0", "s1", "s2", "s3"] as const) f.mov(r, 1);
      f.store(8, "s0", "sp").ret();
    });
  const program = shared.build("main");
  assert.deepEqual(texts(listing(program, "one")).slice(-7), [
    "pop rcx",
    "pop rcx",
    "pop r13",
    "pop r12",
    "pop rbp",
    "pop rbx",
    "ret",
  ]);
  assert.match(texts(listing(program, "two")).at(-1)!, /^jmp /, "two jumps to one's pops");
  const three = texts(listing(program, "three"));
  assert.equal(three.at(-2), "pop rcx", "three frees its third word");
  assert.match(three.at(-1)!, /^jmp /, "then jumps to one's epilogue");
  const p = new ProgramBuilder();
  p.func("main", { frame: 8 }, (f) => f.load(8, "a1", "a0").mov("a0", 0).syscall("exit_group"));
  assert.deepEqual(texts(listing(p.build("main"), "main")), [
    "push rsp",
    "pop rdi",
    "push rax",
    "mov rsi,QWORD PTR [rdi]",
    "xor edi,edi",
    "xor eax,eax",
    "mov al,0xe7",
    "syscall",
  ]);
});

/** Exactly `count` (at least 2) bytes of code: 2-byte `xor esi, esi` and 3-byte `mov rsi, r10`. */
function filler(f: FuncBuilder, count: number): void {
  let left = count;
  for (; left % 3 !== 0; left -= 2) f.mov("a1", 0);
  for (; left > 0; left -= 3) f.mov("a1", "a3");
}

test("x64 branches stay short while in rel8 range and grow to near, to a fixpoint", (t) => {
  if (!requireCommands(t, ["objdump"], "apt-get install binutils")) return;
  const sizes = (program: Program) =>
    listing(program, "f")
      .filter((l) => /^j/.test(l.text))
      .map((l) => l.bytes);
  for (const [gap, want] of [
    [126, 2],
    [127, 2],
    [128, 6],
    [3000, 6],
  ] as const) {
    const forward = oneFunction((f) => {
      f.br("ltu", "a0", "a1", "end");
      filler(f, gap);
      return f.label("end").ret();
    });
    assert.deepEqual(sizes(forward), [want], `forward over ${gap} bytes`);
    const backward = oneFunction((f) => {
      f.label("top");
      filler(f, gap - 1); // rel = -(gap + 1): -128 at most while gap <= 127
      return f.jmp("top").ret();
    });
    assert.deepEqual(sizes(backward), [want === 2 ? 2 : 5], `backward over ${gap} bytes`);
  }
  // The inner branch grows first, which pushes the outer one out of range on the next pass.
  const cascade = oneFunction((f) => {
    f.br("eq", "a0", 0, "one");
    filler(f, 123);
    f.br("ne", "a1", "a2", "two").label("one");
    filler(f, 130);
    return f.label("two").ret();
  });
  const lines = listing(cascade, "f").filter((l) => /^j/.test(l.text));
  assert.deepEqual(
    lines.map((l) => l.bytes),
    [6, 6],
  );
  const text = x64.assemble(cascade);
  const base = text.symbols.get("f")!;
  assert.deepEqual(
    lines.map((l) => l.text),
    [`je @${text.symbols.get("f.one")! - base}`, `jne @${text.symbols.get("f.two")! - base}`],
  );
});

// ---- lowering sweeps run on this CPU against the interpreter ----

/** Registers a case dumps; s5 holds the dump's address. */
const DUMPED = REGS.filter((r) => r !== "s5");
const EDGES = [
  0n,
  1n,
  2n,
  7n,
  63n,
  64n,
  127n,
  128n,
  -1n,
  -128n,
  -129n,
  0xffn,
  0xffffn,
  4096n,
  0x7fffffffn,
  0x80000000n,
  -0x80000000n,
  0xffffffffn,
  0x100000000n,
  -(1n << 63n),
  0x123456789abcdef0n,
];
/** dst, a, b: every way the two-address lowering can alias them, rdx (a2) and r8+ included. */
const ALIASES: readonly (readonly [Reg, Reg, Reg])[] = [
  ["a1", "a1", "a2"],
  ["a2", "a1", "a2"],
  ["a3", "a2", "a1"],
  ["a2", "a2", "a4"],
  ["s2", "a1", "a1"],
  ["a1", "a2", "a2"],
  ["a0", "s3", "a2"],
  ["s4", "s4", "s3"],
];

interface Sweep {
  names: string[];
  program: Program;
}

/** One entry function running `cases` in turn, each dumping every register to "out" + case * 88. */
function sweep(
  cases: { name: string; emit: (f: FuncBuilder, label: (hint: string) => string) => void }[],
): Sweep {
  const p = new ProgramBuilder();
  const bytes = cases.length * DUMPED.length * 8;
  p.bss("out", bytes).bss("scratch", 256);
  p.func("main", { frame: 64 }, (f) => {
    cases.forEach((c, i) => {
      DUMPED.forEach((r, k) => {
        f.mov(r, 0x1111111111111111n * BigInt(k + 1));
      });
      c.emit(f, (hint) => `${hint}${i}`);
      f.addr("s5", "out", i * DUMPED.length * 8);
      DUMPED.forEach((r, k) => {
        f.store(8, r, { base: "s5", offset: k * 8 });
      });
    });
    f.mov("a0", 1).addr("a1", "out").mov("a2", bytes).syscall("write");
    f.mov("a0", 0).syscall("exit_group");
  });
  return { names: cases.map((c) => c.name), program: p.build("main") };
}

/** Runs a sweep natively and in the interpreter; names the first case and register that differ. */
function agree(t: import("node:test").TestContext, { names, program }: Sweep): void {
  const streams = streamSyscalls({});
  interpret(program, { syscall: streams.handler, maxSteps: 10_000_000 });
  const reference = Buffer.from(streams.bytes(1));
  const path = join(work, `sweep-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, link(program, x64).elf);
  chmodSync(path, 0o755);
  const run = spawnSync(path, [], { timeout: 30_000, maxBuffer: 1 << 26 });
  assert.equal(run.status, 0, `exit status (signal ${run.signal})`);
  assert.equal(run.stdout.length, reference.length, "bytes written");
  const at = run.stdout.findIndex((b, i) => b !== reference[i]);
  if (at >= 0) {
    const word = at >> 3;
    const c = Math.floor(word / DUMPED.length);
    const hex = (b: Buffer) => b.readBigUInt64LE(word * 8).toString(16);
    assert.fail(
      `${names[c]}: ${DUMPED[word % DUMPED.length]} is 0x${hex(run.stdout)}, interpreter says 0x${hex(reference)}`,
    );
  }
  t.diagnostic(`${names.length} cases agree`);
}

function onX64(t: import("node:test").TestContext): boolean {
  if (arch() === "x64" && process.platform === "linux") return true;
  t.skip("runs x86-64 Linux ELF files: needs an x86-64 Linux host");
  return false;
}

const A_VALUES = [0xfedcba9876543210n, 12345n];

test("x64 binary and unary ops agree with the interpreter over every aliasing and constant edge", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  for (const op of BIN_OPS) {
    const divide = op === "udiv" || op === "urem";
    const shift = op === "shl" || op === "shr" || op === "sar";
    for (const av of A_VALUES)
      for (const bv of EDGES) {
        // Constant shift counts are 0..63 in the IR; register counts use their low 6 bits.
        const imm = shift ? BigInt.asUintN(6, bv) : bv;
        if (divide && bv === 0n) continue;
        for (const [dst, a, b] of ALIASES) {
          const bActual = a === b ? av : bv;
          if (divide && bActual === 0n) continue;
          cases.push({
            name: `${op} ${dst}, ${a}=${av}, ${b}=${bActual}`,
            emit: (f) => f.mov(b, bv).mov(a, av).bin(op, dst, a, b),
          });
        }
        for (const [dst, a] of [
          ["a1", "a1"],
          ["a2", "a1"],
          ["a1", "a2"],
          ["s3", "s3"],
          ["a0", "s2"],
        ] as const)
          cases.push({
            name: `${op} ${dst}, ${a}=${av}, ${imm}`,
            emit: (f) => f.mov(a, av).bin(op, dst, a, imm),
          });
      }
  }
  for (const kind of ["neg", "not"] as const)
    for (const av of EDGES)
      for (const [dst, a] of [
        ["a1", "a1"],
        ["s4", "a2"],
      ] as const)
        cases.push({ name: `${kind} ${dst}, ${a}=${av}`, emit: (f) => f.mov(a, av).un(kind, dst, a) });
  agree(t, sweep(cases));
});

const COMPARED = [
  0n,
  1n,
  2n,
  -1n,
  127n,
  -128n,
  128n,
  0x7fffffffn,
  -0x80000000n,
  0x80000000n,
  -(1n << 63n),
  1n << 40n,
];

test("x64 branches agree with the interpreter for every condition and constant edge", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  for (const cond of CONDS)
    for (const av of COMPARED)
      for (const bv of COMPARED) {
        const branch = (f: FuncBuilder, label: (hint: string) => string, b: Reg | bigint) => {
          const taken = label("taken");
          f.mov("a1", av).mov("s3", bv).mov("a0", 1).br(cond, "a1", b, taken).mov("a0", 0).label(taken);
        };
        cases.push({ name: `br ${cond} ${av}, reg ${bv}`, emit: (f, label) => branch(f, label, "s3") });
        cases.push({ name: `br ${cond} ${av}, ${bv}`, emit: (f, label) => branch(f, label, bv) });
      }
  agree(t, sweep(cases));
});

test("x64 loads and stores agree with the interpreter for every size, constant and address form", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const sizes: Size[] = [1, 2, 4, 8];
  for (const size of sizes)
    for (const v of EDGES) {
      const fits = BigInt.asIntN(size * 8, v) === v || BigInt.asUintN(size * 8, v) === v;
      const src = (f: FuncBuilder) => (fits ? v : f.mov("a3", v) && "a3");
      cases.push({
        name: `store${size * 8} [sp + 8], ${v}; load64`,
        emit: (f) => {
          f.mov("a4", -1).store(8, "a4", { base: "sp", offset: 8 });
          f.store(size, src(f), { base: "sp", offset: 8 }).load(8, "a5", { base: "sp", offset: 8 });
        },
      });
      cases.push({
        name: `store${size * 8} [s1 + a2 * ${size} + 3], ${v}; load${size * 8}`,
        emit: (f) => {
          f.addr("s1", "scratch")
            .mov("a2", 5)
            .mov("a4", -1)
            .store(8, "a4", { base: "s1", offset: 5 * size + 3 });
          f.store(size, src(f), { base: "s1", index: "a2", scale: size, offset: 3 });
          f.load(size, "s2", { base: "s1", index: "a2", scale: size, offset: 3 });
          // Addresses differ between the interpreter and the process, so s1 is not left holding one.
          f.load(8, "a5", { base: "s1", offset: 5 * size + 3 }).mov("s1", 0);
        },
      });
    }
  agree(t, sweep(cases));
});

/**
 * Branches to one far label, `gap` bytes apart, then `tail` bytes before it; s0 counts branches
 * passed. A branch compares s2 with s3, except "add eq"/"add ne", which test s4 = s2 + s3 for zero
 * on the flags of the add itself.
 */
type Far = Cond | "jmp" | "add eq" | "add ne";

function farBranches(f: FuncBuilder, conds: readonly Far[], bad: string, gap: number, tail: number): void {
  const done = `${bad}_done`;
  f.mov("s0", 0);
  for (const cond of conds) {
    if (cond === "jmp") f.jmp(bad);
    else if (cond === "add eq" || cond === "add ne")
      f.mov("s4", "s2")
        .add("s4", "s4", "s3")
        .br(cond.slice(4) as Cond, "s4", 0, bad);
    else f.br(cond, "s2", "s3", bad);
    if (cond !== "jmp") f.add("s0", "s0", 1);
    filler(f, gap);
  }
  f.jmp(done);
  filler(f, tail);
  f.label(bad).add("s0", "s0", 100).label(done);
}

test("x64 far branches reach their target through a nearby branch with the same condition and target", (t) => {
  if (!requireCommands(t, ["objdump"], "apt-get install binutils")) return;
  const program = oneFunction((f) => {
    farBranches(f, ["eq", "lt", "eq", "lt"], "bad", 40, 200);
    return f.ret();
  });
  const jumps = listing(program, "f").filter((l) => /^j/.test(l.text));
  const at = (l: Line) => `@${l.offset}`;
  // The last eq and lt are near; the first ones land on them; the final jmp done is short.
  assert.deepEqual(
    jumps.map((l) => `${l.text.split(" ")[0]} ${l.bytes}`),
    ["je 2", "jl 2", "je 6", "jl 6", "jmp 5"],
  );
  assert.equal(jumps[0]!.text, `je ${at(jumps[2]!)}`);
  assert.equal(jumps[1]!.text, `jl ${at(jumps[3]!)}`);
  // Equal operands also compare less-or-equal, so a far je may land on a jle, and so may a jl.
  const implied = oneFunction((f) => {
    farBranches(f, ["eq", "le", "lt", "le"], "bad", 40, 200);
    return f.ret();
  });
  const relayed = listing(implied, "f").filter((l) => /^j/.test(l.text));
  assert.deepEqual(
    relayed.map((l) => `${l.text.split(" ")[0]} ${l.bytes}`),
    ["je 2", "jle 6", "jl 2", "jle 2", "jmp 5"],
  );
  // The first jle is near and relays the three others, the last one backwards.
  assert.deepEqual(
    [0, 2, 3].map((k) => relayed[k]!.text),
    [`je ${at(relayed[1]!)}`, `jl ${at(relayed[1]!)}`, `jle ${at(relayed[1]!)}`],
  );
});

test("x64 relayed far branches agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  // Each first branch relays onto the one after it when the table of implied conditions allows.
  const sequences: Far[][] = [
    ["eq", "lt", "eq", "lt", "ltu", "ltu"],
    ["geu", "gt", "geu", "gt", "jmp"],
    ["ne", "le", "le", "ne", "ge", "ge"],
    ...(
      [
        ["eq", "le"],
        ["eq", "ge"],
        ["eq", "leu"],
        ["eq", "geu"],
        ["lt", "le"],
        ["lt", "ne"],
        ["gt", "ge"],
        ["gt", "ne"],
        ["ltu", "leu"],
        ["ltu", "ne"],
        ["gtu", "geu"],
        ["gtu", "ne"],
        ["add eq", "le"],
        ["add eq", "leu"],
        ["add eq", "ge"],
        ["add eq", "geu"],
        ["add ne", "ne"],
        ["add ne", "gt"],
      ] as const
    ).map((pair) => [...pair]),
  ];
  const values = [0n, 1n, -1n, 5n, -(1n << 63n)];
  for (const conds of sequences)
    for (const av of values)
      for (const bv of values)
        cases.push({
          name: `${conds.join(",")} with ${av}, ${bv}`,
          emit: (f, label) => {
            f.mov("s2", av).mov("s3", bv);
            farBranches(f, conds, label("bad"), 50, 150);
          },
        });
  agree(t, sweep(cases));
});

test("x64 data addresses are abs32 relocations that relocate patches, refusing addresses above 4 GiB", () => {
  const program = oneFunction((f) => f.addr("s3", "data", 24).ret());
  const text = x64.assemble(program);
  assert.equal(text.relocations.length, 1);
  const [r] = text.relocations;
  assert.deepEqual(
    { ...r, offset: r!.offset - text.symbols.get("f")! },
    {
      offset: 2, // after 41 bd: mov r13d, imm32
      kind: "abs32",
      symbol: "data",
      addend: 24,
    },
  );
  const code = text.code.slice();
  x64.relocate(code, r!, 0n, 0x40123456n);
  assert.deepEqual([...code.subarray(r!.offset - 2, r!.offset + 4)], [0x41, 0xbd, 0x56, 0x34, 0x12, 0x40]);
  assert.throws(() => x64.relocate(code, r!, 0n, 1n << 32n), /above 4 GiB/);
  assert.throws(
    () => x64.relocate(code, { ...r!, kind: "rel32" }, 0n, 0n),
    /unknown relocation kind "rel32"/,
  );
});

test("x64 32-bit compares and moves of narrow values agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const sizes: Size[] = [1, 2, 4];
  const pairs = [
    [0n, 0xffffffffn],
    [1n, 0x80000000n],
    [0x7fn, 0x7fffffffn],
    [0x80n, 0xffffn],
    [0xffn, 0x8000n],
    [0x80000000n, 0x7fffffffn],
    [0xffffffffn, 0n],
  ] as const;
  const imms = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x8000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, -1n, 1n << 32n];
  for (const size of sizes)
    for (const [first, second] of pairs)
      for (const cond of CONDS)
        for (const b of [...imms, "a2" as const]) {
          cases.push({
            name: `load${size * 8} ${first}, ${second}; br ${cond} a1, ${b}`,
            emit: (f, label) => {
              const taken = label("taken");
              f.addr("s1", "scratch").mov("a3", first).store(8, "a3", "s1").mov("a3", second);
              f.store(8, "a3", { base: "s1", offset: 8 })
                .load(size, "a1", "s1")
                .load(size, "a2", { base: "s1", offset: 8 });
              f.mov("a4", "a1").mov("a0", 1).br(cond, "a1", b, taken).mov("a0", 0).label(taken).mov("s1", 0);
            },
          });
        }
  agree(t, sweep(cases));
});

test("x64 branches on the zero flag of the op before agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const values = [0n, 1n, -1n, 8n, 0x80000000n, 0xffffffffn, 1n << 32n, -(1n << 63n)];
  for (const op of BIN_OPS)
    for (const av of values)
      for (const bv of [...values, 2n, 7n, 63n, 64n]) {
        const divide = op === "udiv" || op === "urem";
        const shift = op === "shl" || op === "shr" || op === "sar";
        const imm = shift ? BigInt.asUintN(6, bv) : bv;
        if (divide && imm === 0n) continue;
        for (const cond of ["eq", "ne"] as const)
          for (const [dst, a, b] of [
            ["a1", "a1", imm],
            ["a3", "a1", imm],
            ["a1", "a1", "a2"],
            ["a2", "a1", "a2"],
            ["a3", "a1", "a2"],
          ] as const) {
            if (divide && b === "a2" && bv === 0n) continue;
            cases.push({
              name: `${op} ${dst}, ${a}=${av}, ${b === "a2" ? bv : b}; br ${cond} ${dst}, 0`,
              emit: (f, label) => {
                const taken = label("taken");
                f.mov("a2", bv)
                  .mov(a, av)
                  .mov("a0", 1)
                  .bin(op, dst, a, b)
                  .br(cond, dst, 0, taken)
                  .mov("a0", 0);
                f.label(taken);
              },
            });
          }
      }
  agree(t, sweep(cases));
});

test("x64 branches on a dead loaded value compare memory directly and agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const stored = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x8000n, 0xffffn, 0x80000000n, 0xffffffffn, -1n, 1n << 40n];
  const imms = [
    0n,
    1n,
    0x7fn,
    0x80n,
    0xffn,
    0x100n,
    0xffffn,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    -1n,
    -129n,
  ];
  for (const size of [1, 2, 4, 8] as const)
    for (const v of stored)
      for (const cond of CONDS)
        for (const b of [...imms, "a2" as const, "a3" as const]) {
          cases.push({
            name: `load${size * 8} ${v}; br ${cond} a1, ${b}`,
            emit: (f, label) => {
              const taken = label("taken");
              // a2 is narrow (loaded at the same size), a3 a full 64-bit value.
              f.addr("s1", "scratch").mov("a3", v).store(8, "a3", "s1").mov("a3", 0x7f7fn);
              f.store(8, "a3", { base: "s1", offset: 8 }).load(size, "a2", { base: "s1", offset: 8 });
              f.mov("a3", -2).mov("a0", 1).load(size, "a1", { base: "s1", index: "a0", offset: -1 });
              f.br(cond, "a1", b, taken).mov("a0", 0).label(taken).mov("a1", 0).mov("s1", 0);
            },
          });
        }
  agree(t, sweep(cases));
});

test("x64 32-bit arithmetic on values known to fit agrees with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const values = [0n, 1n, 0x7fn, 0xffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn];
  const imms = [0n, 1n, 2n, 3n, 10n, 31n, 32n, 0x7fn, 0x80n, 0xffffn, 0x10000n, 0x7fffffffn, 0xffffffffn];
  const sizes: Size[] = [1, 2, 4];
  for (const op of BIN_OPS)
    for (const size of sizes)
      for (const av of values)
        for (const b of [...imms, "a2" as const]) {
          if ((op === "udiv" || op === "urem") && b === 0n) continue;
          if ((op === "shl" || op === "shr" || op === "sar") && typeof b === "bigint" && b > 63n) continue;
          for (const [dst, a] of [
            ["a1", "a1"],
            ["a3", "a1"],
            ["a2", "a1"],
            ["a1", "a2"],
          ] as const) {
            if (b === "a2" && dst === "a2" && (op === "udiv" || op === "urem")) continue;
            cases.push({
              name: `load${size * 8} a1=${av}, a2=${av >> 3n}; ${op} ${dst}, ${a}, ${b}`,
              emit: (f) => {
                // a2 is loaded at the same size, nonzero, so divisions by it are defined.
                f.addr("s1", "scratch")
                  .mov("a3", av)
                  .store(8, "a3", "s1")
                  .mov("a3", (av >> 3n) | 1n);
                f.store(8, "a3", { base: "s1", offset: 8 }).load(size, "a1", "s1");
                f.load(size, "a2", { base: "s1", offset: 8 })
                  .mov("a3", -1)
                  .bin(op, dst, "a1", b)
                  .mov("s1", 0);
              },
            });
          }
        }
  agree(t, sweep(cases));
});

test("x64 32-bit subtract-and-compare agrees with the interpreter on both sides of the branch", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const values = [0n, 1n, 9n, 47n, 48n, 57n, 58n, 0xffn, 0xffffn, 0x7fffffffn, 0xffffffffn];
  for (const size of [1, 4] as const)
    for (const av of values)
      for (const k of [1n, 48n, 0x7fffffffn])
        for (const bound of [0n, 9n, 0x7ffffffen])
          for (const cond of ["eq", "ne", "ltu", "leu", "gtu", "geu"] as const)
            for (const dst of ["a1", "a2"] as const)
              for (const wrappedReads of [false, true])
                cases.push({
                  name: `load${size * 8} ${av}; sub ${dst}, a1, ${k}; br ${cond} ${dst}, ${bound}${wrappedReads ? ", both sides read" : ""}`,
                  emit: (f, label) => {
                    const taken = label("taken");
                    const done = label("done");
                    const wrappedTaken = cond === "gtu" || cond === "geu" || cond === "ne";
                    f.addr("s1", "scratch").mov("a3", av).store(8, "a3", "s1").load(size, "a1", "s1");
                    f.sub(dst, "a1", k).br(cond, dst, bound, taken);
                    // The side that may see a wrapped difference reads it only in the second variant.
                    const wrapped = wrappedReads ? dst : 1;
                    if (wrappedTaken) f.mov("a0", dst).jmp(done).label(taken).mov("a0", wrapped);
                    else f.mov("a0", wrapped).jmp(done).label(taken).mov("a0", dst);
                    f.label(done).mov(dst, 0).mov("s1", 0);
                  },
                });
  agree(t, sweep(cases));
});

/** Far branches to one label with a point control never falls into (after `jmp over`) among them. */
function branchesToOneFarLabel(f: FuncBuilder, label: (hint: string) => string, value: bigint): void {
  const far = label("far");
  const over = label("over");
  const done = label("done");
  f.mov("a1", value).mov("a0", 0).br("eq", "a1", 1, far);
  filler(f, 60);
  f.br("eq", "a1", 2, far).jmp(over).label(label("unreached")).mov("a0", 5).label(over);
  filler(f, 40);
  f.br("eq", "a1", 3, far).br("geu", "a1", 4, far);
  filler(f, 200);
  f.mov("a0", 1).jmp(done).label(far).mov("a0", 100).label(done).mov("a1", 0);
}

test("x64 far branches to one label share a trampoline placed where control never falls in", (t) => {
  if (!requireCommands(t, ["objdump"], "apt-get install binutils")) return;
  const program = oneFunction((f) => {
    branchesToOneFarLabel(f, (hint) => hint, 0n);
    return f.ret();
  });
  const jumps = listing(program, "f").filter((l) => /^j/.test(l.text));
  assert.deepEqual(
    jumps.map((l) => l.bytes),
    [2, 2, 2, 5, 2, 2, 2],
    "four short branches, the jump over, one near trampoline after it, the jump to done",
  );
  const trampoline = jumps[3]!;
  const far = Number(trampoline.text.split("@")[1]);
  assert.deepEqual(
    listing(program, "f").find((l) => l.offset === far)?.text,
    "push 0x64",
    "the trampoline jumps to far",
  );
  for (const i of [0, 1, 4, 5]) assert.equal(jumps[i]!.text.split("@")[1], String(trampoline.offset));
});

test("x64 branches relayed through a trampoline agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  for (const value of [0n, 1n, 2n, 3n, 4n, 5n, -1n])
    cases.push({
      name: `far branches, a1 = ${value}`,
      emit: (f, label) => branchesToOneFarLabel(f, label, value),
    });
  agree(t, sweep(cases));
});

test("x64 masks tested in memory or in a low byte agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  for (const size of [1, 2, 8] as const)
    for (const v of [0n, 1n, 0x10n, 0x80n, 0xffn, 0x100n, -1n])
      for (const mask of [1n, 0x10n, 0x80n, 0xffn])
        for (const cond of ["eq", "ne"] as const)
          for (const shape of ["dead load", "kept load", "kept mask"] as const)
            cases.push({
              name: `load${size * 8} ${v}; and ${mask}; br ${cond}, ${shape}`,
              emit: (f, label) => {
                const taken = label("taken");
                const dst = shape === "kept load" ? "a2" : "a1";
                f.addr("s1", "scratch").mov("a3", v).store(8, "a3", "s1").mov("a0", 1);
                f.load(size, "a1", "s1")
                  .and(dst, "a1", mask)
                  .br(cond, dst, 0, taken)
                  .mov("a0", 0)
                  .label(taken);
                // "kept load" reads the loaded byte again, "kept mask" the masked one.
                if (shape !== "dead load") f.add("a0", "a0", "a1");
                f.mov("a1", 0).mov("a2", 0).mov("s1", 0);
              },
            });
  agree(t, sweep(cases));
});

test("x64 syscall results read from rax by the next instruction agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  for (const cond of CONDS)
    for (const b of [0n, 1n, -1n, "a2" as const])
      cases.push({
        name: `write returns 0; br ${cond} a0, ${b}`,
        emit: (f, label) => {
          const taken = label("taken");
          f.mov("s2", 7).mov("a0", 1).addr("a1", "scratch").mov("a2", 0).syscall("write");
          f.br(cond, "a0", b, taken).mov("s2", 9).label(taken);
          f.mov("a0", 1).mov("a2", 0).syscall("write").mov("s3", "a0").mov("a0", 0).mov("a1", 0);
        },
      });
  agree(t, sweep(cases));
});

test("x64 adds folded into one lea agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const values = [0n, 1n, -1n, 0x7fffffffn, 1n << 40n];
  for (const av of values)
    for (const rv of values)
      for (const k of [1n, -128n, 512n, 0x7fffffffn, -0x80000000n])
        for (const [dst, a, r] of [
          ["a1", "a1", "a2"],
          ["a3", "a1", "a2"],
          ["a2", "a1", "a2"],
          ["a1", "a2", "a1"],
        ] as const) {
          cases.push({
            name: `add ${dst}, ${a}=${av}, ${r}=${rv}; add ${dst}, ${dst}, ${k}`,
            emit: (f) => f.mov(r, rv).mov(a, av).add(dst, a, r).add(dst, dst, k),
          });
          cases.push({
            name: `add ${dst}, ${a}=${av}, ${k}; add ${dst}, ${dst}, ${r}=${rv}`,
            emit: (f) => f.mov(r, rv).mov(a, av).add(dst, a, k).add(dst, dst, r),
          });
        }
  agree(t, sweep(cases));
});

test("x64 ops on a loaded qword taken from memory agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const values = [0n, 1n, -1n, 0x80000000n, 1n << 40n];
  for (const op of ["add", "sub", "and", "or", "xor"] as const)
    for (const mv of values)
      for (const dv of values)
        for (const order of ["d, d, r", "d, r, d"] as const)
          for (const kept of [false, true])
            cases.push({
              name: `load64 a1 = ${mv}; ${op} ${order}, a2 = ${dv}${kept ? ", a1 read later" : ""}`,
              emit: (f, label) => {
                const nonzero = label("nonzero");
                f.addr("s1", "scratch").mov("a3", mv).store(8, "a3", { base: "s1", offset: 8 }).mov("a2", dv);
                f.load(8, "a1", { base: "s1", offset: 8 });
                if (order === "d, d, r") f.bin(op, "a2", "a2", "a1");
                else f.bin(op, "a2", "a1", "a2");
                // The branch reads the flags the folded op set; a1 is dead unless `kept`.
                f.br("ne", "a2", 0, nonzero).mov("a0", 5).label(nonzero).mov("s1", 0);
                if (!kept) f.mov("a1", 0);
              },
            });
  agree(t, sweep(cases));
});

test("x64 read-modify-write of memory agrees with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const values = [0n, 1n, 0xffn, 0x80000000n, -1n];
  for (const op of ["add", "sub", "and", "or", "xor"] as const)
    for (const size of [1, 4, 8] as const)
      for (const mv of values)
        for (const b of [1n, -1n, 0x7fn, 0x80n, 0x12345678n, "a3" as const])
          for (const kept of [false, true])
            cases.push({
              name: `${op}${size * 8} [m] = ${mv}, ${b}${kept ? ", value read later" : ""}`,
              emit: (f) => {
                f.addr("s1", "scratch")
                  .mov("a2", mv)
                  .store(8, "a2", { base: "s1", offset: 16 })
                  .mov("a3", 0x1234n);
                f.load(size, "a2", { base: "s1", offset: 16 }).bin(op, "a2", "a2", b);
                f.store(size, "a2", { base: "s1", offset: 16 }).load(8, "a1", { base: "s1", offset: 16 });
                if (!kept) f.mov("a2", 0);
                f.mov("s1", 0);
              },
            });
  agree(t, sweep(cases));
});

test("x64 shifts folded into a scaled lea agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  const values = [0n, 1n, -1n, 0x7fffffffn, 1n << 61n];
  for (const k of [1n, 2n, 3n])
    for (const sv of values)
      for (const ev of values)
        for (const [t2, s2, d, e] of [
          ["a1", "a1", "a0", "a0"],
          ["a1", "a2", "a0", "a3"],
          ["a1", "a0", "a0", "a0"],
        ] as const)
          for (const kept of [false, true])
            cases.push({
              name: `shl ${t2}, ${s2}=${sv}, ${k}; add ${d}, ${e}=${ev}, ${t2}${kept ? "; shifted value read later" : ""}`,
              emit: (f) => {
                f.mov(e, ev).mov(s2, sv).shl(t2, s2, k).add(d, e, t2);
                if (!kept) f.mov(t2, 0);
              },
            });
  agree(t, sweep(cases));
});

test("x64 quotient and remainder of one division agree with the interpreter", (t) => {
  if (!onX64(t)) return;
  const cases: Parameters<typeof sweep>[0] = [];
  // q, r, a (b is a constant or the last register); a2 (rdx) and r8+ as any of them
  const regs: readonly (readonly [Reg, Reg, Reg, Reg])[] = [
    ["a0", "a3", "a0", "a1"],
    ["a2", "a1", "a0", "a4"],
    ["a1", "a2", "a1", "a0"],
    ["s0", "s3", "a2", "a5"],
    ["a3", "a4", "a5", "a2"],
  ];
  for (const [q, r, a, b] of regs)
    for (const av of [0n, 9n, 86399n, 0xfedcba9876543210n])
      for (const bv of [10n, 60n, 86400n, 0xffffffffffn, "reg"] as const)
        for (const order of ["udiv urem", "urem udiv"] as const)
          for (const narrow of [false, true]) {
            const divisor = bv === "reg" ? b : bv;
            cases.push({
              name: `${order} ${q} ${r} ${a}=${av} by ${bv === "reg" ? `${b}=7` : bv}${narrow ? ", narrow" : ""}`,
              emit: (f) => {
                f.mov(b, 7).mov(a, av);
                if (narrow) f.and(a, a, 0xffffffff);
                const [first, second] = order === "udiv urem" ? [q, r] : [r, q];
                const kinds = order.split(" ") as ["udiv" | "urem", "udiv" | "urem"];
                // the first must leave a and b alone to pair; when it cannot, both are lowered alone
                f.bin(kinds[0], first, a, divisor).bin(kinds[1], second, a, divisor);
              },
            });
          }
  agree(t, sweep(cases));
});
