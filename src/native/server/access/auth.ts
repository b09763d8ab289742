// Basic auth in the native server's request path (docs/access.md, "Basic auth"): each auth rule has
// a slot holding where its users are (the section's records, or those read at start-up from the
// environment or a file) and the last Authorization value it accepted, so a browser that sends the
// same value with every request pays for one PBKDF2 computation, not one per request.

import { CHALLENGE_END, CHALLENGE_START, KIND, RULE_BYTES } from "../../../access/section.ts";
import type { ProgramBuilder } from "../../ir/builder.ts";
import { MAP_LAZY_ANONYMOUS, PROT_READ_WRITE } from "../../target/mman.ts";
import { emitBasicCheck, MAX_CREDENTIALS } from "./basic.ts";
import { emitConstantTimeEqual } from "./compare.ts";
import { A } from "./state.ts";

/** A rule's slot: its users (the base their name offsets count from, records, count) and its cache. */
export const SLOT = {
  base: 0,
  users: 8,
  count: 16,
  cachedLength: 24,
  cached: 32,
  size: 32 + MAX_CREDENTIALS,
};

/**
 * Emits `auth_slots()` (maps the slot table and fills the slots of rules whose users are in the
 * section; exits when out of memory) and `auth_check()` → -1 when no auth rule covers the path
 * or the request's credentials satisfy the rule that does, else the 401's ordinal after its
 * challenge line was put in DYN.
 */
export function emitAuth(p: ProgramBuilder, unauthorized: number): void {
  emitBasicCheck(p);
  emitConstantTimeEqual(p);

  p.func("auth_slots", { saves: ["s0", "s1"] }, (f) => {
    f.addr("s0", "access_state")
      .load(8, "a1", { base: "s0", offset: A.ruleCount })
      .mul("a1", "a1", SLOT.size);
    f.mov("a0", 0).mov("a2", PROT_READ_WRITE).mov("a3", MAP_LAZY_ANONYMOUS).mov("a4", -1n).mov("a5", 0);
    f.syscall("mmap").br("gtu", "a0", -4096n, "fail").store(8, "a0", { base: "s0", offset: A.slots });
    // s1 the rule, a0 its slot
    f.load(8, "s1", { base: "s0", offset: A.rules });
    f.label("rule").load(8, "a1", { base: "s0", offset: A.ruleCount }).mul("a1", "a1", RULE_BYTES);
    f.load(8, "a2", { base: "s0", offset: A.rules }).add("a1", "a1", "a2").br("geu", "s1", "a1", "done");
    f.load(2, "a1", "s1").br("ne", "a1", KIND.auth, "next"); // kind 2, users in the section (source 0)
    f.load(8, "a1", { base: "s0", offset: A.section }).store(8, "a1", { base: "a0", offset: SLOT.base });
    f.load(4, "a2", { base: "s1", offset: 24 })
      .add("a2", "a2", "a1")
      .store(8, "a2", { base: "a0", offset: SLOT.users });
    f.load(4, "a2", { base: "s1", offset: 4 }).store(8, "a2", { base: "a0", offset: SLOT.count });
    f.label("next").add("s1", "s1", RULE_BYTES).add("a0", "a0", SLOT.size).jmp("rule");
    f.label("done").ret();
    f.label("fail").call("no_memory").ret();
  });

  // s0 the rule, s1 its slot, s2 the access state
  p.func("auth_check", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("a0", KIND.auth).call("first_rule").br("eq", "a0", 0, "pass").mov("s0", "a0");
    f.call("request_fields").addr("s2", "access_state");
    f.load(8, "a0", { base: "s2", offset: A.authCount }).br("ne", "a0", 1, "refuse");
    f.load(8, "a1", { base: "s2", offset: A.rules }).sub("a0", "s0", "a1").shr("a0", "a0", 5); // / RULE_BYTES
    f.mul("a0", "a0", SLOT.size).load(8, "a1", { base: "s2", offset: A.slots }).add("s1", "a0", "a1");
    // the value this rule accepted last, compared in constant time
    f.load(8, "a2", { base: "s2", offset: A.authLength }).load(8, "a3", {
      base: "s1",
      offset: SLOT.cachedLength,
    });
    f.br("ne", "a2", "a3", "check").br("eq", "a2", 0, "check");
    f.add("a0", "s1", SLOT.cached).load(8, "a1", { base: "s2", offset: A.authValue }).call("ct_equal");
    f.br("ne", "a0", 0, "pass");
    f.label("check")
      .load(8, "a0", { base: "s1", offset: SLOT.base })
      .load(8, "a1", { base: "s1", offset: SLOT.users });
    f.load(8, "a2", { base: "s1", offset: SLOT.count }).load(8, "a3", { base: "s2", offset: A.authValue });
    f.load(8, "a4", { base: "s2", offset: A.authLength }).call("basic_check").br("eq", "a0", 0, "refuse");
    // accepted (so at most MAX_CREDENTIALS bytes): remember it
    f.load(8, "a0", { base: "s2", offset: A.authValue }).load(8, "a1", { base: "s2", offset: A.authLength });
    f.store(8, "a1", { base: "s1", offset: SLOT.cachedLength }).add("a2", "s1", SLOT.cached);
    f.label("copy").br("eq", "a1", 0, "pass").sub("a1", "a1", 1).load(1, "a3", { base: "a0", index: "a1" });
    f.store(1, "a3", { base: "a2", index: "a1" }).jmp("copy");
    f.label("pass").mov("a0", -1).ret();
    // 401 with the rule's challenge line, which the section holds around the realm
    f.label("refuse")
      .load(4, "a0", { base: "s0", offset: 16 })
      .load(8, "a1", { base: "s2", offset: A.section });
    f.add("a0", "a0", "a1").sub("a0", "a0", CHALLENGE_START.length).load(4, "a1", { base: "s0", offset: 20 });
    f.add("a1", "a1", CHALLENGE_START.length + CHALLENGE_END.length)
      .call("put")
      .mov("a0", unauthorized)
      .ret();
  });
}
