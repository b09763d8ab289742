// Squeezed executables: an ELF of ours recoded as a small decoder plus its segments' bytes, range-
// coded with the context model of model.ts. At start the decoder maps the original segments'
// memory, writes their bytes back, makes the code executable again and jumps to the original
// entry with the kernel's stack, so the program runs exactly as linked. See docs/native.md.

import { readElf } from "../elf/read.ts";
import { headerBytes, PF_X } from "../elf/write.ts";
import { ProgramBuilder } from "../ir/builder.ts";
import type { Program } from "../ir/types.ts";
import { link, SEGMENT_ALIGN } from "../link.ts";
import { MAP_FIXED, MAP_PRIVATE_ANONYMOUS, PROT_READ_EXEC, PROT_READ_WRITE } from "../target/mman.ts";
import type { Target } from "../target/types.ts";
import { emitUnsqueeze } from "./decoder.ts";
import { compress } from "./encode.ts";
import { MODELS, SCRATCH } from "./model.ts";

/** Where the decoder is mapped: below the programs it restores, which start at BASE_ADDRESS. */
export const DECODER_ADDRESS = 0x200000n;

const OUT_OF_MEMORY = "speck: out of memory\n";
/** mprotect refused: systemd's MemoryDenyWriteExecute, prctl(PR_SET_MDWE), SELinux without execmem. */
const NOT_EXECUTABLE = "speck: a W^X policy refused unpacking: use --no-squeeze\n";

export interface Squeezed {
  elf: Uint8Array;
  sizes: { total: number; headers: number; decoder: number; stream: number };
}

/** `elf` (as `link` writes it) as a squeezed executable for `target`. */
export function squeeze(elf: Uint8Array, target: Target): Squeezed {
  const { entry, headers, loads } = readElf(elf);
  const skip = headerBytes(headers).size;
  const chunks = loads
    .map((s) => {
      const from = s.offset === 0 ? skip : 0;
      return { address: s.vaddr + BigInt(from), bytes: elf.subarray(s.offset + from, s.offset + s.filesz) };
    })
    .filter((c) => c.bytes.length > 0);
  const model = MODELS[target.name];
  const stream = compress(
    chunks.map((c) => c.bytes),
    model,
  );
  const table = new DataView(new ArrayBuffer(chunks.length * 8 + 4));
  chunks.forEach((c, i) => {
    table.setUint32(i * 8, Number(c.address), true);
    table.setUint32(i * 8 + 4, c.bytes.length, true);
  });
  const start = loads[0]!.vaddr;
  const end = loads.reduce(
    (most, s) => (s.vaddr + BigInt(s.memsz) > most ? s.vaddr + BigInt(s.memsz) : most),
    0n,
  );
  const program = decoderProgram(target, {
    span: { start, length: Number(end - start) },
    executable: loads.filter((s) => s.flags & PF_X).map((s) => ({ start: s.vaddr, length: s.memsz })),
    entry,
    chunks: new Uint8Array(table.buffer),
    stream,
  });
  const { elf: squeezed, sizes } = link(program, target, { base: DECODER_ADDRESS, optimize: true });
  return {
    elf: squeezed,
    sizes: {
      total: squeezed.length,
      headers: sizes.headers,
      decoder: squeezed.length - sizes.headers - stream.length,
      stream: stream.length,
    },
  };
}

interface Region {
  start: bigint;
  length: number;
}

function decoderProgram(
  target: Target,
  image: { span: Region; executable: Region[]; entry: bigint; chunks: Uint8Array; stream: Uint8Array },
): Program {
  if (image.span.start % BigInt(SEGMENT_ALIGN) !== 0n || image.span.start <= DECODER_ADDRESS)
    throw new Error(`squeeze: the program must start above the decoder, at a multiple of ${SEGMENT_ALIGN}`);
  const p = new ProgramBuilder();
  p.rodata("squeeze_chunks", image.chunks, 4);
  p.rodata("squeeze_stream", image.stream);
  p.rodata("squeeze_out_of_memory", OUT_OF_MEMORY);
  p.rodata("squeeze_not_executable", NOT_EXECUTABLE);
  emitUnsqueeze(p, MODELS[target.name]);
  // The scratch memory follows the program's, in the same mapping, and is unmapped once used.
  const scratch = image.span.start + BigInt(Math.ceil(image.span.length / SEGMENT_ALIGN) * SEGMENT_ALIGN);
  p.func("_start", {}, (f) => {
    f.mov("a0", image.span.start).mov("a1", Number(scratch - image.span.start) + SCRATCH.size);
    f.mov("a2", PROT_READ_WRITE)
      .mov("a3", MAP_PRIVATE_ANONYMOUS | MAP_FIXED)
      .mov("a4", -1)
      .mov("a5", 0);
    f.syscall("mmap").br("ne", "a0", image.span.start, "failed");
    f.mov("a0", scratch).addr("a1", "squeeze_chunks").addr("a2", "squeeze_stream").call("unsqueeze");
    f.mov("a0", scratch).mov("a1", SCRATCH.size).syscall("munmap");
    for (const region of image.executable) {
      f.mov("a0", region.start).mov("a1", region.length).mov("a2", PROT_READ_EXEC).syscall("mprotect");
      f.br("ne", "a0", 0, "refused");
    }
    f.mov("a0", image.entry).handoff("a0");
    f.label("failed").addr("a1", "squeeze_out_of_memory").mov("a2", OUT_OF_MEMORY.length).jmp("say");
    f.label("refused").addr("a1", "squeeze_not_executable").mov("a2", NOT_EXECUTABLE.length);
    f.label("say").mov("a0", 2).syscall("write").mov("a0", 1).syscall("exit_group");
  });
  return p.build("_start");
}
