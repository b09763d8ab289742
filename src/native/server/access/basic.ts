// Basic credentials checked in the IR against an auth rule's user records in the access section
// (docs/access.md): the Authorization value parsed exactly as src/access/basic.ts parses it, the
// user found by name, and the password's PBKDF2-SHA256 key compared in constant time. An unknown
// user costs a hash all the same, so timing does not reveal which names exist.

import { USER_BYTES } from "../../../access/section.ts";
import type { ProgramBuilder } from "../../ir/builder.ts";
import { emitBase64Decode } from "./base64.ts";
import { emitConstantTimeEqual } from "./compare.ts";
import { emitPbkdf2 } from "./pbkdf2.ts";

/** The longest Authorization value checked (longer ones are refused); its decoded form fits the buffer. */
export const MAX_CREDENTIALS = 4096;

/** Emits `basic_check(section, users, count, value, length)`: 1 when the value holds a user's password, else 0. */
export function emitBasicCheck(p: ProgramBuilder): void {
  if (p.has("basic_check")) return;
  emitPbkdf2(p);
  emitBase64Decode(p);
  emitConstantTimeEqual(p);
  // decoded credentials, then the derived key
  p.bss("basic_buf", MAX_CREDENTIALS + 32, 8);
  // s0 section, s1 user record, s2 users left (then: 1 when nobody matched), s3 decoded end, s4 colon, s5 match
  p.func("basic_check", { saves: ["s0", "s1", "s2", "s3", "s4", "s5"] }, (f) => {
    const [spaces, colon, search, next, derive, no] = [
      "spaces",
      "colon",
      "search",
      "next",
      "derive",
      "no",
    ].map((l) => f.newLabel(l)) as [string, string, string, string, string, string];
    f.mov("s0", "a0").mov("s1", "a1").mov("s2", "a2");
    f.br("gtu", "a4", MAX_CREDENTIALS, no).br("leu", "a4", 5, no);
    // "basic" in any case (| 0x20 folds the letters), then one or more spaces
    f.load(4, "a5", "a3").or("a5", "a5", 0x20202020).br("ne", "a5", 0x69736162, no);
    f.load(1, "a5", { base: "a3", offset: 4 }).or("a5", "a5", 0x20).br("ne", "a5", 0x63, no);
    f.load(1, "a5", { base: "a3", offset: 5 }).br("ne", "a5", 32, no);
    f.add("a1", "a3", "a4").add("a0", "a3", 5);
    f.label(spaces).add("a0", "a0", 1).br("geu", "a0", "a1", `${spaces}done`);
    f.load(1, "a5", "a0").br("eq", "a5", 32, spaces);
    f.label(`${spaces}done`).sub("a1", "a1", "a0").addr("a2", "basic_buf").call("base64_decode");
    f.br("lt", "a0", 0, no);
    // the first colon splits user and password: s4 the colon's address, s3 the end
    f.addr("s4", "basic_buf").add("s3", "s4", "a0");
    f.label(colon).br("geu", "s4", "s3", no).load(1, "a5", "s4").br("eq", "a5", 58, search);
    f.add("s4", "s4", 1).jmp(colon);
    // the user whose name has the same length and bytes; s5 its record, or 0
    f.label(search).mov("s5", 0).br("eq", "s2", 0, no);
    f.label(next).addr("a1", "basic_buf").sub("a2", "s4", "a1");
    f.load(4, "a5", { base: "s1", offset: 4 }).br("ne", "a5", "a2", `${next}skip`);
    f.load(4, "a0", "s1").add("a0", "a0", "s0").call("ct_equal").br("eq", "a0", 0, `${next}skip`);
    f.mov("s5", "s1").mov("s2", 0).jmp(derive);
    f.label(`${next}skip`).sub("s2", "s2", 1).br("eq", "s2", 0, derive).add("s1", "s1", USER_BYTES).jmp(next);
    // the key from the password (with the last record's salt when nobody matched)
    f.label(derive).br("ne", "s5", 0, `${derive}go`).mov("s5", "s1").mov("s2", 1);
    f.label(`${derive}go`).add("a0", "s4", 1).sub("a1", "s3", "a0");
    f.add("a2", "s5", 16).mov("a3", 16).load(4, "a4", { base: "s5", offset: 8 });
    f.addr("a5", "basic_buf").add("a5", "a5", MAX_CREDENTIALS).call("pbkdf2_sha256");
    f.addr("a0", "basic_buf")
      .add("a0", "a0", MAX_CREDENTIALS)
      .add("a1", "s5", 32)
      .mov("a2", 32)
      .call("ct_equal");
    f.br("ne", "s2", 0, no).ret();
    f.label(no).mov("a0", 0).ret();
  });
}
