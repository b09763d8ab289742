// A ready-made syscall layer for the interpreter: read from in-memory input streams, collect what
// is written per file descriptor, and end the run on exit or exit_group.

import { Exit, type Memory, type SyscallHandler } from "./interpret.ts";

const EBADF = 9n;

export interface Streams {
  /** Bytes each fd yields to `read`, consumed front to back. */
  input: Map<number, Uint8Array>;
  handler: SyscallHandler;
  /** Everything written to `fd` so far. */
  bytes(fd: number): Uint8Array;
  /** Everything written to `fd` so far, decoded as UTF-8. */
  text(fd: number): string;
}

/**
 * Creates the stream layer. `more` handles any other syscall (returning undefined leaves the
 * call unknown, which throws, so a test never passes by ignoring a syscall it did not expect).
 */
export function streamSyscalls(
  input: Record<number, Uint8Array | string> = {},
  more?: (name: string, args: readonly bigint[], memory: Memory) => bigint | undefined,
): Streams {
  const encoder = new TextEncoder();
  const inputs = new Map<number, Uint8Array>(
    Object.entries(input).map(([fd, data]) => [
      Number(fd),
      typeof data === "string" ? encoder.encode(data) : data,
    ]),
  );
  const output = new Map<number, Uint8Array[]>();
  const write = (fd: number, bytes: Uint8Array): void => {
    const chunks = output.get(fd) ?? [];
    chunks.push(bytes);
    output.set(fd, chunks);
  };
  const bytes = (fd: number): Uint8Array => {
    const chunks = output.get(fd) ?? [];
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  };
  const handler: SyscallHandler = (name, args, memory) => {
    switch (name) {
      case "exit":
      case "exit_group":
        // The parent sees only the low 8 bits of the status, as wait(2) reports it.
        throw new Exit(Number(args[0]! & 0xffn));
      case "write": {
        const fd = Number(args[0]);
        write(fd, memory.read(args[1]!, Number(args[2])));
        return args[2]!;
      }
      case "writev": {
        const fd = Number(args[0]);
        let total = 0n;
        for (let i = 0; i < Number(args[2]); i++) {
          const base = memory.load(args[1]! + BigInt(i * 16), 8);
          const length = memory.load(args[1]! + BigInt(i * 16 + 8), 8);
          write(fd, memory.read(base, Number(length)));
          total += length;
        }
        return total;
      }
      case "read": {
        const fd = Number(args[0]);
        const pending = inputs.get(fd);
        if (!pending) return -EBADF;
        const n = Math.min(pending.length, Number(args[2]));
        memory.write(args[1]!, pending.subarray(0, n));
        inputs.set(fd, pending.subarray(n));
        return BigInt(n);
      }
    }
    const result = more?.(name, args, memory);
    if (result === undefined)
      throw new Error(`interpret: syscall ${name} is not handled by this test's syscall layer`);
    return result;
  };
  return { input: inputs, handler, bytes, text: (fd) => new TextDecoder().decode(bytes(fd)) };
}
