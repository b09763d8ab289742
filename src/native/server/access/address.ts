// IP address text to the 16-byte form of the access section (IPv4 as ::ffff:a.b.c.d), in the IR,
// accepting exactly what src/access/cidr.ts's parseAddress accepts: dotted quads without leading
// zeros, IPv6 groups of 1 to 4 hex digits with at most one "::" and an optional dotted quad at the
// end. `client_address` walks X-Forwarded-For behind trusted proxies as src/access/rules.ts does.

import type { ProgramBuilder } from "../../ir/builder.ts";
import { emitCidr } from "./cidr.ts";

const NO_GAP = 99;

/** Emits `ipv4_text(ptr, end, out)` (4 bytes at out) and `parse_address(ptr, len, out)` (16 bytes); both return 1 or 0. */
export function emitParseAddress(p: ProgramBuilder): void {
  if (p.has("parse_address")) return;
  // a3 part, a4 value, a5 digits, s0 character; the text must end with the fourth part
  p.func("ipv4_text", { saves: ["s0"] }, (f) => {
    const [part, digit, partEnd, no] = ["part", "digit", "partEnd", "no"].map((l) => f.newLabel(l)) as [
      string,
      string,
      string,
      string,
    ];
    f.mov("a3", 0);
    f.label(part).mov("a4", 0).mov("a5", 0);
    f.label(digit)
      .br("geu", "a0", "a1", partEnd)
      .load(1, "s0", "a0")
      .sub("s0", "s0", 48)
      .br("gtu", "s0", 9, partEnd);
    f.br("eq", "a5", 3, no).br("eq", "a5", 0, `${digit}first`).br("eq", "a4", 0, no); // no leading zeros
    f.label(`${digit}first`)
      .mul("a4", "a4", 10)
      .add("a4", "a4", "s0")
      .add("a5", "a5", 1)
      .add("a0", "a0", 1)
      .jmp(digit);
    f.label(partEnd).br("eq", "a5", 0, no).br("gtu", "a4", 255, no);
    f.add("s0", "a2", "a3").store(1, "a4", "s0").add("a3", "a3", 1);
    f.br("ne", "a3", 4, `${partEnd}dot`).br("ne", "a0", "a1", no).mov("a0", 1).ret();
    f.label(`${partEnd}dot`).br("geu", "a0", "a1", no).load(1, "s0", "a0").br("ne", "s0", 46, no);
    f.add("a0", "a0", 1).jmp(part);
    f.label(no).mov("a0", 0).ret();
  });

  // s0 text, s1 end, s2 out, s3 groups so far, s4 where "::" stood (NO_GAP if nowhere), s5 token start
  p.func("parse_address", { saves: ["s0", "s1", "s2", "s3", "s4", "s5"] }, (f) => {
    const L = Object.fromEntries(
      ["scan", "v6", "token", "hex", "tokenEnd", "group", "colon", "finish", "move", "no"].map((l) => [
        l,
        f.newLabel(l),
      ]),
    ) as Record<string, string>;
    f.mov("s0", "a0").add("s1", "a0", "a1").mov("s2", "a2");
    f.store(8, 0, "s2").store(8, 0, { base: "s2", offset: 8 });
    f.mov("a0", "s0");
    f.label(L.scan!).br("geu", "a0", "s1", `${L.scan}v4`).load(1, "a1", "a0").br("eq", "a1", 58, L.v6!);
    f.add("a0", "a0", 1).jmp(L.scan!);
    f.label(`${L.scan}v4`).store(2, 0xffff, { base: "s2", offset: 10 });
    f.mov("a0", "s0").mov("a1", "s1").add("a2", "s2", 12).call("ipv4_text").ret();
    // IPv6: a leading "::" opens the gap at group 0
    f.label(L.v6!).mov("s3", 0).mov("s4", NO_GAP);
    f.load(1, "a1", "s0").br("ne", "a1", 58, L.token!);
    f.add("a1", "s0", 1).br("geu", "a1", "s1", L.no!).load(1, "a1", "a1").br("ne", "a1", 58, L.no!);
    f.mov("s4", 0).add("s0", "s0", 2).br("eq", "s0", "s1", L.finish!);
    // a token: hex digits (a3 value, a4 count), or a dotted quad ending the text
    f.label(L.token!).mov("s5", "s0").mov("a3", 0).mov("a4", 0);
    f.label(L.hex!).br("geu", "s0", "s1", L.tokenEnd!).load(1, "a1", "s0");
    f.sub("a2", "a1", 48).br("ltu", "a2", 10, `${L.hex}digit`);
    f.or("a2", "a1", 0x20).sub("a2", "a2", 87).sub("a5", "a2", 10).br("gtu", "a5", 5, L.tokenEnd!);
    f.label(`${L.hex}digit`)
      .br("eq", "a4", 4, L.no!)
      .shl("a3", "a3", 4)
      .or("a3", "a3", "a2")
      .add("a4", "a4", 1);
    f.add("s0", "s0", 1).jmp(L.hex!);
    f.label(L.tokenEnd!).br("geu", "s0", "s1", L.group!).load(1, "a1", "s0").br("ne", "a1", 46, L.group!);
    f.br("gtu", "s3", 6, L.no!).mov("a0", "s5").mov("a1", "s1").shl("a2", "s3", 1).add("a2", "a2", "s2");
    f.call("ipv4_text").br("eq", "a0", 0, L.no!).add("s3", "s3", 2).jmp(L.finish!);
    // a group, big-endian at out + 2 * s3
    f.label(L.group!).br("eq", "a4", 0, L.no!).br("eq", "s3", 8, L.no!);
    f.shl("a2", "s3", 1)
      .add("a2", "a2", "s2")
      .shr("a5", "a3", 8)
      .store(1, "a5", "a2")
      .store(1, "a3", { base: "a2", offset: 1 });
    f.add("s3", "s3", 1).br("eq", "s0", "s1", L.finish!);
    f.load(1, "a1", "s0").br("ne", "a1", 58, L.no!).add("s0", "s0", 1);
    f.label(L.colon!).br("geu", "s0", "s1", L.no!).load(1, "a1", "s0").br("ne", "a1", 58, L.token!);
    f.br("ne", "s4", NO_GAP, L.no!)
      .mov("s4", "s3")
      .add("s0", "s0", 1)
      .br("eq", "s0", "s1", L.finish!)
      .jmp(L.token!);
    // without "::" the groups fill all 16 bytes; with it, the groups after it move to the end
    f.label(L.finish!).br("ne", "s4", NO_GAP, `${L.finish}gap`).br("ne", "s3", 8, L.no!).mov("a0", 1).ret();
    f.label(`${L.finish}gap`).br("gtu", "s3", 7, L.no!);
    f.sub("a3", "s3", "s4").shl("a3", "a3", 1); // bytes to move
    f.shl("a4", "s4", 1).add("a4", "a4", "s2"); // from
    f.add("a5", "s2", 16).sub("a5", "a5", "a3"); // to
    f.label(L.move!).br("eq", "a3", 0, `${L.move}done`).sub("a3", "a3", 1);
    f.load(1, "a1", { base: "a4", index: "a3" })
      .store(1, 0, { base: "a4", index: "a3" })
      .store(1, "a1", { base: "a5", index: "a3" });
    f.jmp(L.move!);
    f.label(`${L.move}done`).mov("a0", 1).ret();
    f.label(L.no!).mov("a0", 0).ret();
  });
}

