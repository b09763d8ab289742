// Test harness: the HTTP layer in the interpreter with a stand-in shell (`entry`, and a `send` that
// hands each response to the test), a pack copied into memory and wrappers that set s4 and s5, so
// every piece can be called like a function and compared with the preview server.

import { isIPv4 } from "node:net";
import { parseAddress } from "../../../access/cidr.ts";
import { ProgramBuilder } from "../../ir/builder.ts";
import { Machine } from "../../ir/interpret.ts";
import type { Program } from "../../ir/types.ts";
import { emitHttp, type ShellInterface } from "./index.ts";
import { S } from "./state.ts";

/** A stand-in for the shell's globals: the same fields the HTTP layer reads, at offsets of its own. */
const R = { head: 0, headLen: 8, dyn: 16, dynLen: 24, body: 32, bodyLen: 40, close: 48, line: 56 };
export const TEST_SHELL: ShellInterface = {
  pack: 0,
  dateLine: "date_line",
  dateLineLength: 37,
  response: 48,
  sockaddr: 112,
  R,
};
const G = TEST_SHELL;

const WRAPPED = [
  "http_input",
  "http_timeout",
  "head",
  "normalise",
  "lookup",
  "choose",
  "inm",
  "range",
  "put_num",
  "reset",
  "setup",
  "ae_line",
  "num",
  "find_word",
] as const;

/** The layer with the access checks of `features` (src/access/features.ts) when not 0. */
export function harnessProgram(features = 0): Program {
  const p = new ProgramBuilder();
  p.bss("globals", 160, 16);
  p.bss(TEST_SHELL.dateLine, TEST_SHELL.dateLineLength, 8);
  p.bss("conns", 64 * 64, 8);
  p.bss("input", 64 * 1024, 8);
  p.func("entry", {}, (f) => f.shl("a0", "a0", 6).addr("a1", "conns").add("a0", "a0", "a1").ret());
  p.func("send", {}, (f) => f.add("a1", "s5", G.response).syscall("capture").ret());
  emitHttp(p, TEST_SHELL, features);
  for (const name of [...WRAPPED, ...(features ? ["access_start"] : [])])
    p.func(`t_${name}`, { saves: ["s4", "s5"] }, (f) =>
      f.addr("s4", "http_state").addr("s5", "globals").call(name).ret(),
    );
  p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
  return p.build("main");
}

const programs = new Map<number, Program>();

/** The peer a harness connection has (getpeername), as sockaddr_in or sockaddr_in6 bytes. */
export function sockaddrOf(address: string): Uint8Array {
  const out = new Uint8Array(28);
  const view = new DataView(out.buffer);
  if (isIPv4(address)) {
    view.setUint16(0, 2, true);
    out.set(address.split(".").map(Number), 4);
  } else {
    view.setUint16(0, 10, true);
    out.set(parseAddress(address)!, 8);
  }
  return out;
}

/** The HTTP layer over one pack, in the interpreter. */
export class Harness {
  readonly m: Machine;
  readonly input: number;
  readonly state: number;
  /** Bytes sent, in order. */
  out: number[] = [];
  closed = false;
  /** What send answers: 1 simulates output left pending. */
  pending = 0n;

  /** What getpeername gives (see sockaddrOf). */
  peer = sockaddrOf("127.0.0.1");
  /** Syscalls made, by name. */
  syscalls = new Map<string, number>();

  /** `features`: the access checks to include; the pack must then have an access section. */
  constructor(pack: Uint8Array, dateLine: Uint8Array, features = 0) {
    const program = programs.get(features) ?? harnessProgram(features);
    programs.set(features, program);
    this.m = new Machine(program, {
      heapSize: pack.length + 8192 + (features ? 1 << 21 : 0),
      syscall: (name, args, memory) => {
        this.syscalls.set(name, (this.syscalls.get(name) ?? 0) + 1);
        if (name === "mmap") return BigInt(memory.allocate(Number(args[1])));
        if (name === "getpeername") {
          memory.write(Number(args[1]), this.peer);
          memory.store(Number(args[2]), 4, BigInt(this.peer.length));
          return 0n;
        }
        if (name !== "capture") throw new Error(`unexpected syscall ${name}`);
        const r = Number(args[1]);
        const part = (at: number, len: number) => {
          const n = Number(memory.load(r + len, 8));
          if (n > 0) this.out.push(...memory.read(memory.load(r + at, 8), n));
        };
        part(R.head, R.headLen);
        part(R.dyn, R.dynLen);
        part(R.body, R.bodyLen);
        if (memory.load(r + R.close, 8) !== 0n) {
          this.closed = true;
          memory.store(this.m.address("conns") + Number(args[0]) * 64 + 8, 4, 0n);
        }
        return this.pending;
      },
    });
    const at = this.m.memory.allocate(pack.length, 8);
    this.m.memory.write(at, pack);
    const globals = this.m.address("globals");
    this.m.memory.store(globals + G.pack, 8, BigInt(at));
    if (dateLine.length !== G.dateLineLength) throw new Error("date line length");
    this.m.memory.write(this.m.address(G.dateLine), dateLine);
    this.input = this.m.address("input");
    this.state = this.m.address("http_state");
    this.call("setup", [3]);
    if (features) this.call("access_start", [0]);
  }

  call(name: (typeof WRAPPED)[number] | "access_start", args: (number | bigint)[] = []): bigint {
    return this.m.call(`t_${name}`, args);
  }

  /** Writes bytes at the input buffer and returns its address. */
  place(bytes: Uint8Array, offset = 0): number {
    this.m.memory.write(this.input + offset, bytes);
    return this.input + offset;
  }

  field(offset: number): bigint {
    return this.m.memory.load(this.state + offset, 8);
  }

  /** Sends `bytes` to a fresh connection in reads of `split` bytes, as the shell would. */
  serve(bytes: Uint8Array, split = bytes.length): Uint8Array {
    this.out = [];
    this.closed = false;
    this.m.memory.store(this.m.address("conns") + 3 * 64 + 8, 4, 0n);
    let buffered = new Uint8Array(0);
    for (let at = 0; at < bytes.length && !this.closed; at += split) {
      const chunk = bytes.subarray(at, at + split);
      const joined = new Uint8Array(buffered.length + chunk.length);
      joined.set(buffered);
      joined.set(chunk, buffered.length);
      const ptr = this.place(joined);
      const consumed = Number(this.call("http_input", [3, ptr, joined.length]));
      if (consumed > joined.length) throw new Error(`consumed ${consumed} of ${joined.length}`);
      buffered = joined.slice(consumed);
    }
    return Uint8Array.from(this.out);
  }

  /** The 408 a timed-out connection gets. */
  timeout(): Uint8Array {
    this.out = [];
    this.call("http_timeout", [3]);
    return Uint8Array.from(this.out);
  }

  pathBytes(): Uint8Array {
    return this.m.memory.read(this.state + 512, Number(this.field(S.pathLen)));
  }
}
