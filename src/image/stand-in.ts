// A stand-in for the native server in image tests: the smallest static ELF for each platform
// that writes a message, then exits with status 0, exits with its uid modulo 256 (so a test can
// see which user a container runs as), or waits like a server that answers `--health`. It is not the server; it lets the image format be
// exercised by real engines before, and independently of, the server.

import type { Platform } from "./platform.ts";

const BASE = 0x400000;
const HEADERS = 64 + 56;

function word32(values: number[]): Uint8Array {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => {
    out.writeUInt32LE(value >>> 0, i * 4);
  });
  return out;
}

/**
 * What the stand-in does after printing: exit 0; exit with its uid modulo 256; or wait forever
 * like a server, except when its first argument's third byte is 'h' (`--health`), then exit 0.
 */
export type StandInBehaviour = "exit" | "exit-uid" | "wait";

/** x86-64: write(1, msg, len), then the behaviour. */
function x64Code(length: number, behaviour: StandInBehaviour): Uint8Array {
  const write = [
    0xb8,
    1,
    0,
    0,
    0,
    0xbf,
    1,
    0,
    0,
    0,
    0x48,
    0x8d,
    0x35,
    0,
    0,
    0,
    0,
    0xba,
    length,
    0,
    0,
    0,
    0x0f,
    0x05,
  ];
  const exit0 = [0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05];
  const rest = {
    exit: exit0,
    "exit-uid": [0xb8, 102, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xb8, 60, 0, 0, 0, 0x0f, 0x05],
    wait: [
      ...[0x48, 0x8b, 0x04, 0x24, 0x48, 0x83, 0xf8, 0x02, 0x72, 0x0b], // argc < 2: wait
      ...[0x48, 0x8b, 0x44, 0x24, 0x10, 0x80, 0x78, 0x02, 0x68, 0x74, 0x09], // argv[1][2] == 'h': exit
      ...[0xb8, 34, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7], // pause(), forever
      ...exit0,
    ],
  }[behaviour];
  const code = Buffer.from([...write, ...rest]);
  code.writeInt32LE(code.byteLength - 17, 13); // lea rsi, [rip + msg]: msg follows the code
  return code;
}

/** arm64: write(1, msg, len), then the behaviour. */
function a64Code(length: number, behaviour: StandInBehaviour): Uint8Array {
  const exit0 = [0xd2800000, 0xd2800ba8, 0xd4000001];
  const rest = {
    exit: exit0,
    "exit-uid": [0xd28015c8, 0xd4000001, 0xd2800ba8, 0xd4000001],
    wait: [
      ...[0xf94003e9, 0xf100093f, 0x540000a3], // ldr x9, [sp]; cmp x9, #2; b.lo wait
      ...[0xf9400be9, 0x3940092a, 0x7101a15f, 0x54000100], // argv[1][2] == 'h': b.eq exit
      ...[0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd2800928, 0xd4000001, 0x17fffffa], // ppoll(0, 0, 0, 0)
      ...exit0,
    ],
  }[behaviour];
  const instructions = [0xd2800020, 0, 0xd2800002 | (length << 5), 0xd2800808, 0xd4000001, ...rest];
  const offset = (instructions.length - 1) * 4; // adr x1, msg: msg follows the code
  instructions[1] = 0x10000001 | ((offset & 3) << 29) | ((offset >> 2) << 5);
  return word32(instructions);
}

/** A static ELF64 executable for `platform` that prints `message` and exits. */
export function standInServer(
  platform: Platform,
  message = "ok\n",
  behaviour: StandInBehaviour = "exit",
): Uint8Array {
  const text = Buffer.from(message);
  if (text.byteLength > 255) throw new RangeError("stand-in message longer than 255 bytes");
  const arm = platform.architecture === "arm64";
  const code = arm ? a64Code(text.byteLength, behaviour) : x64Code(text.byteLength, behaviour);
  const size = HEADERS + code.byteLength + text.byteLength;
  const elf = Buffer.alloc(size);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(arm ? 183 : 62, 18); // EM_AARCH64 or EM_X86_64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(BASE + HEADERS), 24); // entry
  elf.writeBigUInt64LE(64n, 32); // program headers
  elf.writeUInt16LE(64, 52);
  elf.writeUInt16LE(56, 54);
  elf.writeUInt16LE(1, 56);
  elf.writeUInt32LE(1, 64); // PT_LOAD
  elf.writeUInt32LE(5, 68); // R+X
  elf.writeBigUInt64LE(BigInt(BASE), 80);
  elf.writeBigUInt64LE(BigInt(BASE), 88);
  elf.writeBigUInt64LE(BigInt(size), 96);
  elf.writeBigUInt64LE(BigInt(size), 104);
  elf.writeBigUInt64LE(0x10000n, 112);
  elf.set(code, HEADERS);
  elf.set(text, HEADERS + code.byteLength);
  return elf;
}
