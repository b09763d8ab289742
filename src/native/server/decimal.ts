// Decimal numbers in the IR, for every part that writes one: the Date line (zero-padded fields),
// the access log (status, bytes, time, IPv4 octets) and the HTTP layer (Content-Range and
// Content-Length of a 206 or 416).

import type { ProgramBuilder } from "../ir/builder.ts";

/**
 * Emits `decimal(value, out, width)` → out after the digits: value in decimal at out, zero-padded
 * to at least `width` digits (0 or 1: no padding).
 */
export function emitDecimal(p: ProgramBuilder): void {
  if (p.has("decimal")) return;
  p.func("decimal", {}, (f) => {
    // a4: where the digits end, out + max(width, digits); a2 is dead before any division
    f.add("a4", "a1", "a2").mov("a3", "a0").add("a5", "a1", 1);
    f.label("count").br("ltu", "a3", 10, "counted").udiv("a3", "a3", 10).add("a5", "a5", 1).jmp("count");
    f.label("counted").br("geu", "a4", "a5", "end").mov("a4", "a5");
    f.label("end").mov("a3", "a4");
    f.label("digit").urem("a5", "a0", 10).udiv("a0", "a0", 10).add("a5", "a5", 48).sub("a3", "a3", 1);
    f.store(1, "a5", "a3").br("ne", "a3", "a1", "digit");
    f.mov("a0", "a4").ret();
  });
}
