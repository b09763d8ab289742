// Reads back what writeElf wrote: the entry point and the PT_LOAD segments of a static ELF64.

import { EHDR_SIZE, PHDR_SIZE, PT_LOAD, type Segment } from "./write.ts";

export interface LoadedElf {
  entry: bigint;
  /** Program headers in file order (their count says where writeElf's body starts). */
  headers: number;
  loads: Segment[];
}

export function readElf(elf: Uint8Array): LoadedElf {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const headers = view.getUint16(56, true);
  const loads: Segment[] = [];
  for (let i = 0; i < headers; i++) {
    const at = EHDR_SIZE + i * PHDR_SIZE;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    loads.push({
      type: PT_LOAD,
      flags: view.getUint32(at + 4, true),
      offset: Number(view.getBigUint64(at + 8, true)),
      vaddr: view.getBigUint64(at + 16, true),
      filesz: Number(view.getBigUint64(at + 32, true)),
      memsz: Number(view.getBigUint64(at + 40, true)),
      align: Number(view.getBigUint64(at + 48, true)),
    });
  }
  return { entry: view.getBigUint64(24, true), headers, loads };
}
