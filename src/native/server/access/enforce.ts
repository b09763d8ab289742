// The access checks in the native server's request path (docs/access.md, "Order of checks"), the
// same judgement as src/preview/access.ts: `access_check()` runs after the target is normalised and
// before the route lookup, and says whether the site answers, which error refuses the request, or
// which proxy rule forwards it. Only the code a pack's features need is emitted.

import { FEATURE } from "../../../access/features.ts";
import { KIND, RULE_BYTES } from "../../../access/section.ts";
import type { ProgramBuilder } from "../../ir/builder.ts";
import type { ShellInterface } from "../http/respond.ts";
import { PATH, S } from "../http/state.ts";
import { emitClientAddress } from "./address.ts";
import { emitAuth } from "./auth.ts";
import { emitCidr } from "./cidr.ts";
import { A, emitAccessState } from "./state.ts";
import { emitRuntimeUsers } from "./users.ts";

const AF_INET = 2;
const AF_INET6 = 10;
const NO_MEMORY = "speck: cannot serve: out of memory\n";

/** Error ordinals of the access refusals (docs/pack-format.md, "Error table"). */
export const ACCESS_ERR = { 401: 11, 403: 12, 502: 13, 504: 14 } as const;

/**
 * Emits `access_check()` → -1 when the site answers the request in the state block (s4), an error
 * ordinal (401's after its challenge line was put in DYN, or 403's) when it is refused, or, in
 * builds with the proxy feature, the address of the proxy rule that forwards it.
 */
