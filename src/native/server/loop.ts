// The worker's event loop in the IR: a level-triggered epoll loop over non-blocking sockets, a fixed
// connection table indexed by fd, input buffering only for requests that arrive in pieces, output
// that resumes under EPOLLOUT after a short write, idle and header time-outs swept once a second,
// and a drain on SIGTERM. The HTTP layer plugs in as `http_input` (see emitLoop).

import type { FuncBuilder, ProgramBuilder } from "../ir/builder.ts";
import { MAP_LAZY_ANONYMOUS, PROT_READ_WRITE } from "../target/mman.ts";
import type { Target } from "../target/types.ts";
import { emitFormatDate } from "./date.ts";
import { DATE_LINE, emitGlobals, G } from "./globals.ts";
import {
  EAGAIN,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
} from "./net.ts";

/** Connections per worker (fds at or above this are refused at once). */
export const MAX_FD = 16384;
/** Per-connection buffer for a request head that arrives in pieces (the 8 KiB head limit). */
export const INBUF = 8192;
/** How long a connection may wait: for the rest of a request head, idle between requests, and for a
 * client to take more of a response (each write that makes progress restarts this clock). */
export interface Timeouts {
  headerSeconds: number;
  idleSeconds: number;
  sendSeconds: number;
}
export const DEFAULT_TIMEOUTS: Timeouts = { headerSeconds: 10, idleSeconds: 75, sendSeconds: 30 };
const EVENTS = 64;
const SHUT_WR = 1;
const EMFILE = 24;
const ENFILE = 23;
const CLOCK_REALTIME_COARSE = 5;
/** ioctl: bytes in a socket's send queue not yet acknowledged. */
const SIOCOUTQ = 0x5411;

/** Connection entry: 64 bytes at conns + fd * 64; from headPtr on, three iovecs (head, dynamic, body). */
export const C = {
  deadline: 0,
  flags: 4,
  buffered: 6,
  discard: 8,
  /** Bytes of the response not yet delivered at the last send time-out, modulo 2^32 (see sweep). */
  unsent: 12,
  headPtr: 16,
  headLen: 24,
  dynPtr: 32,
  dynLen: 40,
  bodyPtr: 48,
  bodyLen: 56,
  size: 64,
} as const;

/** The response descriptor the HTTP layer fills in globals (G.response) before calling send(fd). */
export const R = {
  head: 0,
  headLen: 8,
  dyn: 16,
  dynLen: 24,
  body: 32,
  bodyLen: 40,
  close: 48,
  /** Where the request head being answered starts, or 0: the access log shows its first line. */
  line: 56,
} as const;
/** Bytes of dynamic header data one response may carry (staged per connection on a short write). */
export const OUTBUF = 36 * 1024;
export const OPEN = 1;
export const WRITING = 2;
export const CLOSE_AFTER = 4;
/** Bytes of a request head have arrived (its header time-out runs). */
const HEAD_STARTED = 8;
/** Connection flags of proxy builds: a client whose request is being proxied, an upstream socket. */
export const PROXYING = 16;
export const PEER = 32;

/**
 * Emits the loop. The program must define:
 * - `http_input(fd, ptr, len)`: handles the requests at ptr; returns the bytes it consumed, and
 *   calls `send(fd, head, headLen, body, bodyLen, close)` for each response; stops after a `send`
 *   that returned 1 (output pending).
 * - `http_timeout(fd)`: answers 408 to a connection whose request head did not arrive in time.
 */
const TABLES = MAX_FD * (C.size + INBUF + OUTBUF);

/**
 * Emits the advance of the iovecs from a1 to a5 past the a0 bytes a writev wrote: each shrinks by
 * what it gave, and a4 (zero before) ends non-zero when any part is left. Uses the labels "part"
 * and "fits"; clobbers a0 to a3.
 */
export function advanceIovecs(f: FuncBuilder): void {
  f.label("part").load(8, "a2", { base: "a1", offset: 8 }).mov("a3", "a0").br("leu", "a3", "a2", "fits");
  f.mov("a3", "a2");
  f.label("fits").sub("a2", "a2", "a3").store(8, "a2", { base: "a1", offset: 8 }).or("a4", "a4", "a2");
  f.load(8, "a2", "a1").add("a2", "a2", "a3").store(8, "a2", "a1").sub("a0", "a0", "a3").add("a1", "a1", 16);
  f.br("ne", "a1", "a5", "part");
}

