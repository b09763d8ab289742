// Sockets in the IR: the listener (IPv6 dual-stack on [::], falling back to 0.0.0.0 where IPv6 is
// unavailable; SO_REUSEPORT so every worker has its own; TCP_NODELAY inherited by connections)
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

/** Emits `open_listener()`: a listening socket fd on G.port, or a negative errno. */
export function emitListener(p: ProgramBuilder): void {
  if (p.has("open_listener")) return;
  emitGlobals(p);
  p.rodata("int_one", new Uint8Array([1, 0, 0, 0]), 4);
  p.rodata("int_zero", new Uint8Array(4), 4);
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
    f.mov("s0", "a0").br("lt", "s0", 0, "next");
    f.mov("a1", SOL_SOCKET).mov("a2", SO_REUSEADDR).addr("a3", "int_one").call("set_flag");
    f.mov("a0", "s0").mov("a1", SOL_SOCKET).mov("a2", SO_REUSEPORT).addr("a3", "int_one").call("set_flag");
    f.mov("a0", "s0").mov("a1", IPPROTO_TCP).mov("a2", TCP_NODELAY).addr("a3", "int_one").call("set_flag");
    // sockaddr: family, port in network order, then the wildcard address (zeros)
    f.add("a1", "s5", G.sockaddr)
      .store(8, 0, { base: "a1", offset: 8 })
      .store(8, 0, { base: "a1", offset: 16 });
    f.store(8, 0, { base: "a1", offset: 24 }).store(2, "s1", "a1");
    f.load(8, "a2", { base: "s5", offset: G.port })
      .shr("a3", "a2", 8)
      .and("a2", "a2", 0xff)
      .shl("a2", "a2", 8)
      .or("a2", "a2", "a3");
    f.store(2, "a2", { base: "a1", offset: 2 }).store(4, 0, { base: "a1", offset: 4 });
    f.br("ne", "s1", AF_INET6, "bind");
    f.mov("a0", "s0").mov("a1", IPPROTO_IPV6).mov("a2", IPV6_V6ONLY).addr("a3", "int_zero").call("set_flag");
    f.add("a1", "s5", G.sockaddr);
    f.label("bind").mov("a0", "s0").mov("a2", 28).syscall("bind").br("ne", "a0", 0, "retry");
    f.mov("a0", "s0").mov("a1", BACKLOG).syscall("listen").br("ne", "a0", 0, "retry");
    f.mov("a0", "s0").ret();
    f.label("retry").mov("a0", "s0").syscall("close");
    f.label("next").br("ne", "s1", AF_INET6, "fail").mov("s1", AF_INET).jmp("family");
    f.label("fail").mov("a0", -1).ret();
  });
}
