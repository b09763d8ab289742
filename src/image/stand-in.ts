// A stand-in for the native server in image tests: the smallest static ELF for each platform
// that writes a message and exits, either with status 0 or with its uid modulo 256 (so a test
// can see which user a container runs as). It is not the server; it lets the image format be
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

/** x86-64: write(1, msg, len); exit(0) or exit(getuid()). */
function x64Code(length: number, exitWithUid: boolean): Uint8Array {
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
  const exit = exitWithUid
    ? [0xb8, 102, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xb8, 60, 0, 0, 0, 0x0f, 0x05]
    : [0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05];
  const code = Buffer.from([...write, ...exit]);
  code.writeInt32LE(code.byteLength - 17, 13); // lea rsi, [rip + msg]: msg follows the code
  return code;
}

/** arm64: write(1, msg, len); exit(0) or exit(getuid()). */
function a64Code(length: number, exitWithUid: boolean): Uint8Array {
  const exit = exitWithUid
    ? [0xd28015c8, 0xd4000001, 0xd2800ba8, 0xd4000001]
    : [0xd2800000, 0xd2800ba8, 0xd4000001];
  const instructions = [0xd2800020, 0, 0xd2800002 | (length << 5), 0xd2800808, 0xd4000001, ...exit];
  const offset = (instructions.length - 1) * 4; // adr x1, msg: msg follows the code
  instructions[1] = 0x10000001 | ((offset & 3) << 29) | ((offset >> 2) << 5);
  return word32(instructions);
}

/** A static ELF64 executable for `platform` that prints `message` and exits. */
export function standInServer(platform: Platform, message = "ok\n", exitWithUid = false): Uint8Array {
  const text = Buffer.from(message);
  if (text.byteLength > 255) throw new RangeError("stand-in message longer than 255 bytes");
  const arm = platform.architecture === "arm64";
  const code = arm ? a64Code(text.byteLength, exitWithUid) : x64Code(text.byteLength, exitWithUid);
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
