// CIDR matching in the IR over the access section's 24-byte entries (docs/access.md): 16 address
// bytes (IPv4 as ::ffff:a.b.c.d), the prefix length at 16, allow (1) or deny (0) at 17. Client
// addresses are 16 bytes in the same form, so IPv4-mapped IPv6 peers match IPv4 entries.

import { CIDR_BYTES } from "../../../access/section.ts";
import type { ProgramBuilder } from "../../ir/builder.ts";

/**
 * Emits `cidr_match(entry, address)`, `ip_allowed(entries, count, address)` and
 * `cidr_any(entries, count, address)`, each 1 or 0.
 */
export function emitCidr(p: ProgramBuilder): void {
  if (p.has("cidr_match")) return;
  p.func("cidr_match", {}, (f) => {
    const whole = f.newLabel("whole");
    const partial = f.newLabel("partial");
    const no = f.newLabel("no");
    f.load(1, "a2", { base: "a0", offset: 16 });
    f.label(whole).br("ltu", "a2", 8, partial);
    f.load(1, "a3", "a0").load(1, "a4", "a1").br("ne", "a3", "a4", no);
    f.add("a0", "a0", 1).add("a1", "a1", 1).sub("a2", "a2", 8).jmp(whole);
    // the last, partial byte: compare its top a2 bits
    f.label(partial)
      .br("eq", "a2", 0, `${partial}yes`)
      .load(1, "a3", "a0")
      .load(1, "a4", "a1")
      .xor("a3", "a3", "a4");
    f.mov("a4", 0xff00)
      .shr("a4", "a4", "a2")
      .and("a3", "a3", "a4")
      .and("a3", "a3", 0xff)
      .br("ne", "a3", 0, no);
    f.label(`${partial}yes`).mov("a0", 1).ret();
    f.label(no).mov("a0", 0).ret();
  });
  // the first entry holding the address decides; none: allowed
  p.func("ip_allowed", { saves: ["s0", "s1", "s2"] }, (f) => {
    const loop = f.newLabel("loop");
    const none = f.newLabel("none");
    f.mov("s0", "a0").mov("s1", "a1").mov("s2", "a2");
    f.label(loop).br("eq", "s1", 0, none);
    f.mov("a0", "s0").mov("a1", "s2").call("cidr_match").br("ne", "a0", 0, `${loop}hit`);
    f.add("s0", "s0", CIDR_BYTES).sub("s1", "s1", 1).jmp(loop);
    f.label(`${loop}hit`).load(1, "a0", { base: "s0", offset: 17 }).ret();
    f.label(none).mov("a0", 1).ret();
  });
  // whether any entry holds the address (trusted proxies)
  p.func("cidr_any", { saves: ["s0", "s1", "s2"] }, (f) => {
    const loop = f.newLabel("loop");
    f.mov("s0", "a0").mov("s1", "a1").mov("s2", "a2");
    f.label(loop).br("eq", "s1", 0, `${loop}no`);
    f.mov("a0", "s0").mov("a1", "s2").call("cidr_match").br("ne", "a0", 0, `${loop}yes`);
    f.add("s0", "s0", CIDR_BYTES).sub("s1", "s1", 1).jmp(loop);
    f.label(`${loop}yes`).ret();
    f.label(`${loop}no`).mov("a0", 0).ret();
  });
}