export function emitAccessCheck(p: ProgramBuilder, shell: ShellInterface, features: number): void {
  if (p.has("access_check")) return;
  emitAccessState(p, shell.pack);
  const ip = (features & FEATURE.ip) !== 0;
  const trusted = ip && (features & FEATURE.trustedProxies) !== 0;
  const auth = (features & FEATURE.auth) !== 0;
  const proxy = (features & FEATURE.proxy) !== 0;

  // rule_covers(rule) → 1 when the rule's path prefix covers the normalised path at PATH,
  // segment-wise ("/admin" covers /admin and /admin/..., never /administrator), else 0
  p.func("rule_covers", { saves: ["s0"] }, (f) => {
    f.load(4, "s0", { base: "a0", offset: 12 }).br("eq", "s0", 1, "yes"); // "/" covers every path
    f.load(8, "a3", { base: "s4", offset: S.pathLen }).br("ltu", "a3", "s0", "no");
    f.load(4, "a0", { base: "a0", offset: 8 }).addr("a1", "access_state");
    f.load(8, "a1", { base: "a1", offset: A.section }).add("a0", "a0", "a1");
    f.mov("a1", "s0").add("a2", "s4", PATH).mov("a3", "s0").call("same").br("eq", "a0", 0, "no");
    f.load(8, "a3", { base: "s4", offset: S.pathLen }).br("eq", "a3", "s0", "yes");
    f.add("a2", "s4", PATH).load(1, "a2", { base: "a2", index: "s0" }).br("ne", "a2", 47, "no");
    f.label("yes").mov("a0", 1).ret();
    f.label("no").mov("a0", 0).ret();
  });

  // first_rule(kind) → the first rule record of that kind covering the path, or 0
  p.func("first_rule", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s2", "a0").addr("a1", "access_state").load(8, "s0", { base: "a1", offset: A.rules });
    f.load(8, "s1", { base: "a1", offset: A.ruleCount });
    f.label("rule").br("eq", "s1", 0, "none").load(1, "a0", "s0").br("ne", "a0", "s2", "next");
    f.mov("a0", "s0").call("rule_covers").br("ne", "a0", 0, "found");
    f.label("next").add("s0", "s0", RULE_BYTES).sub("s1", "s1", 1).jmp("rule");
    f.label("found").mov("a0", "s0").ret();
    f.label("none").mov("a0", 0).ret();
  });

  const runtimeUsers = auth && (features & FEATURE.runtimeUsers) !== 0;
  // access_start(envp): at start-up, before the workers are forked
  if (auth) {
    // no_memory(): a mapping failed at start-up
    p.rodata("no_memory_text", NO_MEMORY);
    p.func("no_memory", {}, (f) => {
      f.mov("a0", 2).addr("a1", "no_memory_text").mov("a2", NO_MEMORY.length).syscall("write");
      f.mov("a0", 1).syscall("exit_group");
    });
  }
  p.func("access_start", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a0").call("access_load");
    if (auth) f.call("auth_slots");
    if (runtimeUsers) f.mov("a0", "s0").call("auth_users");
    f.ret();
  });
  if (auth) emitAuth(p, ACCESS_ERR[401]);
  if (runtimeUsers) emitRuntimeUsers(p);

  if (trusted || auth) emitRequestFields(p, shell);
  if (ip) emitPeerAddress(p, shell);
  if (ip) emitCidr(p);
  if (trusted) emitClientAddress(p);

  p.func("access_check", { saves: ["s0", "s1"] }, (f) => {
    f.addr("s1", "access_state");
    if (ip) {
      f.mov("a0", KIND.ip).call("first_rule").br("eq", "a0", 0, "auth").mov("s0", "a0").call("peer_address");
      if (trusted) {
        // behind trusted proxies the client is read from X-Forwarded-For (docs/access.md)
        f.load(8, "a0", { base: "s1", offset: A.section }).load(4, "a3", { base: "a0", offset: 12 });
        f.br("eq", "a3", 0, "judge").call("request_fields");
        f.load(8, "a2", { base: "s1", offset: A.rules })
          .load(8, "a1", { base: "s1", offset: A.ruleCount })
          .mul("a1", "a1", RULE_BYTES)
          .add("a2", "a2", "a1");
        f.load(8, "a0", { base: "s1", offset: A.section }).load(4, "a3", { base: "a0", offset: 12 });
        f.add("a0", "s1", A.xff).load(8, "a1", { base: "s1", offset: A.xffLength }).add("a4", "s1", A.client);
        f.call("client_address");
        f.label("judge");
      }
      f.load(4, "a0", { base: "s0", offset: 24 }).load(8, "a1", { base: "s1", offset: A.section });
      f.add("a0", "a0", "a1").load(4, "a1", { base: "s0", offset: 4 }).add("a2", "s1", A.client);
      f.call("ip_allowed").br("ne", "a0", 0, "auth").mov("a0", ACCESS_ERR[403]).ret();
    }
    f.label("auth");
    if (auth) f.call("auth_check").br("ge", "a0", 0, "refused");
    if (proxy) f.mov("a0", KIND.proxy).call("first_rule").br("ne", "a0", 0, "refused");
    f.mov("a0", -1);
    f.label("refused").ret();
  });
}

/** Emits `peer_address()`: the connection's peer into A.client (all zero when it has gone). */
function emitPeerAddress(p: ProgramBuilder, shell: ShellInterface): void {
  p.func("peer_address", {}, (f) => {
    f.addr("a3", "access_state").store(8, 0, { base: "a3", offset: A.client });
    f.store(8, 0, { base: "a3", offset: A.client + 8 });
    f.load(8, "a0", { base: "s4", offset: S.fd }).add("a1", "s5", shell.sockaddr).add("a2", "a1", 28);
    f.store(4, 28, "a2").syscall("getpeername").br("ne", "a0", 0, "done");
    f.load(2, "a0", "a1").br("eq", "a0", AF_INET, "v4").br("ne", "a0", AF_INET6, "done");
    f.load(8, "a0", { base: "a1", offset: 8 }).store(8, "a0", { base: "a3", offset: A.client });
    f.load(8, "a0", { base: "a1", offset: 16 })
      .store(8, "a0", { base: "a3", offset: A.client + 8 })
      .ret();
    f.label("v4").store(2, 0xffff, { base: "a3", offset: A.client + 10 });
    f.load(4, "a0", { base: "a1", offset: 4 }).store(4, "a0", { base: "a3", offset: A.client + 12 });
    f.label("done").ret();
  });
}

