// The access checks' state in the native server: one block per process (`access_state`), and
// `access_load()`, which finds the pack's access section.

import { HEADER_BYTES } from "../../../access/section.ts";
import { H } from "../../../pack/layout.ts";
import type { ProgramBuilder } from "../../ir/builder.ts";

/** The longest joined X-Forwarded-For text: all of a request head's values (8 KiB at most). */
const XFF_BYTES = 8192;

/** Fields of the access state block (`access_state`, one per process). */
export const A = {
  /** The mapped access section, its first rule record and the number of rules. */
  section: 0,
  rules: 8,
  ruleCount: 16,
  /** Auth builds: the per-rule slots (users and cache, see auth.ts), indexed like the rules. */
  slots: 24,
  /** The request's Authorization fields: how many, and the last one's value and length. */
  authCount: 32,
  authValue: 40,
  authLength: 48,
  /** Bytes of the X-Forwarded-For values joined with "," in xff. */
  xffLength: 56,
  /** The client's address, 16 bytes (IPv4 as ::ffff:a.b.c.d). */
  client: 64,
  xff: 80,
  size: 80 + XFF_BYTES,
} as const;

/**
 * Emits the access state block and `access_load()`: the section's address and rule count, from the
 * mapped pack whose address is at `pack` in the globals (s5).
 */
export function emitAccessState(p: ProgramBuilder, pack: number): void {
  if (p.has("access_load")) return;
  p.bss("access_state", A.size, 8);
  // access_load() → a0: the access state (the section's address from the mapped pack in the globals)
  p.func("access_load", {}, (f) => {
    f.load(8, "a1", { base: "s5", offset: pack }).load(8, "a2", { base: "a1", offset: H.access });
    f.add("a1", "a1", "a2").addr("a0", "access_state").store(8, "a1", { base: "a0", offset: A.section });
    f.load(4, "a2", { base: "a1", offset: 8 }).store(8, "a2", { base: "a0", offset: A.ruleCount });
    f.add("a1", "a1", HEADER_BYTES).store(8, "a1", { base: "a0", offset: A.rules }).ret();
  });
}
