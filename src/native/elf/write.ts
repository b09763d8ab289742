// Writes a static ELF64 executable: the file header and program headers (section headers only
// when debugging sections are asked for), segments described by the linker. Layout and links to
// the spec: docs/elf.md.

import type { DebugSections } from "./symtab.ts";

export const PT_LOAD = 1;
export const PT_GNU_STACK = 0x6474e551;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const EHDR_SIZE = 64;
export const PHDR_SIZE = 56;
/**
 * Bytes of a PT_GNU_STACK header that count: p_type and p_flags. Linux and qemu-user read nothing
 * else of it, so when it is the last program header the body starts right after its flags and the
 * header's other 48 bytes are the body's first bytes (which must exist: see `headerBytes`).
 */
const STACK_HEADER_READ = 8;

/**
 * Where the body starts for `segments` program headers, the last one PT_GNU_STACK, and how many
 * bytes the body must have at least so the whole program header table lies inside the file.
 */
export function headerBytes(segments: number): { size: number; minimumBody: number } {
  return {
    size: EHDR_SIZE + PHDR_SIZE * (segments - 1) + STACK_HEADER_READ,
    minimumBody: PHDR_SIZE - STACK_HEADER_READ,
  };
}

export interface Segment {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfImage {
  machine: number;
  entry: bigint;
  segments: Segment[];
  /** File contents after the headers, from `headerBytes(segments.length).size` on. */
  body: Uint8Array;
  /** Appended after the body when present: symbol tables and the section header table. */
  debug?: DebugSections;
}

/** Serialises the headers and appends the body; the last segment must be PT_GNU_STACK (see headerBytes). */
export function writeElf(image: ElfImage): Uint8Array {
  const { size: headerSize, minimumBody } = headerBytes(image.segments.length);
  if (image.segments.at(-1)?.type !== PT_GNU_STACK || image.body.length < minimumBody)
    throw new Error("elf: the last program header must be PT_GNU_STACK, followed by at least 48 bytes");
  const end = headerSize + image.body.length;
  const out = new Uint8Array(end + (image.debug?.bytes.length ?? 0));
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // magic, ELFCLASS64, little-endian, version 1, SysV ABI
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, image.machine, true);
  view.setUint32(20, 1, true);
  view.setBigUint64(24, image.entry, true);
  view.setBigUint64(32, BigInt(EHDR_SIZE), true); // e_phoff
  view.setBigUint64(40, BigInt(image.debug?.shoff ?? 0), true);
  view.setUint32(48, 0, true);
  view.setUint16(52, EHDR_SIZE, true);
  view.setUint16(54, PHDR_SIZE, true);
  view.setUint16(56, image.segments.length, true);
  view.setUint16(58, 64, true); // e_shentsize: the size a section header would have
  view.setUint16(60, image.debug?.shnum ?? 0, true);
  view.setUint16(62, image.debug?.shstrndx ?? 0, true);
  image.segments.forEach((s, i) => {
    const at = EHDR_SIZE + i * PHDR_SIZE;
    view.setUint32(at, s.type, true);
    view.setUint32(at + 4, s.flags, true);
    if (s.type === PT_GNU_STACK) return;
    view.setBigUint64(at + 8, BigInt(s.offset), true);
    view.setBigUint64(at + 16, s.vaddr, true);
    view.setBigUint64(at + 24, s.vaddr, true); // p_paddr
    view.setBigUint64(at + 32, BigInt(s.filesz), true);
    view.setBigUint64(at + 40, BigInt(s.memsz), true);
    view.setBigUint64(at + 48, BigInt(s.align), true);
  });
  out.set(image.body, headerSize);
  if (image.debug) out.set(image.debug.bytes, end);
  return out;
}