/**
 * Emits `request_fields()`: walks the header lines of the request being answered (from R.line; the
 * parser has accepted them) and sets A.authCount, A.authValue and A.authLength from its
 * Authorization fields, and A.xff from its X-Forwarded-For values joined with ",". Values are
 * trimmed of spaces and tabs as the parser trims them.
 */
function emitRequestFields(p: ProgramBuilder, shell: ShellInterface): void {
  // the names looked for, each after its length: index 0 Authorization, 1 X-Forwarded-For
  p.rodata("access_fields", "\x0dauthorization\x0fx-forwarded-for\0");
  // s0 line, s1 name end then value start, s2 value end, s3 the access state
  p.func("request_fields", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.addr("s3", "access_state").store(8, 0, { base: "s3", offset: A.authCount });
    f.store(8, 0, { base: "s3", offset: A.xffLength });
    f.load(8, "s0", { base: "s5", offset: shell.response + shell.R.line });
    f.label("request").load(1, "a0", "s0").add("s0", "s0", 1).br("ne", "a0", 10, "request");
    f.label("line").load(2, "a0", "s0").br("eq", "a0", 0x0a0d, "done").mov("s1", "s0");
    f.label("name").load(1, "a0", "s1").add("s1", "s1", 1).br("ne", "a0", 58, "name");
    f.label("ows").load(1, "a0", "s1").br("eq", "a0", 32, "skip").br("ne", "a0", 9, "value");
    f.label("skip").add("s1", "s1", 1).jmp("ows");
    f.label("value").mov("s2", "s1");
    f.label("cr").load(1, "a0", "s2").br("eq", "a0", 13, "trim").add("s2", "s2", 1).jmp("cr");
    f.label("trim").mov("a5", "s2");
    f.label("back").br("eq", "a5", "s1", "trimmed").load(1, "a0", { base: "a5", offset: -1 });
    f.br("eq", "a0", 32, "drop").br("ne", "a0", 9, "trimmed");
    f.label("drop").sub("a5", "a5", 1).jmp("back");
    // s0 the name, s1 the value, a5 its end; the name (letters folded to lower case) in the list?
    f.label("trimmed").addr("a1", "access_fields").mov("a4", 0);
    f.label("field").load(1, "a2", "a1").br("eq", "a2", 0, "next").add("a3", "s0", "a2");
    f.load(1, "a3", "a3").br("ne", "a3", 58, "other");
    f.label("compare").load(1, "a3", { base: "s0", index: "a2", offset: -1 }).or("a3", "a3", 0x20);
    f.load(1, "a0", { base: "a1", index: "a2" }).br("ne", "a3", "a0", "other").sub("a2", "a2", 1);
    f.br("ne", "a2", 0, "compare").br("ne", "a4", 0, "forwarded");
    f.load(8, "a0", { base: "s3", offset: A.authCount }).add("a0", "a0", 1);
    f.store(8, "a0", { base: "s3", offset: A.authCount }).store(8, "s1", { base: "s3", offset: A.authValue });
    f.sub("a0", "a5", "s1").store(8, "a0", { base: "s3", offset: A.authLength }).jmp("next");
    f.label("other")
      .load(1, "a2", "a1")
      .add("a1", "a1", "a2")
      .add("a1", "a1", 1)
      .add("a4", "a4", 1)
      .jmp("field");
    f.label("next").add("s0", "s2", 2).jmp("line");
    // X-Forwarded-For: append "," (after the first) and the value
    f.label("forwarded").load(8, "a1", { base: "s3", offset: A.xffLength }).add("a2", "s3", A.xff);
    f.br("eq", "a1", 0, "copy").store(1, 44, { base: "a2", index: "a1" }).add("a1", "a1", 1);
    f.label("copy")
      .br("geu", "s1", "a5", "copied")
      .load(1, "a0", "s1")
      .store(1, "a0", { base: "a2", index: "a1" });
    f.add("s1", "s1", 1).add("a1", "a1", 1).jmp("copy");
    f.label("copied").store(8, "a1", { base: "s3", offset: A.xffLength }).jmp("next");
    f.label("done").ret();
  });
}