/**
 * With `proxy`, the loop hands the events of proxying clients and upstream sockets to
 * `proxy_event(fd, events)`, keeps the time in milliseconds, and calls `proxy_sweep()` when the
 * earliest exchange may have timed out (G.proxyWake).
 */
export function emitLoop(
  p: ProgramBuilder,
  target: Target,
  timeouts: Timeouts = DEFAULT_TIMEOUTS,
  proxy = false,
): void {
  if (p.has("serve")) return;
  emitGlobals(p);
  emitFormatDate(p);
  const event = target.layouts.epollEvent;
  p.bss("scratch", INBUF, 64);
  p.bss("events", EVENTS * event.size, 16);

  // map_tables() → 0, or a negative errno: the connection table and per-connection buffers, in one
  // lazily backed mapping (an idle connection touches only its 64-byte entry)
  p.func("map_tables", {}, (f) => {
    f.mov("a0", 0)
      .mov("a1", TABLES)
      .mov("a2", PROT_READ_WRITE)
      .mov("a3", MAP_LAZY_ANONYMOUS)
      .mov("a4", -1n)
      .mov("a5", 0);
    f.syscall("mmap").br("gtu", "a0", -4096n, "fail");
    f.store(8, "a0", { base: "s5", offset: G.conns })
      .add("a0", "a0", MAX_FD * C.size)
      .store(8, "a0", { base: "s5", offset: G.inbufs });
    f.add("a0", "a0", MAX_FD * INBUF)
      .store(8, "a0", { base: "s5", offset: G.outbufs })
      .mov("a0", 0);
    f.label("fail").ret();
  });

  // entry(fd) → address of the connection entry
  p.func("entry", {}, (f) => {
    f.shl("a0", "a0", 6).load(8, "a1", { base: "s5", offset: G.conns }).add("a0", "a0", "a1").ret();
  });

  // set_deadline(entry, seconds): the entry's deadline, that many seconds from now
  p.func("set_deadline", {}, (f) => {
    f.load(8, "a2", { base: "s5", offset: G.now })
      .add("a2", "a2", "a1")
      .store(4, "a2", { base: "a0", offset: C.deadline });
    f.ret();
  });

  // watch(fd, events, op): epoll_ctl with data = fd
  p.func("watch", {}, (f) => {
    f.add("a3", "s5", G.event)
      .store(4, "a1", { base: "a3", offset: event.events })
      .store(8, "a0", { base: "a3", offset: event.data });
    f.mov("a1", "a2")
      .mov("a2", "a0")
      .load(8, "a0", { base: "s5", offset: G.epollFd })
      .syscall("epoll_ctl")
      .ret();
  });

  // close_conn(fd): forget the entry and close the socket. The response (if any) goes out first:
  // shutdown sends FIN, and input still queued is read away, since closing a socket with unread
  // input makes the kernel send RST, which can destroy the response before the client reads it.
  p.func("close_conn", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a0").mov("a1", SHUT_WR).syscall("shutdown");
    f.label("drain")
      .mov("a0", "s0")
      .addr("a1", "scratch")
      .mov("a2", INBUF)
      .syscall("read")
      .br("gt", "a0", 0, "drain");
    f.mov("a0", "s0");
    f.mov("s0", "a0")
      .call("entry")
      .store(4, 0, { base: "a0", offset: C.flags })
      .store(8, 0, { base: "a0", offset: C.discard });
    f.load(8, "a1", { base: "s5", offset: G.openConnections })
      .sub("a1", "a1", 1)
      .store(8, "a1", { base: "s5", offset: G.openConnections });
    f.mov("a0", "s0").syscall("close").ret();
  });

  // accept_all(): accept until EAGAIN; refuse fds beyond the table
  p.func("accept_all", { saves: ["s0"] }, (f) => {
    f.label("next");
    f.load(8, "a0", { base: "s5", offset: G.listenFd })
      .mov("a1", 0)
      .mov("a2", 0)
      .mov("a3", SOCK_NONBLOCK | SOCK_CLOEXEC)
      .syscall("accept4");
    f.br("lt", "a0", 0, "done").mov("s0", "a0").br("geu", "s0", MAX_FD, "refuse");
    f.call("entry")
      .store(1, OPEN, { base: "a0", offset: C.flags })
      .load(8, "a1", { base: "s5", offset: G.idleSeconds })
      .call("set_deadline");
    f.load(8, "a1", { base: "s5", offset: G.openConnections })
      .add("a1", "a1", 1)
      .store(8, "a1", { base: "s5", offset: G.openConnections });
    f.mov("a0", "s0")
      .mov("a1", EPOLLIN | EPOLLRDHUP)
      .mov("a2", EPOLL_CTL_ADD)
      .call("watch")
      .jmp("next");
    f.label("refuse").mov("a0", "s0").syscall("close").jmp("next");
    // out of descriptors (EMFILE/ENFILE): stop watching the listener for a second instead of spinning
    f.label("done").br("eq", "a0", -EMFILE, "pause").br("ne", "a0", -ENFILE, "out");
    f.label("pause")
      .load(8, "a0", { base: "s5", offset: G.listenFd })
      .mov("a1", 0)
      .mov("a2", EPOLL_CTL_DEL)
      .call("watch");
    f.load(8, "a0", { base: "s5", offset: G.now })
      .add("a0", "a0", 1)
      .store(8, "a0", { base: "s5", offset: G.acceptPaused });
    f.label("out").ret();
  });

  // send(fd): writes the response described by G.response (head, dynamic bytes, body, close);
  // returns 0 when all was written, 1 when output is pending. Dynamic bytes that could not be
  // written are copied to the connection's staging area, since the scratch is reused.
  p.func("send", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0")
      .load(8, "a1", { base: "s5", offset: G.log })
      .br("eq", "a1", 0, "logged")
      .call("log_request");
    f.label("logged").mov("a0", "s0").call("entry").mov("s1", "a0");
    f.add("a0", "s5", G.response);
    f.load(8, "a1", { base: "a0", offset: R.close }).br("eq", "a1", 0, "keep");
    f.load(1, "a1", { base: "s1", offset: C.flags })
      .or("a1", "a1", CLOSE_AFTER)
      .store(1, "a1", { base: "s1", offset: C.flags });
    f.label("keep");
    // stage the three parts (head, dynamic bytes still in the shared scratch, body) in the entry:
    // R's first six words and the entry's from C.headPtr are both three iovecs
    f.mov("a2", 0);
    f.label("stage")
      .load(8, "a1", { base: "a0", index: "a2" })
      .store(8, "a1", { base: "s1", index: "a2", offset: C.headPtr });
    f.add("a2", "a2", 8).br("ltu", "a2", 48, "stage");
    f.mov("a0", "s0").call("flush").br("eq", "a0", 0, "done");
    // pending: move the unwritten dynamic bytes out of the scratch
    f.load(8, "a2", { base: "s1", offset: C.dynLen }).br("eq", "a2", 0, "pending");
    f.load(8, "a1", { base: "s1", offset: C.dynPtr })
      .mul("a3", "s0", OUTBUF)
      .load(8, "a4", { base: "s5", offset: G.outbufs })
      .add("a3", "a3", "a4");
    f.store(8, "a3", { base: "s1", offset: C.dynPtr });
    f.label("copy")
      .sub("a2", "a2", 1)
      .load(1, "a4", { base: "a1", index: "a2" })
      .store(1, "a4", { base: "a3", index: "a2" });
    f.br("ne", "a2", 0, "copy");
    f.label("pending").mov("a0", 1);
    f.label("done").ret();
  });

  // flush(fd) → 0 when the entry's pending output is all written (or the connection was closed), 1 when pending
  p.func("flush", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0").call("entry").mov("s1", "a0");
    // the entry's three (pointer, length) pairs are the iovecs of one writev
    f.label("again").mov("a0", "s0").add("a1", "s1", C.headPtr).mov("a2", 3).syscall("writev");
    f.br("lt", "a0", 0, "error");
    f.add("a1", "s1", C.headPtr).mov("a4", 0).add("a5", "s1", C.size);
    advanceIovecs(f);
    f.br("ne", "a4", 0, "again");
    // all written
    f.load(1, "a1", { base: "s1", offset: C.flags }).and("a2", "a1", CLOSE_AFTER).br("ne", "a2", 0, "close");
    f.and("a2", "a1", WRITING).br("eq", "a2", 0, "done");
    f.and("a1", "a1", ~WRITING & 0xff).store(1, "a1", { base: "s1", offset: C.flags });
    f.mov("a0", "s0")
      .mov("a1", EPOLLIN | EPOLLRDHUP)
      .mov("a2", EPOLL_CTL_MOD)
      .call("watch");
    f.mov("a0", "s1").load(8, "a1", { base: "s5", offset: G.idleSeconds }).call("set_deadline");
    f.label("done").mov("a0", 0).ret();
    // the socket is full: the client has sendSeconds to take more
    f.label("error").br("ne", "a0", -EAGAIN, "close");
    f.mov("a0", "s1").mov("a1", timeouts.sendSeconds).call("set_deadline");
    // the socket is full: wait for EPOLLOUT (once)
    f.load(1, "a1", { base: "s1", offset: C.flags }).and("a2", "a1", WRITING).br("ne", "a2", 0, "pending");
    f.or("a1", "a1", WRITING).store(1, "a1", { base: "s1", offset: C.flags });
    f.mov("a0", "s0")
      .mov("a1", EPOLLOUT | EPOLLRDHUP)
      .mov("a2", EPOLL_CTL_MOD)
      .call("watch");
    f.label("pending").mov("a0", 1).ret();
    f.label("close").mov("a0", "s0").call("close_conn").mov("a0", 0).ret();
  });

  // readable(fd): read, hand complete requests to http_input, keep what remains
  // readable(fd, read?): with read = 0, only answers what is already buffered
  p.func("readable", { frame: 16, saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.store(8, "a1", { base: "sp", offset: 8 }).mov("s0", "a0").call("entry").mov("s1", "a0");
    f.load(2, "s2", { base: "s1", offset: C.buffered });
    f.shl("s3", "s0", 13).load(8, "a1", { base: "s5", offset: G.inbufs }).add("s3", "s3", "a1"); // s3: this connection's buffer
    f.br("ne", "s2", 0, "append");
    f.addr("a1", "scratch").mov("a2", INBUF).jmp("read");
    f.label("append").add("a1", "s3", "s2").mov("a2", INBUF).sub("a2", "a2", "s2");
    f.label("read").load(8, "a0", { base: "sp", offset: 8 }).br("ne", "a0", 0, "do_read");
    f.mov("a1", "s3").jmp("parse");
    f.label("do_read").mov("a0", "s0").syscall("read");
    f.br("eq", "a0", -EAGAIN, "done").br("le", "a0", 0, "close");
    // s2: bytes available; a1: where they start
    f.add("s2", "s2", "a0").br("eq", "s2", "a0", "fresh").mov("a1", "s3").jmp("parse");
    f.label("fresh").addr("a1", "scratch");
    f.label("parse").store(8, "a1", { base: "sp", offset: 0 });
    f.add("a0", "a1", "s2").store(8, "a0", { base: "s5", offset: G.inputEnd });
    f.mov("a0", "s0")
      .mov("a2", "s2")
      .call("http_input")
      .store(8, 0, { base: "s5", offset: G.response + R.line });
    // a0: bytes consumed; the connection may have been closed by send
    f.load(1, "a1", { base: "s1", offset: C.flags }).br("eq", "a1", 0, "done");
    f.sub("s2", "s2", "a0").store(2, "s2", { base: "s1", offset: C.buffered });
    f.br("eq", "s2", 0, "idle");
    // keep the rest at the front of the connection's buffer (memmove forwards)
    f.load(8, "a1", { base: "sp", offset: 0 }).add("a1", "a1", "a0").mov("a2", 0);
    f.label("copy").load(1, "a3", { base: "a1", index: "a2" }).store(1, "a3", { base: "s3", index: "a2" });
    f.add("a2", "a2", 1).br("ltu", "a2", "s2", "copy");
    f.load(1, "a1", { base: "s1", offset: C.flags }).and("a2", "a1", HEAD_STARTED).br("ne", "a2", 0, "done");
    f.or("a1", "a1", HEAD_STARTED).store(1, "a1", { base: "s1", offset: C.flags });
    f.mov("a0", "s1").mov("a1", timeouts.headerSeconds).call("set_deadline").jmp("done");
    f.label("idle")
      .load(1, "a1", { base: "s1", offset: C.flags })
      .and("a1", "a1", ~HEAD_STARTED & 0xff)
      .store(1, "a1", { base: "s1", offset: C.flags });
    f.mov("a0", "s1").load(8, "a1", { base: "s5", offset: G.idleSeconds }).call("set_deadline");
    f.label("done").ret();
    f.label("close").mov("a0", "s0").call("close_conn").ret();
  });

  // sweep(): close connections past their deadline (408 when a request head was started and no
  // response is pending), all idle ones once stopping, and while out of descriptors those idle for
  // a second or more (nothing of a head, nothing to write), as nginx reuses its idle connections:
  // idle clients cannot hold every descriptor until their time-out
  p.func("sweep", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", 0).load(8, "s1", { base: "s5", offset: G.conns });
    f.label("next").load(1, "a1", { base: "s1", offset: C.flags }).br("eq", "a1", 0, "skip");
    // exchanges time out by their own clock (proxy_sweep)
    if (proxy) f.and("a2", "a1", PROXYING | PEER).br("ne", "a2", 0, "skip");
    f.load(8, "a2", { base: "s5", offset: G.stop }).br("eq", "a2", 0, "pressure");
    f.and("a2", "a1", WRITING).br("eq", "a2", 0, "expire");
    // idle for a second or more: the idle deadline was set before this second
    f.label("pressure").load(8, "a2", { base: "s5", offset: G.acceptPaused }).br("eq", "a2", 0, "timer");
    f.and("a2", "a1", WRITING | HEAD_STARTED).br("ne", "a2", 0, "timer");
    f.load(4, "a2", { base: "s1", offset: C.deadline }).load(8, "a3", { base: "s5", offset: G.now });
    f.load(8, "a4", { base: "s5", offset: G.idleSeconds })
      .add("a3", "a3", "a4")
      .br("ltu", "a2", "a3", "drop");
    f.label("timer")
      .load(4, "a2", { base: "s1", offset: C.deadline })
      .load(8, "a3", { base: "s5", offset: G.now })
      .br("gtu", "a2", "a3", "skip");
    f.label("expire").and("a2", "a1", WRITING).br("eq", "a2", 0, "head");
    // a response in flight: cut it only if the kernel sent nothing of it since the last look (a slow
    // reader drains the socket without waking us: EPOLLOUT waits for a third of the buffer)
    f.mov("a0", "s0").mov("a1", SIOCOUTQ).add("a2", "s5", G.clock).syscall("ioctl");
    // bytes not yet delivered: the kernel's send queue plus what is still to be written
    f.load(4, "a0", { base: "s5", offset: G.clock });
    for (const length of [C.headLen, C.dynLen, C.bodyLen])
      f.load(4, "a2", { base: "s1", offset: length }).add("a0", "a0", "a2");
    f.and("a0", "a0", 0xffffffff).load(4, "a2", { base: "s1", offset: C.unsent });
    f.br("eq", "a0", "a2", "drop").store(4, "a0", { base: "s1", offset: C.unsent });
    f.mov("a0", "s1").mov("a1", timeouts.sendSeconds).call("set_deadline").jmp("skip");
    // a request head that stalled gets 408
    f.label("head").and("a2", "a1", HEAD_STARTED).br("eq", "a2", 0, "drop");
    f.mov("a0", "s0").call("http_timeout").jmp("skip");
    f.label("drop").mov("a0", "s0").call("close_conn");
    f.label("skip").add("s1", "s1", C.size).add("s0", "s0", 1).br("ltu", "s0", MAX_FD, "next");
    f.ret();
  });

  // serve(): the loop; returns when stopping and every connection is done
  p.func("serve", { frame: 16, saves: ["s0", "s1", "s2"] }, (f) => {
    f.load(8, "a0", { base: "s5", offset: G.listenFd })
      .mov("a1", EPOLLIN)
      .mov("a2", EPOLL_CTL_ADD)
      .call("watch");
    f.label("turn").mov("a3", 1000);
    if (proxy) {
      // wake up for the earliest exchange's time-out too
      f.load(8, "a0", { base: "s5", offset: G.proxyWake }).br("eq", "a0", 0, "wait");
      f.load(8, "a1", { base: "s5", offset: G.nowMs }).mov("a3", 0).br("leu", "a0", "a1", "wait");
      f.sub("a3", "a0", "a1").br("leu", "a3", 1000, "wait").mov("a3", 1000);
      f.label("wait");
    }
    f.load(8, "a0", { base: "s5", offset: G.epollFd })
      .addr("a1", "events")
      .mov("a2", EVENTS)
      .mov("a4", 0)
      .mov("a5", 8);
    f.syscall("epoll_pwait").mov("s0", "a0");
    f.mov("a0", CLOCK_REALTIME_COARSE).add("a1", "s5", G.clock).syscall("clock_gettime");
    if (proxy) {
      f.load(8, "a0", { base: "s5", offset: G.clock }).mul("a0", "a0", 1000);
      f.load(8, "a1", { base: "s5", offset: G.clock + 8 })
        .udiv("a1", "a1", 1_000_000)
        .add("a0", "a0", "a1");
      f.store(8, "a0", { base: "s5", offset: G.nowMs });
    }
    f.load(8, "a0", { base: "s5", offset: G.clock })
      .load(8, "a1", { base: "s5", offset: G.now })
      .store(8, 0, { base: "sp", offset: 8 });
    f.br("eq", "a0", "a1", "events");
    f.store(8, "a0", { base: "s5", offset: G.now })
      .addr("a1", DATE_LINE, 6)
      .call("fmt_date")
      .store(8, 1, { base: "sp", offset: 8 });
    f.label("events").br("le", "s0", 0, "after").mov("s1", 0);
    f.label("event").addr("a0", "events").mul("a1", "s1", event.size).add("a0", "a0", "a1");
    f.load(4, "a0", { base: "a0", offset: event.data });
    f.load(8, "a2", { base: "s5", offset: G.listenFd })
      .br("ne", "a0", "a2", "conn")
      .call("accept_all")
      .jmp("step");
    f.label("conn")
      .mov("s2", "a0")
      .call("entry")
      .load(1, "a1", { base: "a0", offset: C.flags })
      .br("eq", "a1", 0, "step");
    if (proxy) {
      f.and("a2", "a1", PROXYING | PEER).br("eq", "a2", 0, "site");
      f.addr("a0", "events").mul("a1", "s1", event.size).add("a0", "a0", "a1");
      f.load(4, "a1", { base: "a0", offset: event.events }).mov("a0", "s2").call("proxy_event").jmp("step");
      f.label("site");
    }
    f.and("a1", "a1", WRITING).br("eq", "a1", 0, "read");
    f.mov("a0", "s2").call("flush").br("ne", "a0", 0, "step");
    // written out: answer requests that were pipelined behind it, without reading
    f.mov("a0", "s2").call("entry").load(1, "a1", { base: "a0", offset: C.flags }).br("eq", "a1", 0, "step");
    f.load(2, "a1", { base: "a0", offset: C.buffered }).br("eq", "a1", 0, "step");
    f.mov("a0", "s2").mov("a1", 0).call("readable").jmp("step");
    f.label("read").mov("a0", "s2").mov("a1", 1).call("readable");
    f.label("step").add("s1", "s1", 1).br("lt", "s1", "s0", "event");
    f.label("after");
    if (proxy) {
      f.load(8, "a0", { base: "s5", offset: G.proxyWake }).br("eq", "a0", 0, "flush");
      f.load(8, "a1", { base: "s5", offset: G.nowMs }).br("gtu", "a0", "a1", "flush").call("proxy_sweep");
      f.label("flush");
    }
    f.call("log_flush");
    f.load(8, "a0", { base: "s5", offset: G.stop }).br("eq", "a0", 0, "tick");
    // stopping: no new connections; close idle ones; leave when none is left
    f.load(8, "a0", { base: "s5", offset: G.listenFd }).br("lt", "a0", 0, "drain");
    f.syscall("close").store(8, -1, { base: "s5", offset: G.listenFd }).call("sweep");
    f.label("drain").load(8, "a0", { base: "s5", offset: G.openConnections }).br("eq", "a0", 0, "leave");
    f.label("tick").load(8, "a0", { base: "sp", offset: 8 }).br("eq", "a0", 0, "turn").call("sweep");
    // resume accepting after an EMFILE/ENFILE pause
    f.load(8, "a1", { base: "s5", offset: G.acceptPaused }).br("eq", "a1", 0, "turn");
    f.load(8, "a0", { base: "s5", offset: G.now }).br("ltu", "a0", "a1", "turn");
    f.store(8, 0, { base: "s5", offset: G.acceptPaused }).load(8, "a0", { base: "s5", offset: G.listenFd });
    f.mov("a1", EPOLLIN).mov("a2", EPOLL_CTL_ADD).call("watch").jmp("turn");
    f.label("leave").ret();
  });
}
