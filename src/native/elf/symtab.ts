// Optional debugging sections: section headers for text, rodata, data and bss, plus .symtab and
// .strtab naming every function and data symbol, so gdb and the kernel's crash reports can say
// which IR function an address is in. The kernel never reads them; they are appended after every
// loaded byte and are written only when asked for. Layout: docs/elf.md.

/** One region of the image a symbol can live in. */
export interface SectionRegion {
  name: ".text" | ".rodata" | ".data" | ".bss";
  offset: number;
  address: bigint;
  size: number;
}

export interface DebugSymbol {
  name: string;
  kind: "func" | "object";
  address: bigint;
  size: number;
  /** Which of the regions holds the symbol. */
  section: SectionRegion["name"];
}

export interface DebugSections {
  /** Bytes to append at file offset `start`: the tables, then the section header table. */
  bytes: Uint8Array;
  /** File offset of the section header table. */
  shoff: number;
  shnum: number;
  shstrndx: number;
}

const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_NOBITS = 8;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const STB_GLOBAL = 1;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const SYM_SIZE = 24;
const SHDR_SIZE = 64;

const FLAGS: Record<SectionRegion["name"], number> = {
  ".text": SHF_ALLOC | SHF_EXECINSTR,
  ".rodata": SHF_ALLOC,
  ".data": SHF_ALLOC | SHF_WRITE,
  ".bss": SHF_ALLOC | SHF_WRITE,
};

/** A string table under construction: offset of each added name. */
class Strings {
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private length = 1;

  add(name: string): number {
    const bytes = new TextEncoder().encode(`${name}\0`);
    this.parts.push(bytes);
    this.length += bytes.length;
    return this.length - bytes.length;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

interface SectionHeader {
  name: number;
  type: number;
  flags: number;
  address: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

/** Builds the debugging sections to append at file offset `start` (regions without bytes are left out). */
export function debugSections(
  start: number,
  regions: SectionRegion[],
  symbols: DebugSymbol[],
): DebugSections {
  const used = regions.filter((r) => r.size > 0);
  const names = new Strings();
  const headers: SectionHeader[] = [
    { name: 0, type: 0, flags: 0, address: 0n, offset: 0, size: 0, link: 0, info: 0, align: 0, entsize: 0 },
  ];
  for (const r of used) {
    headers.push({
      name: names.add(r.name),
      type: r.name === ".bss" ? SHT_NOBITS : SHT_PROGBITS,
      flags: FLAGS[r.name],
      address: r.address,
      offset: r.offset,
      size: r.size,
      link: 0,
      info: 0,
      align: 1,
      entsize: 0,
    });
  }

  const strings = new Strings();
  const symtab = new Uint8Array(SYM_SIZE * (symbols.length + 1));
  const view = new DataView(symtab.buffer);
  symbols.forEach((s, i) => {
    const at = SYM_SIZE * (i + 1);
    const section = used.findIndex((r) => r.name === s.section) + 1;
    view.setUint32(at, strings.add(s.name), true);
    symtab[at + 4] = (STB_GLOBAL << 4) | (s.kind === "func" ? STT_FUNC : STT_OBJECT);
    view.setUint16(at + 6, section, true);
    view.setBigUint64(at + 8, s.address, true);
    view.setBigUint64(at + 16, BigInt(s.size), true);
  });
  const strtab = strings.bytes();

  const symtabIndex = headers.length;
  const symtabOffset = alignUp(start, 8);
  headers.push({
    name: names.add(".symtab"),
    type: SHT_SYMTAB,
    flags: 0,
    address: 0n,
    offset: symtabOffset,
    size: symtab.length,
    link: symtabIndex + 1,
    info: 1, // index of the first global symbol: every symbol after the null one is global
    align: 8,
    entsize: SYM_SIZE,
  });
  const strtabOffset = symtabOffset + symtab.length;
  headers.push({
    name: names.add(".strtab"),
    type: SHT_STRTAB,
    flags: 0,
    address: 0n,
    offset: strtabOffset,
    size: strtab.length,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  });
  const shstrndx = headers.length;
  const shstrtabHeader: SectionHeader = {
    name: names.add(".shstrtab"),
    type: SHT_STRTAB,
    flags: 0,
    address: 0n,
    offset: strtabOffset + strtab.length,
    size: 0,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  };
  headers.push(shstrtabHeader);
  const shstrtab = names.bytes();
  shstrtabHeader.size = shstrtab.length;

  const shoff = alignUp(shstrtabHeader.offset + shstrtab.length, 8);
  const out = new Uint8Array(shoff + SHDR_SIZE * headers.length - start);
  out.set(symtab, symtabOffset - start);
  out.set(strtab, strtabOffset - start);
  out.set(shstrtab, shstrtabHeader.offset - start);
  const table = new DataView(out.buffer, shoff - start);
  headers.forEach((h, i) => {
    const at = i * SHDR_SIZE;
    table.setUint32(at, h.name, true);
    table.setUint32(at + 4, h.type, true);
    table.setBigUint64(at + 8, BigInt(h.flags), true);
    table.setBigUint64(at + 16, h.address, true);
    table.setBigUint64(at + 24, BigInt(h.offset), true);
    table.setBigUint64(at + 32, BigInt(h.size), true);
    table.setUint32(at + 40, h.link, true);
    table.setUint32(at + 44, h.info, true);
    table.setBigUint64(at + 48, BigInt(h.align), true);
    table.setBigUint64(at + 56, BigInt(h.entsize), true);
  });
  return { bytes: out, shoff, shnum: headers.length, shstrndx };
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
