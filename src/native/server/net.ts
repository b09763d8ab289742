// Sockets in the IR: the listener (IPv6 dual-stack on [::] or SPECK_ADDR, falling back to IPv4 where
// IPv6 is unavailable; SO_REUSEPORT so every worker has its own; TCP_NODELAY inherited by connections)
// and the accept loop that registers new connections with epoll.

import type { ProgramBuilder } from "../ir/builder.ts";
import { emitGlobals, G } from "./globals.ts";

export const AF_INET = 2;
export const AF_INET6 = 10;
const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_REUSEPORT = 15;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const BACKLOG = 4096;
export const EPOLLIN = 1;
export const EPOLLOUT = 4;
export const EPOLLRDHUP = 0x2000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EAGAIN = 11;

/**
 * Emits `sockaddr(family)` → a1: G.sockaddr filled for G.port and G.bindAddress in that family
 * (AF_INET takes the address's last four bytes, its IPv4-mapped part), a2: its length.
 */
function emitSockaddr(p: ProgramBuilder): void {
  p.func("sockaddr", {}, (f) => {
    f.add("a1", "s5", G.sockaddr).store(2, "a0", "a1").store(4, 0, { base: "a1", offset: 4 });
    // the port in network order: its low byte last
    f.load(8, "a2", { base: "s5", offset: G.port }).store(1, "a2", { base: "a1", offset: 3 });
    f.shr("a2", "a2", 8).store(1, "a2", { base: "a1", offset: 2 });
    f.add("a3", "s5", G.bindAddress).br("ne", "a0", AF_INET6, "v4");
    f.load(8, "a2", "a3").store(8, "a2", { base: "a1", offset: 8 });
    f.load(8, "a2", { base: "a3", offset: 8 }).store(8, "a2", { base: "a1", offset: 16 });
    f.store(4, 0, { base: "a1", offset: 24 }).mov("a2", 28).ret();
    f.label("v4").load(4, "a2", { base: "a3", offset: 12 }).store(4, "a2", { base: "a1", offset: 4 });
    f.mov("a2", 16).ret();
  });
}

/**
 * Emits `parse_bind_address(text)` → 0 with G.bindAddress set, or 1: an IPv4 dotted quad (stored as
 * ::ffff:a.b.c.d, which a dual-stack socket binds as IPv4) or an IPv6 address in RFC 4291 text
 * form with at most one "::" (without an embedded dotted quad).
 */
function emitParseAddress(p: ProgramBuilder): void {
  p.func("parse_bind_address", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a0").add("s2", "s5", G.bindAddress);
    // a '.' before the end means IPv4
    f.label("scan").load(1, "a1", "a0").add("a0", "a0", 1).br("eq", "a1", 46, "v4").br("ne", "a1", 0, "scan");
    f.mov("s1", 0).mov("a5", -1n).load(2, "a0", "s0").br("ne", "a0", 0x3a3a, "group");
    f.mov("a5", 0).add("s0", "s0", 2).load(1, "a0", "s0").br("eq", "a0", 0, "place");
    // one group: 1 to 4 hex digits, stored big-endian at s2 + 2 × s1
    f.label("group").mov("a0", 0).mov("a1", 0);
    f.label("hex").load(1, "a2", "s0").sub("a4", "a2", 48).br("ltu", "a4", 10, "digit");
    f.or("a3", "a2", 0x20).sub("a4", "a3", 87).sub("a3", "a4", 10).br("gtu", "a3", 5, "end");
    f.label("digit").shl("a0", "a0", 4).or("a0", "a0", "a4").add("a1", "a1", 1).add("s0", "s0", 1).jmp("hex");
    f.label("end").sub("a1", "a1", 1).br("gtu", "a1", 3, "bad").br("eq", "s1", 8, "bad");
    f.shl("a3", "s1", 1).add("a3", "a3", "s2").store(1, "a0", { base: "a3", offset: 1 }).shr("a0", "a0", 8);
    f.store(1, "a0", "a3").add("s1", "s1", 1).br("eq", "a2", 0, "place").br("ne", "a2", 58, "bad");
    f.add("s0", "s0", 1).load(1, "a2", "s0").br("ne", "a2", 58, "group");
    // "::": remember where the zeros go
    f.br("ne", "a5", -1n, "bad").mov("a5", "s1").add("s0", "s0", 1).load(1, "a2", "s0");
    f.br("ne", "a2", 0, "group");
    // move the groups after "::" to the end, zeros in between
    f.label("place").br("eq", "a5", -1n, "full").br("eq", "s1", 8, "bad");
    f.shl("a0", "s1", 1).mov("a1", 16).shl("a5", "a5", 1);
    f.label("move").br("eq", "a0", "a5", "zero").sub("a0", "a0", 1).sub("a1", "a1", 1);
    f.load(1, "a2", { base: "s2", index: "a0" }).store(1, "a2", { base: "s2", index: "a1" }).jmp("move");
    f.label("zero").br("eq", "a0", "a1", "ok").store(1, 0, { base: "s2", index: "a0" }).add("a0", "a0", 1);
    f.jmp("zero");
    f.label("full").br("ne", "s1", 8, "bad").jmp("ok");
    // IPv4: four decimal octets joined by '.'
    f.label("v4").store(4, 0xffff0000n, { base: "s2", offset: 8 }).add("s2", "s2", 12).mov("s1", 0);
    f.label("octet")
      .mov("a0", "s0")
      .call("parse_uint")
      .br("eq", "a1", "s0", "bad")
      .br("gtu", "a0", 255, "bad");
    f.store(1, "a0", { base: "s2", index: "s1" }).add("s1", "s1", 1).load(1, "a2", "a1").add("s0", "a1", 1);
    f.br("eq", "s1", 4, "last").br("eq", "a2", 46, "octet").jmp("bad");
    f.label("last").br("ne", "a2", 0, "bad");
    f.label("ok").mov("a0", 0).ret();
    f.label("bad").mov("a0", 1).ret();
  });
}