/**
 * Emits `client_address(xff, len, trusted, count, address)`: `address` holds the peer (16 bytes);
 * while it lies in one of the `count` trusted CIDR entries, it is replaced by the X-Forwarded-For
 * entry before it, from the right; empty entries are skipped, a malformed one ends the walk.
 */
export function emitClientAddress(p: ProgramBuilder): void {
  if (p.has("client_address")) return;
  emitCidr(p);
  emitParseAddress(p);
  p.bss("hop_address", 16, 8);
  // s0 text start, s1 end of what is left, s2 trusted, s3 count, s4 the address, s5 the hop's start
  p.func("client_address", { saves: ["s0", "s1", "s2", "s3", "s4", "s5"] }, (f) => {
    const [walk, hop, back, trim, trimEnd, done] = ["walk", "hop", "back", "trim", "trimEnd", "done"].map(
      (l) => f.newLabel(l),
    ) as [string, string, string, string, string, string];
    f.mov("s0", "a0").add("s1", "a0", "a1").mov("s2", "a2").mov("s3", "a3").mov("s4", "a4");
    f.label(walk).mov("a0", "s2").mov("a1", "s3").mov("a2", "s4").call("cidr_any").br("eq", "a0", 0, done);
    // the entry before s1: back to the previous comma (or the start)
    f.label(hop).br("leu", "s1", "s0", done).mov("s5", "s1");
    f.label(back).br("leu", "s5", "s0", `${back}end`).load(1, "a0", { base: "s5", offset: -1 });
    f.br("eq", "a0", 44, `${back}end`).sub("s5", "s5", 1).jmp(back);
    f.label(`${back}end`).mov("a1", "s5").mov("a2", "s1");
    f.sub("s1", "s5", 1).br("gtu", "s5", "s0", trim).mov("s1", "s0");
    // spaces and tabs around the entry
    f.label(trim).br("geu", "a1", "a2", trimEnd).load(1, "a0", "a1").br("eq", "a0", 32, `${trim}skip`);
    f.br("ne", "a0", 9, trimEnd);
    f.label(`${trim}skip`).add("a1", "a1", 1).jmp(trim);
    f.label(trimEnd).br("leu", "a2", "a1", `${trimEnd}done`).load(1, "a0", { base: "a2", offset: -1 });
    f.br("eq", "a0", 32, `${trimEnd}skip`).br("ne", "a0", 9, `${trimEnd}done`);
    f.label(`${trimEnd}skip`).sub("a2", "a2", 1).jmp(trimEnd);
    f.label(`${trimEnd}done`).br("eq", "a1", "a2", hop); // empty: the one before
    f.mov("a0", "a1")
      .sub("a1", "a2", "a1")
      .addr("a2", "hop_address")
      .call("parse_address")
      .br("eq", "a0", 0, done);
    f.addr("a0", "hop_address").load(8, "a1", "a0").store(8, "a1", "s4");
    f.load(8, "a1", { base: "a0", offset: 8 }).store(8, "a1", { base: "s4", offset: 8 }).jmp(walk);
    f.label(done).ret();
  });
}
