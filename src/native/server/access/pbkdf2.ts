// HMAC-SHA256 (RFC 2104) and PBKDF2-HMAC-SHA256 (RFC 8018) in the IR, for checking Basic
// credentials against the hashes of the access section. The key's inner and outer states are
// computed once (`hmac_prepare`), so each PBKDF2 iteration costs two compressions; the scratch
// memory is one bss block, as the server handles one request at a time per process.

import type { ProgramBuilder } from "../../ir/builder.ts";
import { CTX, CTX_BYTES, emitSha256 } from "./sha256.ts";

/** Scratch layout: key block, U, salt || counter, inner, outer and working SHA-256 contexts. */
const W = { key: 0, u: 64, salt: 96, inner: 160, outer: 160 + CTX_BYTES, work: 160 + 2 * CTX_BYTES } as const;
export const WORK_BYTES = W.work + CTX_BYTES;
/** The longest salt pbkdf2_sha256 takes (it and the block counter fill one 64-byte buffer). */
export const MAX_SALT = 60;

/** Emits the HMAC and PBKDF2 functions and SHA-256 (once per program). */
export function emitPbkdf2(p: ProgramBuilder): void {
  if (p.has("pbkdf2_sha256")) return;
  emitSha256(p);
  p.bss("mac_work", WORK_BYTES, 8);

  // hmac_prepare(key, len): the inner and outer contexts after the padded key block
  p.func("hmac_prepare", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    const copy = f.newLabel("copy");
    const pads = f.newLabel("pads");
    const pad = f.newLabel("pad");
    f.addr("s0", "mac_work").mov("s1", "a0").mov("s2", "a1");
    for (let i = 0; i < 64; i += 8) f.store(8, 0, { base: "s0", offset: W.key + i });
    f.mov("s3", 0).br("leu", "s2", 64, copy);
    // a key longer than a block is replaced by its hash
    f.add("a0", "s0", W.work).call("sha256_init");
    f.add("a0", "s0", W.work).mov("a1", "s1").mov("a2", "s2").call("sha256_update");
    f.add("a0", "s0", W.work).add("a1", "s0", W.key).call("sha256_final").jmp(pads);
    f.label(copy).br("geu", "s3", "s2", pads);
    f.load(1, "a0", { base: "s1", index: "s3" }).add("a1", "s0", "s3").store(1, "a0", "a1");
    f.add("s3", "s3", 1).jmp(copy);
    f.label(pads);
    f.add("a0", "s0", W.inner).call("sha256_init");
    f.add("a0", "s0", W.outer).call("sha256_init");
    f.mov("s3", 0).label(pad);
    f.add("a0", "s0", W.inner)
      .load(1, "a1", { base: "s0", index: "s3" })
      .xor("a1", "a1", 0x36)
      .call("sha256_byte");
    f.add("a0", "s0", W.outer)
      .load(1, "a1", { base: "s0", index: "s3" })
      .xor("a1", "a1", 0x5c)
      .call("sha256_byte");
    f.add("s3", "s3", 1).br("ltu", "s3", 64, pad).ret();
  });

  // hmac_finish(prepared ctx, ptr, len, out): hash of the prepared state followed by the data
  p.func("hmac_finish", { saves: ["s0", "s1"] }, (f) => {
    f.addr("s0", "mac_work").add("s0", "s0", W.work).mov("s1", "a3");
    for (let i = 0; i < CTX.block; i += 8)
      f.load(8, "a4", { base: "a0", offset: i }).store(8, "a4", { base: "s0", offset: i });
    f.mov("a0", "s0").call("sha256_update");
    f.mov("a0", "s0").mov("a1", "s1").call("sha256_final").ret();
  });

  // hmac_sha256(key, key length, message, message length, out)
  p.func("hmac_sha256", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s1", "a2").mov("s2", "a3").mov("s3", "a4").call("hmac_prepare");
    f.addr("s0", "mac_work");
    f.add("a0", "s0", W.inner).mov("a1", "s1").mov("a2", "s2").add("a3", "s0", W.u).call("hmac_finish");
    f.add("a0", "s0", W.outer).add("a1", "s0", W.u).mov("a2", 32).mov("a3", "s3").call("hmac_finish").ret();
  });

  // pbkdf2_sha256(password, length, salt, salt length <= MAX_SALT, iterations (0 counts as 1), out): the first 32 bytes
  p.func("pbkdf2_sha256", { saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    const salt = f.newLabel("salt");
    const iterate = f.newLabel("iterate");
    const xor = f.newLabel("xor");
    f.mov("s1", "a2").mov("s2", "a3").mov("s3", "a4").mov("s4", "a5").call("hmac_prepare");
    f.addr("s0", "mac_work");
    // salt || 00 00 00 01
    f.mov("a0", 0).label(salt).br("geu", "a0", "s2", `${salt}end`);
    f.load(1, "a1", { base: "s1", index: "a0" })
      .add("a2", "s0", "a0")
      .store(1, "a1", { base: "a2", offset: W.salt });
    f.add("a0", "a0", 1).jmp(salt);
    f.label(`${salt}end`).add("a2", "s0", "s2").store(4, 0x01000000, { base: "a2", offset: W.salt });
    f.add("a0", "s0", W.inner)
      .add("a1", "s0", W.salt)
      .add("a2", "s2", 4)
      .add("a3", "s0", W.u)
      .call("hmac_finish");
    f.add("a0", "s0", W.outer).add("a1", "s0", W.u).mov("a2", 32).add("a3", "s0", W.u).call("hmac_finish");
    for (let i = 0; i < 32; i += 8)
      f.load(8, "a0", { base: "s0", offset: W.u + i }).store(8, "a0", { base: "s4", offset: i });
    f.label(iterate).br("leu", "s3", 1, `${iterate}end`).sub("s3", "s3", 1);
    f.add("a0", "s0", W.inner).add("a1", "s0", W.u).mov("a2", 32).add("a3", "s0", W.u).call("hmac_finish");
    f.add("a0", "s0", W.outer).add("a1", "s0", W.u).mov("a2", 32).add("a3", "s0", W.u).call("hmac_finish");
    f.mov("a0", 0).label(xor);
    f.load(8, "a1", { base: "s4", index: "a0" })
      .add("a2", "s0", "a0")
      .load(8, "a2", { base: "a2", offset: W.u });
    f.xor("a1", "a1", "a2").store(8, "a1", { base: "s4", index: "a0" });
    f.add("a0", "a0", 8).br("ltu", "a0", 32, xor).jmp(iterate);
    f.label(`${iterate}end`).ret();
  });
}
