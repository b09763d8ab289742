// Users read at start-up (docs/access.md, "Users at run time"): for each auth rule whose users come
// from an environment variable or a file (SPECK_AUTH_FILE replacing every file path), the
// `user:hash` entries are parsed into user records as the section holds them, exactly as
// src/access/compile.ts's parseUserLines accepts them. A source that is missing, unreadable, holds
// a bad entry or none stops the server with one line naming the rule (exit 2): it never serves
// unprotected. Messages never repeat an entry (it could be a password pasted by mistake).

import { ENTRY_FORM } from "../../../access/compile.ts";
import { MAX_ITERATIONS, MIN_ITERATIONS } from "../../../access/password.ts";
import { KIND, RULE_BYTES, SOURCE, USER_BYTES } from "../../../access/section.ts";
import type { ProgramBuilder } from "../../ir/builder.ts";
import { MAP_LAZY_ANONYMOUS, PROT_READ_WRITE } from "../../target/mman.ts";
import { AT_FDCWD, O_RDONLY_CLOEXEC } from "../files.ts";
import { SLOT } from "./auth.ts";
import { emitBase64Decode } from "./base64.ts";
import { A } from "./state.ts";

/** The largest credential file read (a lazily backed buffer: 12,000 users fit). */
const FILE_LIMIT = 1 << 20;
const PATH_LIMIT = 4096;
const ENAMETOOLONG = 36;
const EFBIG = 27;
const HASH_PREFIX = "$pbkdf2-sha256$i=";
/** Salt and key in unpadded base64, and the "$" between them. */
const SALT_CHARS = 22;
const KEY_CHARS = 43;
const MAX_NAME = 64;

/** Fields of a message template (below 8; other bytes are literal). */
const M = { rule: 1, path: 2, realm: 3, source: 4, code: 5, line: 6 } as const;
const TAIL = "; refusing to serve unprotected\n";
const TEMPLATES = {
  prefix: `speck: auth rule \x01 (path "\x02", realm "\x03"): `,
  env: `the environment variable \x04 is not set${TAIL}`,
  file: `cannot read the credential file \x04 (\x05)${TAIL}`,
  entry: `\x04, line \x06: not accepted; use ${ENTRY_FORM}\n`,
  none: `\x04: no "user:hash" entries; nobody could log in\n`,
};
/** Names of the errno values a credential file most often fails with, as Node names them. */
const ERRNO_NAMES: [number, string][] = [
  [1, "EPERM"],
  [2, "ENOENT"],
  [5, "EIO"],
  [13, "EACCES"],
  [20, "ENOTDIR"],
  [21, "EISDIR"],
  [EFBIG, "EFBIG"],
  [ENAMETOOLONG, "ENAMETOOLONG"],
  [40, "ELOOP"],
];

const bytes = (text: string) => new TextEncoder().encode(text);

