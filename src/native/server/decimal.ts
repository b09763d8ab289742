// Numbers as text in the IR, for every part that writes one: the Date line (zero-padded fields),
// the access log (status, bytes, time, IPv4 octets, IPv6 groups and \xHH escapes in hex) and the
// HTTP layer (Content-Range and Content-Length of a 206 or 416).

import type { ProgramBuilder } from "../ir/builder.ts";

/**
 * Emits `digits(value, out, width, base)` → out after the digits: value in base 2..16 at out
 * (lower-case letters), zero-padded to at least `width` digits (0 or 1: no padding); and
 * `decimal(value, out, width)`, the same in base 10. The higher digits are written by a recursive
 * call first, so no digit is counted or buffered: a 64-bit value recurses at most 64 deep.
 */
export function emitDecimal(p: ProgramBuilder): void {
  if (p.has("decimal")) return;
  p.func("digits", { saves: ["s0"] }, (f) => {
    f.urem("s0", "a0", "a3").udiv("a0", "a0", "a3").sub("a2", "a2", 1);
    f.br("ne", "a0", 0, "higher").br("le", "a2", 0, "last");
    f.label("higher").call("digits").mov("a1", "a0");
    f.label("last").add("s0", "s0", 48).br("ltu", "s0", 58, "put").add("s0", "s0", 39);
    f.label("put").store(1, "s0", "a1").add("a0", "a1", 1).ret();
  });
  p.func("decimal", {}, (f) => f.mov("a3", 10).call("digits").ret());
}