/**
 * Emits `open_listener()`: a listening socket fd on G.port and G.bindAddress, or the negative errno
 * of the last attempt (IPv4's when IPv6 failed too).
 */
export function emitListener(p: ProgramBuilder): void {
  if (p.has("open_listener")) return;
  emitGlobals(p);
  emitSockaddr(p);
  emitParseAddress(p);
  p.rodata("int_one", new Uint8Array([1, 0, 0, 0]), 4);
  // the listener's options (level, name, where its int value is from the entry), then the ints 1
  // and 0; the last, IPV6_V6ONLY = 0, only on IPv6 sockets
  const options = [
    [SOL_SOCKET, SO_REUSEADDR, 1],
    [SOL_SOCKET, SO_REUSEPORT, 1],
    [IPPROTO_TCP, TCP_NODELAY, 1],
    [IPPROTO_IPV6, IPV6_V6ONLY, 0],
  ];
  const ints = options.length * 3;
  p.rodata(
    "listen_options",
    Uint8Array.from([
      ...options.flatMap(([level, name, value], k) => [level!, name!, ints + (value ? 0 : 4) - 3 * k]),
      ...[1, 0, 0, 0, 0, 0, 0, 0],
    ]),
  );
  // set_flag(fd, level, name, value_address): setsockopt with a 4-byte int
  p.func("set_flag", {}, (f) => {
    f.mov("a4", 4).syscall("setsockopt").ret();
  });
  p.func("open_listener", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s1", AF_INET6);
    f.label("family");
    f.mov("a0", "s1")
      .mov("a1", SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)
      .mov("a2", 0)
      .syscall("socket");
    // a1 carries the latest errno to the end: syscalls keep it
    f.mov("s0", "a0").mov("a1", "a0").br("lt", "s0", 0, "next");
    // setsockopt for each listen option (a5, the entry, survives the syscalls)
    f.addr("a5", "listen_options");
    f.label("option").load(1, "a1", "a5").load(1, "a2", { base: "a5", offset: 1 });
    f.load(1, "a3", { base: "a5", offset: 2 }).add("a3", "a3", "a5");
    f.mov("a0", "s0").mov("a4", 4).syscall("setsockopt").add("a5", "a5", 3);
    f.addr("a0", "listen_options", 9).br("ltu", "a5", "a0", "option");
    f.br("ne", "s1", AF_INET6, "bind").addr("a0", "listen_options", 12).br("ltu", "a5", "a0", "option");
    f.label("bind")
      .mov("a0", "s1")
      .call("sockaddr")
      .mov("a0", "s0")
      .syscall("bind")
      .br("ne", "a0", 0, "retry");
    f.mov("a0", "s0").mov("a1", BACKLOG).syscall("listen").br("ne", "a0", 0, "retry");
    f.mov("a0", "s0").ret();
    f.label("retry").mov("a1", "a0").mov("a0", "s0").syscall("close");
    f.label("next").br("ne", "s1", AF_INET6, "fail").mov("s1", AF_INET).jmp("family");
    f.label("fail").mov("a0", "a1").ret();
  });
}
