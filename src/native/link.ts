// The pipeline from IR to an executable: verify, assemble with the target, lay out the segments
// (text and rodata in one R+X segment with the headers; data and bss in one R+W segment whose
// file offset and address agree modulo 64 KiB), apply relocations and write the ELF.

import { type DebugSymbol, debugSections, type SectionRegion } from "./elf/symtab.ts";
import { headerBytes, PF_R, PF_W, PF_X, PT_GNU_STACK, PT_LOAD, type Segment, writeElf } from "./elf/write.ts";
import { optimize } from "./ir/optimize.ts";
import type { Data, Program } from "./ir/types.ts";
import { verify } from "./ir/verify.ts";
import type { Target } from "./target/types.ts";

/** Where the R+X segment is mapped; arm64 kernels with 64 KiB pages need 64 KiB congruence. */
export const BASE_ADDRESS = 0x400000n;
export const SEGMENT_ALIGN = 0x10000;

export interface LinkOptions {
  /** Also return a map file: address, size and name of every function and data symbol. */
  map?: boolean;
  /** Append section headers and a symbol table so gdb names functions (costs bytes; off by default). */
  symbols?: boolean;
  /** Drop what cannot run or be reached before assembling (see `optimize`); off by default. */
  optimize?: boolean;
  /** Where the R+X segment is mapped (a multiple of SEGMENT_ALIGN); BASE_ADDRESS by default. */
  base?: bigint;
}

export interface LinkedSizes {
  total: number;
  headers: number;
  text: number;
  rodata: number;
  data: number;
  bss: number;
  /** Bytes of code per function, in address order. */
  functions: { name: string; address: bigint; size: number }[];
}