/** Emits `auth_users(envp)`: fills the slots of rules whose users are read at start-up, or exits 2. */
export function emitRuntimeUsers(p: ProgramBuilder): void {
  emitBase64Decode(p);
  for (const [name, text] of Object.entries(TEMPLATES)) p.rodata(`users_${name}`, `${text}\0`);
  p.rodata("hash_prefix", HASH_PREFIX);
  p.rodata("auth_file_name", "SPECK_AUTH_FILE");
  p.rodata(
    "errno_names",
    Uint8Array.from(ERRNO_NAMES.flatMap(([n, s]) => [n, s.length, ...bytes(s)]).concat(0)),
  );
  // what a message shows: the rule, the source's name (pointer, length), an errno or a line
  // number; then a NUL-terminated copy of a file path, and the padded base64 of a salt or key
  p.bss("users_msg", 32 + PATH_LIMIT + 48, 8);
  const MSG = { rule: 0, source: 8, sourceLength: 16, number: 24, path: 32, base64: 32 + PATH_LIMIT };

  // msg_put(ptr, len): appends to the message (A.xff, A.xffLength), as much as fits
  p.func("msg_put", {}, (f) => {
    f.addr("a2", "access_state").load(8, "a3", { base: "a2", offset: A.xffLength });
    f.label("byte")
      .br("eq", "a1", 0, "done")
      .br("geu", "a3", A.size - A.xff, "done");
    f.load(1, "a4", "a0").add("a5", "a2", "a3").store(1, "a4", { base: "a5", offset: A.xff });
    f.add("a0", "a0", 1).sub("a1", "a1", 1).add("a3", "a3", 1).jmp("byte");
    f.label("done").store(8, "a3", { base: "a2", offset: A.xffLength }).ret();
  });
  // msg_number(n): decimal
  p.func("msg_number", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a0").br("ltu", "a0", 10, "one").udiv("a0", "a0", 10).call("msg_number");
    f.label("one").urem("a1", "s0", 10).add("a1", "a1", 48).addr("a0", "users_msg", MSG.base64);
    f.store(1, "a1", "a0").mov("a1", 1).call("msg_put").ret();
  });
  // msg_string(rule, field offset): a string of the section (offset, length at the rule's field)
  p.func("msg_string", {}, (f) => {
    f.add("a0", "a0", "a1").load(4, "a1", { base: "a0", offset: 4 }).load(4, "a0", "a0");
    f.addr("a2", "access_state").load(8, "a2", { base: "a2", offset: A.section }).add("a0", "a0", "a2");
    f.call("msg_put").ret();
  });
  // msg_template(template): renders the fields of users_msg
  p.func("msg_template", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0").addr("s1", "users_msg");
    f.label("next").load(1, "a0", "s0").add("s0", "s0", 1).br("eq", "a0", 0, "done");
    f.br("ltu", "a0", 8, "field").sub("a0", "s0", 1).mov("a1", 1).call("msg_put").jmp("next");
    f.label("field").br("ne", "a0", M.rule, "path");
    // the rule's number among the auth rules: those before it (IP rules come first)
    f.load(8, "a1", { base: "s1", offset: MSG.rule }).addr("a2", "access_state");
    f.load(8, "a2", { base: "a2", offset: A.rules }).mov("a0", 0);
    f.label("count").br("geu", "a2", "a1", "counted").load(1, "a3", "a2").br("ne", "a3", KIND.auth, "skip");
    f.add("a0", "a0", 1);
    f.label("skip").add("a2", "a2", RULE_BYTES).jmp("count");
    f.label("counted").call("msg_number").jmp("next");
    f.label("path").br("ne", "a0", M.path, "realm");
    f.load(8, "a0", { base: "s1", offset: MSG.rule }).mov("a1", 8).call("msg_string").jmp("next");
    f.label("realm").br("ne", "a0", M.realm, "source");
    f.load(8, "a0", { base: "s1", offset: MSG.rule }).mov("a1", 16).call("msg_string").jmp("next");
    f.label("source").br("ne", "a0", M.source, "code");
    f.load(8, "a0", { base: "s1", offset: MSG.source }).load(8, "a1", {
      base: "s1",
      offset: MSG.sourceLength,
    });
    f.call("msg_put").jmp("next");
    // an errno's name, or its number when not in the table
    f.label("code").br("ne", "a0", M.code, "number").load(8, "a2", { base: "s1", offset: MSG.number });
    f.addr("a0", "errno_names");
    f.label("name").load(1, "a1", "a0").br("eq", "a1", 0, "number").load(1, "a3", { base: "a0", offset: 1 });
    f.br("eq", "a1", "a2", "named").add("a0", "a0", "a3").add("a0", "a0", 2).jmp("name");
    f.label("named").add("a0", "a0", 2).mov("a1", "a3").call("msg_put").jmp("next");
    f.label("number").load(8, "a0", { base: "s1", offset: MSG.number }).call("msg_number").jmp("next");
    f.label("done").ret();
  });
  // users_fail(template): writes the rule's message and exits 2
  p.func("users_fail", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a0").addr("a0", "users_prefix").call("msg_template").mov("a0", "s0").call("msg_template");
    f.addr("a1", "access_state").load(8, "a2", { base: "a1", offset: A.xffLength }).add("a1", "a1", A.xff);
    f.mov("a0", 2).syscall("write").mov("a0", 2).syscall("exit_group");
  });

  // env_value(name, length, envp) → the value of NAME=value in envp, or 0
  p.func("env_value", { saves: ["s0"] }, (f) => {
    f.label("string").load(8, "a3", "a2").br("eq", "a3", 0, "none").add("a2", "a2", 8).mov("a4", 0);
    f.label("compare").br("eq", "a4", "a1", "equals").load(1, "a5", { base: "a3", index: "a4" });
    f.load(1, "s0", { base: "a0", index: "a4" })
      .br("ne", "a5", "s0", "string")
      .add("a4", "a4", 1)
      .jmp("compare");
    f.label("equals").load(1, "a5", { base: "a3", index: "a4" }).br("ne", "a5", 61, "string");
    f.add("a0", "a3", "a4").add("a0", "a0", 1).ret();
    f.label("none").mov("a0", 0).ret();
  });

  // parse_entry(start, end, record, base) → 1 with the record filled from "user:hash", else 0
  p.func("parse_entry", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a1").mov("s2", "a2").mov("a4", "a0");
    // the name: 1 to 64 printable bytes up to the first ":"
    f.label("name").br("geu", "a4", "s1", "no").load(1, "a5", "a4").br("eq", "a5", 58, "colon");
    f.sub("a5", "a5", 0x21)
      .br("gtu", "a5", 0x7e - 0x21, "no")
      .add("a4", "a4", 1)
      .jmp("name");
    f.label("colon").sub("a5", "a4", "s0").sub("a1", "a5", 1).br("geu", "a1", MAX_NAME, "no");
    f.sub("a0", "s0", "a3").store(4, "a0", "s2").store(4, "a5", { base: "s2", offset: 4 });
    // "$pbkdf2-sha256$i=" and 1 to 7 digits without a leading zero, then "$"
    f.add("s0", "a4", 1)
      .sub("a1", "s1", "s0")
      .br("ltu", "a1", HASH_PREFIX.length + 3 + SALT_CHARS + KEY_CHARS, "no");
    f.mov("a0", "s0").mov("a1", HASH_PREFIX.length).addr("a2", "hash_prefix").mov("a3", HASH_PREFIX.length);
    f.call("same").br("eq", "a0", 0, "no").add("s0", "s0", HASH_PREFIX.length);
    f.load(1, "a0", "s0").br("eq", "a0", 48, "no").mov("a1", 0).mov("a2", 0);
    f.label("digit")
      .load(1, "a0", { base: "s0", index: "a2" })
      .sub("a0", "a0", 48)
      .br("gtu", "a0", 9, "digits");
    f.mul("a1", "a1", 10).add("a1", "a1", "a0").add("a2", "a2", 1).br("leu", "a2", 7, "digit").jmp("no");
    f.label("digits").br("eq", "a2", 0, "no").sub("a0", "a1", MIN_ITERATIONS);
    f.br("gtu", "a0", MAX_ITERATIONS - MIN_ITERATIONS, "no").store(4, "a1", { base: "s2", offset: 8 });
    f.add("s0", "s0", "a2").load(1, "a0", "s0").br("ne", "a0", 36, "no").add("s0", "s0", 1);
    // then exactly salt, "$", key: each decoded from a padded copy in the frame
    f.add("a0", "s0", SALT_CHARS + 1 + KEY_CHARS).br("ne", "a0", "s1", "no");
    f.load(1, "a0", { base: "s0", offset: SALT_CHARS }).br("ne", "a0", 36, "no");
    for (const [chars, offset, decoded] of [
      [SALT_CHARS, 16, 16],
      [KEY_CHARS, 32, 32],
    ] as const) {
      const copy = f.newLabel("copy");
      f.addr("s3", "users_msg", MSG.base64).mov("a1", 0);
      f.label(copy).load(1, "a0", { base: "s0", index: "a1" }).store(1, "a0", { base: "s3", index: "a1" });
      f.add("a1", "a1", 1).br("ltu", "a1", chars, copy);
      f.store(2, 0x3d3d, { base: "s3", offset: chars }); // "==", of which base64 needs (4 - chars % 4)
      f.mov("a0", "s3")
        .mov("a1", (chars + 3) & ~3)
        .add("a2", "s2", offset)
        .call("base64_decode");
      f.br("ne", "a0", decoded, "no").add("s0", "s0", chars + 1);
    }
    f.mov("a0", 1).ret();
    f.label("no").mov("a0", 0).ret();
  });

  // parse_users(text, length, records) → records written, or -line of the first bad entry
  // s0 cursor, s1 end, s2 record, s3 line, s4 text, s5 1 while only blanks came since the line began
  p.func("parse_users", { frame: 16, saves: ["s0", "s1", "s2", "s3", "s4", "s5"] }, (f) => {
    f.store(8, "a2", { base: "sp", offset: 0 })
      .mov("s0", "a0")
      .add("s1", "a0", "a1")
      .mov("s2", "a2")
      .mov("s4", "a0")
      .mov("s3", 1)
      .mov("s5", 1);
    f.label("blank").br("geu", "s0", "s1", "done").load(1, "a0", "s0");
    f.br("eq", "a0", 32, "skip").br("eq", "a0", 9, "skip").br("eq", "a0", 13, "skip");
    f.br("ne", "a0", 10, "entry").add("s3", "s3", 1).mov("s5", 1);
    f.label("skip").add("s0", "s0", 1).jmp("blank");
    f.label("entry").br("ne", "s5", 0, "first");
    f.label("word").mov("a0", "s0");
    f.label("scan").br("geu", "s0", "s1", "parse").load(1, "a1", "s0");
    f.br("eq", "a1", 32, "parse")
      .br("eq", "a1", 9, "parse")
      .br("eq", "a1", 13, "parse")
      .br("eq", "a1", 10, "parse");
    f.add("s0", "s0", 1).jmp("scan");
    f.label("parse")
      .mov("a1", "s0")
      .mov("a2", "s2")
      .mov("a3", "s4")
      .call("parse_entry")
      .br("eq", "a0", 0, "bad");
    f.add("s2", "s2", USER_BYTES).mov("s5", 0).jmp("blank");
    // a line whose first entry starts with "#" is a comment
    f.label("first").br("ne", "a0", 35, "word");
    f.label("comment").br("geu", "s0", "s1", "done").load(1, "a0", "s0").br("eq", "a0", 10, "blank");
    f.add("s0", "s0", 1).jmp("comment");
    f.label("done").load(8, "a0", { base: "sp", offset: 0 }).sub("a0", "s2", "a0").shr("a0", "a0", 6).ret();
    f.label("bad").neg("a0", "s3").ret(); // -line
  });

  // users_into(rule's slot, text, length): parses into fresh records or fails naming the rule
  p.func("users_into", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a1").mov("s2", "a2");
    f.mov("a0", 0)
      .add("a1", "a2", 128)
      .mov("a2", PROT_READ_WRITE)
      .mov("a3", MAP_LAZY_ANONYMOUS)
      .mov("a4", -1n);
    f.mov("a5", 0).syscall("mmap").br("gtu", "a0", -4096n, "memory");
    f.store(8, "a0", { base: "s0", offset: SLOT.users }).store(8, "s1", { base: "s0", offset: SLOT.base });
    f.mov("a2", "a0").mov("a0", "s1").mov("a1", "s2").call("parse_users").br("lt", "a0", 0, "entry");
    f.br("eq", "a0", 0, "none").store(8, "a0", { base: "s0", offset: SLOT.count }).ret();
    f.label("entry")
      .neg("a0", "a0")
      .addr("a1", "users_msg")
      .store(8, "a0", { base: "a1", offset: MSG.number });
    f.addr("a0", "users_entry").call("users_fail");
    f.label("none").addr("a0", "users_none").call("users_fail");
    f.label("memory").call("no_memory").ret();
  });

  // auth_users(envp): s0 envp, s1 rule, s2 slot, s3 message fields, s4 file descriptor
  p.func("auth_users", { saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s0", "a0").addr("s3", "users_msg").addr("a0", "access_state");
    f.load(8, "s1", { base: "a0", offset: A.rules }).load(8, "s2", { base: "a0", offset: A.slots });
    f.label("rule").addr("a0", "access_state").load(8, "a1", { base: "a0", offset: A.ruleCount });
    f.mul("a1", "a1", RULE_BYTES).load(8, "a2", { base: "a0", offset: A.rules }).add("a1", "a1", "a2");
    f.br("geu", "s1", "a1", "done").load(1, "a0", "s1").br("ne", "a0", KIND.auth, "next");
    f.load(1, "a0", { base: "s1", offset: 1 }).br("eq", "a0", SOURCE.users, "next");
    // the source's name: the variable or the file path in the section
    f.store(8, "s1", { base: "s3", offset: MSG.rule }).load(4, "a1", { base: "s1", offset: 24 });
    f.addr("a2", "access_state").load(8, "a2", { base: "a2", offset: A.section }).add("a1", "a1", "a2");
    f.store(8, "a1", { base: "s3", offset: MSG.source }).load(4, "a3", { base: "s1", offset: 28 });
    f.store(8, "a3", { base: "s3", offset: MSG.sourceLength }).br("eq", "a0", SOURCE.file, "file");
    f.mov("a0", "a1").mov("a1", "a3").mov("a2", "s0").call("env_value").br("ne", "a0", 0, "value");
    f.addr("a0", "users_env").call("users_fail");
    f.label("value").mov("a1", 0);
    f.label("length")
      .load(1, "a2", { base: "a0", index: "a1" })
      .br("eq", "a2", 0, "parse")
      .add("a1", "a1", 1)
      .jmp("length");
    f.label("parse").mov("a2", "a1").mov("a1", "a0").mov("a0", "s2").call("users_into");
    f.label("next").add("s1", "s1", RULE_BYTES).add("s2", "s2", SLOT.size).jmp("rule");
    f.label("done").ret();

    // a file: SPECK_AUTH_FILE's value when set and not empty, else the section's path
    f.label("file").addr("a0", "auth_file_name").mov("a1", 15).mov("a2", "s0").call("env_value");
    f.br("eq", "a0", 0, "own").load(1, "a1", "a0").br("eq", "a1", 0, "own").mov("a1", 0);
    f.label("override").load(1, "a2", { base: "a0", index: "a1" }).br("eq", "a2", 0, "named");
    f.add("a1", "a1", 1).jmp("override");
    f.label("named")
      .store(8, "a0", { base: "s3", offset: MSG.source })
      .store(8, "a1", { base: "s3", offset: MSG.sourceLength });
    f.jmp("open");
    f.label("own")
      .load(8, "a0", { base: "s3", offset: MSG.source })
      .load(8, "a1", { base: "s3", offset: MSG.sourceLength });
    f.mov("a2", ENAMETOOLONG)
      .br("geu", "a1", PATH_LIMIT, "unreadable")
      .add("a2", "s3", MSG.path)
      .store(1, 0, { base: "a2", index: "a1" });
    f.label("copy").br("eq", "a1", 0, "copied").sub("a1", "a1", 1).load(1, "a3", { base: "a0", index: "a1" });
    f.store(1, "a3", { base: "a2", index: "a1" }).jmp("copy");
    f.label("copied").mov("a0", "a2");
    f.label("open")
      .mov("a1", "a0")
      .mov("a0", AT_FDCWD)
      .mov("a2", O_RDONLY_CLOEXEC)
      .mov("a3", 0)
      .syscall("openat");
    f.br("lt", "a0", 0, "errno").mov("s4", "a0");
    f.mov("a0", 0)
      .mov("a1", FILE_LIMIT)
      .mov("a2", PROT_READ_WRITE)
      .mov("a3", MAP_LAZY_ANONYMOUS)
      .mov("a4", -1n)
      .mov("a5", 0);
    f.syscall("mmap").br("gtu", "a0", -4096n, "memory").mov("a3", "a0").mov("a4", 0);
    // read to the end; a file that fills the buffer is too large
    f.label("read")
      .mov("a0", "s4")
      .add("a1", "a3", "a4")
      .mov("a2", FILE_LIMIT)
      .sub("a2", "a2", "a4")
      .syscall("read");
    f.br("lt", "a0", 0, "errno").add("a4", "a4", "a0").br("ne", "a0", 0, "more");
    f.mov("a0", "s4")
      .syscall("close")
      .mov("a0", "s2")
      .mov("a1", "a3")
      .mov("a2", "a4")
      .call("users_into")
      .jmp("next");
    f.label("more").br("ltu", "a4", FILE_LIMIT, "read").mov("a2", EFBIG).jmp("unreadable");
    f.label("errno").neg("a2", "a0");
    f.label("unreadable")
      .store(8, "a2", { base: "s3", offset: MSG.number })
      .addr("a0", "users_file")
      .call("users_fail");
    f.label("memory").call("no_memory").ret();
  });
}