export interface Linked {
  elf: Uint8Array;
  sizes: LinkedSizes;
  /** The map file, when asked for: one line per function and data symbol. */
  map?: string;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Verifies, assembles and links `program` for `target`; throws a VerifyError on malformed IR. */
export function link(input: Program, target: Target, options: LinkOptions = {}): Linked {
  verify(input, target);
  const base = options.base ?? BASE_ADDRESS;
  const program = options.optimize ? optimize(input) : input;
  const text = target.assemble(program);
  const rodata = program.data.filter((d) => d.kind === "rodata");
  const data = program.data.filter((d) => d.kind === "data");
  const bss = program.data.filter((d) => d.kind === "bss");
  const writable = data.length + bss.length > 0;
  const { size: headers, minimumBody } = headerBytes(writable ? 3 : 2);

  // Items are placed at file offsets; a segment's address is its base plus the same distance.
  const addresses = new Map<string, bigint>();
  const place = (items: Data[], start: number, origin: bigint): number => {
    let at = start;
    for (const d of items) {
      at = alignUp(at, d.align);
      addresses.set(d.name, origin + BigInt(at - start));
      at += d.size;
    }
    return at;
  };
  const textStart = headers;
  const rodataStart = textStart + text.code.length;
  // A program too small to hold the tail of the PT_GNU_STACK header is padded up to it.
  const rodataEnd = Math.max(place(rodata, rodataStart, base + BigInt(rodataStart)), headers + minimumBody);
  // The R+W segment starts in the next 64 KiB page of memory but right after rodata in the file:
  // only its address moves, so the file has no padding beyond the alignment of its first item.
  const dataOffset = rodataEnd;
  const dataAddress =
    BigInt(alignUp(Number(base) + rodataEnd, SEGMENT_ALIGN)) + BigInt(dataOffset % SEGMENT_ALIGN);
  const dataEnd = place(data, dataOffset, dataAddress);
  const bssEnd = place(bss, dataEnd, dataAddress + BigInt(dataEnd - dataOffset));

  const code = text.code.slice();
  for (const r of text.relocations) {
    const symbol = addresses.get(r.symbol);
    if (symbol === undefined) throw new Error(`link: relocation against unknown symbol "${r.symbol}"`);
    target.relocate(code, r, base + BigInt(textStart + r.offset), symbol + BigInt(r.addend));
  }

  const body = new Uint8Array(dataEnd - headers);
  body.set(code, 0);
  for (const d of [...rodata, ...data]) {
    const address = addresses.get(d.name)!;
    const offset = d.kind === "rodata" ? Number(address - base) : dataOffset + Number(address - dataAddress);
    body.set(d.bytes ?? new Uint8Array(d.size), offset - headers);
  }

  const segments: Segment[] = [
    {
      type: PT_LOAD,
      flags: PF_R | PF_X,
      offset: 0,
      vaddr: base,
      filesz: rodataEnd,
      memsz: rodataEnd,
      align: SEGMENT_ALIGN,
    },
  ];
  if (writable) {
    segments.push({
      type: PT_LOAD,
      flags: PF_R | PF_W,
      offset: dataOffset,
      vaddr: dataAddress,
      filesz: dataEnd - dataOffset,
      memsz: bssEnd - dataOffset,
      align: SEGMENT_ALIGN,
    });
  }
  segments.push({
    type: PT_GNU_STACK,
    flags: PF_R | PF_W,
    offset: 0,
    vaddr: 0n,
    filesz: 0,
    memsz: 0,
    align: 16,
  });

  const functionStarts = program.funcs
    .map((f) => ({ name: f.name, offset: text.symbols.get(f.name)! }))
    .sort((a, b) => a.offset - b.offset);
  const functions = functionStarts.map((f, i) => ({
    name: f.name,
    address: base + BigInt(textStart + f.offset),
    size: (functionStarts[i + 1]?.offset ?? text.code.length) - f.offset,
  }));

  let debug: ReturnType<typeof debugSections> | undefined;
  if (options.symbols) {
    const regions: SectionRegion[] = [
      { name: ".text", offset: textStart, address: base + BigInt(textStart), size: text.code.length },
      {
        name: ".rodata",
        offset: rodataStart,
        address: base + BigInt(rodataStart),
        size: rodataEnd - rodataStart,
      },
      { name: ".data", offset: dataOffset, address: dataAddress, size: dataEnd - dataOffset },
      {
        name: ".bss",
        offset: dataEnd,
        address: dataAddress + BigInt(dataEnd - dataOffset),
        size: bssEnd - dataEnd,
      },
    ];
    const sectionOf = { rodata: ".rodata", data: ".data", bss: ".bss" } as const;
    const symbols: DebugSymbol[] = [
      ...functions.map((f) => ({ ...f, kind: "func" as const, section: ".text" as const })),
      ...program.data.map((d) => ({
        name: d.name,
        kind: "object" as const,
        address: addresses.get(d.name)!,
        size: d.size,
        section: sectionOf[d.kind],
      })),
    ];
    debug = debugSections(dataEnd, regions, symbols);
  }

  const elf = writeElf({
    machine: target.elfMachine,
    entry: base + BigInt(textStart + text.symbols.get(program.entry)!),
    segments,
    body,
    debug,
  });
  const sizes: LinkedSizes = {
    total: elf.length,
    headers,
    text: text.code.length,
    rodata: rodataEnd - rodataStart,
    data: dataEnd - dataOffset,
    bss: bssEnd - dataEnd,
    functions,
  };
  if (!options.map) return { elf, sizes };
  const hex = (v: bigint) => `0x${v.toString(16).padStart(8, "0")}`;
  const lines = [
    ...functions.map((f) => `${hex(f.address)} ${String(f.size).padStart(6)} T ${f.name}`),
    ...program.data
      .map((d) => ({ d, address: addresses.get(d.name)! }))
      .sort((a, b) => (a.address < b.address ? -1 : 1))
      .map(({ d, address }) => `${hex(address)} ${String(d.size).padStart(6)} D ${d.name}`),
  ];
  return { elf, sizes, map: `${lines.join("\n")}\n` };
}
