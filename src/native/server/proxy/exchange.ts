// The reverse proxy's exchanges in the native server's epoll loop (docs/access.md, "The reverse
// proxy"): `proxy_request(rule)` starts one for the request the HTTP layer has parsed; the upstream
// is resolved (an IP literal, the cache, /etc/hosts, then DNS over UDP to resolv.conf's
// nameservers), connected without blocking, sent the request head and body, and its response
// streamed back with back-pressure both ways; `proxy_event(fd, events)` moves an exchange on and
// `proxy_sweep()` times them out. State: X at the client's staging area, the upload buffer at the
// upstream socket's input area, the download buffer at its staging area (layout.ts).

import type { ProgramBuilder } from "../../ir/builder.ts";
import { MAP_PRIVATE, PROT_READ } from "../../target/mman.ts";
import type { Target } from "../../target/types.ts";
import { emitParseAddress } from "../access/address.ts";
import { emitCidr } from "../access/cidr.ts";
import { ACCESS_ERR } from "../access/enforce.ts";
import { A } from "../access/state.ts";
import { AT_FDCWD, O_RDONLY_CLOEXEC } from "../files.ts";
import { G } from "../globals.ts";
import { ERR, PATH, S } from "../http/state.ts";
import { advanceIovecs, C, INBUF, MAX_FD, OUTBUF, PEER, PROXYING, R } from "../loop.ts";
import {
  EAGAIN,
  EPOLL_CTL_ADD,
  EPOLL_CTL_MOD,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
} from "../net.ts";
import { DOWNLOAD, LINE_MAX, MODE, PHASE, Q, RESPONSE_HEAD_MAX, RESPONSE_OUT, X, XF } from "./layout.ts";
import { emitAddressText, emitProxyHead } from "./request.ts";
import { ANSWER, emitResolverParsers, QTYPE_A, QTYPE_AAAA, RES } from "./resolve.ts";
import { emitChunkDecode, emitResponseHead, RI } from "./response.ts";

/** Where the resolver reads its files and sends its queries; tests point these elsewhere. */
export interface ResolverFiles {
  hosts: string;
  resolvConf: string;
  dnsPort: number;
}
export const RESOLVER_FILES: ResolverFiles = {
  hosts: "/etc/hosts",
  resolvConf: "/etc/resolv.conf",
  dnsPort: 53,
};

export interface ProxyOptions {
  resolver: ResolverFiles;
  /** The build believes trusted proxies (cidr_any is in the program). */
  trusted: boolean;
}

const EPOLLERR = 8;
const EPOLLHUP = 16;
const EINPROGRESS = 115;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const GRND_NONBLOCK = 1;
/** A DNS query not answered within this goes to the next server (ms). */
export const DNS_RETRY_MS = 1000;
/** Longest a resolved address is kept (seconds); a failed connect forgets it at once. */
export const CACHE_SECONDS = 10;
/** A connect to a cached address that takes longer resolves the name again (ms). */
export const CACHED_CONNECT_MS = 1000;
const CACHE_ENTRIES = 8;
const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
const LAST_CHUNK = "0\r\n\r\n";

/** Emits the proxy: `proxy_request`, `proxy_event`, `proxy_sweep` and what they need. */
export function emitProxy(p: ProgramBuilder, target: Target, options: ProxyOptions): void {
  if (p.has("proxy_request")) return;
  const { resolver } = options;
  emitProxyHead(p);
  emitAddressText(p);
  emitResponseHead(p, RESPONSE_HEAD_MAX);
  emitChunkDecode(p);
  emitResolverParsers(p);
  emitParseAddress(p);
  if (options.trusted) emitCidr(p);
  p.rodata("px_hosts", `${resolver.hosts}\0`);
  p.rodata("px_resolv", `${resolver.resolvConf}\0`);
  p.rodata("px_continue", CONTINUE);
  p.rodata("px_last", LAST_CHUNK);
  p.rodata("px_crlf", "\r\n");
  p.rodata("px_version", "HTTP/1.1 ");
  p.bss("px_resolver", RES.size, 8);
  p.bss("px_cache", CACHE_ENTRIES * 32 + 8, 8);
  p.bss("px_sockaddr", 32, 8);
  p.bss("px_opt", 16, 8);
  const stat = target.layouts.stat;
  const dns = {
    candidate: X.dns,
    qtype: X.dns + 1,
    server: X.dns + 2,
    tries: X.dns + 3,
    length: X.dns + 4,
    id: X.dns + 6,
  };

  // px_x(fd) → the exchange of a client (or the download buffer of an upstream socket): its staging area
  p.func("px_x", {}, (f) => {
    f.mul("a0", "a0", OUTBUF).load(8, "a1", { base: "s5", offset: G.outbufs }).add("a0", "a0", "a1").ret();
  });
  // px_ub(fd) → an upstream socket's upload buffer: its input area
  p.func("px_ub", {}, (f) => {
    f.shl("a0", "a0", 13).load(8, "a1", { base: "s5", offset: G.inbufs }).add("a0", "a0", "a1").ret();
  });
  // px_wake(ms): the loop wakes by then
  p.func("px_wake", {}, (f) => {
    f.load(8, "a1", { base: "s5", offset: G.proxyWake })
      .br("eq", "a1", 0, "set")
      .br("leu", "a1", "a0", "done");
    f.label("set").store(8, "a0", { base: "s5", offset: G.proxyWake });
    f.label("done").ret();
  });
  // px_touch(x): the upstream did something: it has `timeout` more
  p.func("px_touch", {}, (f) => {
    f.load(8, "a1", { base: "a0", offset: X.items }).load(4, "a1", { base: "a1", offset: 4 });
    f.load(8, "a2", { base: "s5", offset: G.nowMs })
      .add("a1", "a1", "a2")
      .store(8, "a1", { base: "a0", offset: X.deadline });
    f.mov("a0", "a1").call("px_wake").ret();
  });
  // px_link(c), px_unlink(c): the list of active exchanges (client fd + 1, 0 ends it)
  p.func("px_link", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a0").call("px_x").load(8, "a1", { base: "s5", offset: G.proxyList });
    f.store(8, "a1", { base: "a0", offset: X.next }).store(8, 0, { base: "a0", offset: X.prev });
    f.add("a2", "s0", 1).store(8, "a2", { base: "s5", offset: G.proxyList }).br("eq", "a1", 0, "done");
    f.sub("a0", "a1", 1).call("px_x").add("a2", "s0", 1).store(8, "a2", { base: "a0", offset: X.prev });
    f.label("done").ret();
  });
  p.func("px_unlink", { saves: ["s0", "s1"] }, (f) => {
    f.call("px_x")
      .load(8, "s0", { base: "a0", offset: X.next })
      .load(8, "s1", { base: "a0", offset: X.prev });
    f.br("ne", "s1", 0, "middle").store(8, "s0", { base: "s5", offset: G.proxyList }).jmp("after");
    f.label("middle").sub("a0", "s1", 1).call("px_x").store(8, "s0", { base: "a0", offset: X.next });
    f.label("after")
      .br("eq", "s0", 0, "done")
      .sub("a0", "s0", 1)
      .call("px_x")
      .store(8, "s1", { base: "a0", offset: X.prev });
    f.label("done").ret();
  });
  // px_peer(fd, client): an upstream socket's entry points at its client; px_peer_close(fd)
  p.func("px_peer", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a1")
      .call("entry")
      .store(1, PEER, { base: "a0", offset: C.flags })
      .store(4, "s0", { base: "a0", offset: C.discard })
      .ret();
  });
  // (the whole entry is cleared: a client accepted later on the same fd starts from zeros)
  p.func("px_peer_close", { saves: ["s0"] }, (f) => {
    f.br("lt", "a0", 0, "done").mov("s0", "a0").call("entry").store(4, 0, { base: "a0", offset: C.flags });
    f.store(8, 0, { base: "a0", offset: C.discard });
    f.mov("a0", "s0").syscall("close");
    f.label("done").ret();
  });
  // px_status(x, status): "HTTP/1.1 SSS" at X.statusLine, for the access log
  p.func("px_status", {}, (f) => {
    f.addr("a2", "px_version").load(8, "a3", "a2").store(8, "a3", { base: "a0", offset: X.statusLine });
    f.load(1, "a3", { base: "a2", offset: 8 }).store(1, "a3", { base: "a0", offset: X.statusLine + 8 });
    f.add("a2", "a0", X.statusLine + 9)
      .mov("a0", "a1")
      .mov("a1", "a2")
      .mov("a2", 3)
      .call("decimal")
      .ret();
  });
  // px_log(c): the exchange's line in the access log (status from X.statusLine, bytes X.sent)
  p.func("px_log", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a0").load(8, "a1", { base: "s5", offset: G.log }).br("eq", "a1", 0, "done").call("px_x");
    f.add("a1", "a0", X.line).store(8, "a1", { base: "s5", offset: G.response + R.line });
    f.load(8, "a2", { base: "a0", offset: X.lineLen })
      .add("a2", "a2", "a1")
      .store(8, "a2", { base: "s5", offset: G.inputEnd });
    f.add("a1", "a0", X.statusLine).store(8, "a1", { base: "s5", offset: G.response + R.head });
    f.load(8, "a1", { base: "a0", offset: X.sent }).store(8, "a1", {
      base: "s5",
      offset: G.response + R.bodyLen,
    });
    f.mov("a0", "s0")
      .call("log_request")
      .store(8, 0, { base: "s5", offset: G.response + R.line });
    f.label("done").ret();
  });
  // px_end(c): the exchange is over: its upstream socket closed, off the list, the client its own again
  p.func("px_end", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0")
      .call("px_x")
      .mov("s1", "a0")
      .load(8, "a0", { base: "s1", offset: X.upstream })
      .call("px_peer_close");
    f.store(8, -1, { base: "s1", offset: X.upstream }).mov("a0", "s0").call("px_unlink");
    f.mov("a0", "s0")
      .call("entry")
      .load(1, "a1", { base: "a0", offset: C.flags })
      .and("a1", "a1", ~PROXYING & 0xff);
    f.store(1, "a1", { base: "a0", offset: C.flags }).ret();
  });
  // px_cut(c, status): the response has started: the client's connection is cut (499: it went away)
  p.func("px_cut", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0")
      .mov("s1", "a1")
      .call("px_end")
      .mov("a0", "s0")
      .call("px_x")
      .mov("a1", "s1")
      .call("px_status");
    f.mov("a0", "s0").call("px_log").mov("a0", "s0").call("close_conn").ret();
  });
  // px_fail(c, ordinal): before the response head, the pack's 502 or 504 (and the connection
  // closes: the request body may be half sent); after it, the connection is cut
  p.func("px_fail", { saves: ["s0", "s1", "s4"] }, (f) => {
    f.mov("s0", "a0")
      .mov("s1", "a1")
      .call("px_x")
      .load(8, "a2", { base: "a0", offset: X.flags })
      .and("a2", "a2", XF.headSent);
    f.br("eq", "a2", 0, "answer").mov("a1", 504).br("eq", "s1", ACCESS_ERR[504], "cut").mov("a1", 502);
    f.label("cut").mov("a0", "s0").call("px_cut").ret();
    f.label("answer").mov("a0", "s0").call("px_end");
    f.addr("s4", "http_state")
      .mov("a0", "s0")
      .call("setup")
      .call("reset")
      .store(8, 1, { base: "s4", offset: S.close });
    f.mov("a0", "s0")
      .call("px_x")
      .add("a1", "a0", X.line)
      .store(8, "a1", { base: "s5", offset: G.response + R.line });
    f.load(8, "a2", { base: "a0", offset: X.lineLen })
      .add("a2", "a2", "a1")
      .store(8, "a2", { base: "s5", offset: G.inputEnd });
    f.load(8, "a1", { base: "a0", offset: X.flags }).and("a1", "a1", XF.head).mov("a0", "s1").call("err");
    f.store(8, 0, { base: "s5", offset: G.response + R.line }).ret();
  });
  // px_upstream_failed(c): the upstream broke: 502, or the cut
  p.func("px_upstream_failed", {}, (f) => {
    f.mov("a1", ACCESS_ERR[502]).call("px_fail").ret();
  });
  // px_finish(c): the response went out whole; the client carries on (pipelined requests next) or closes
  p.func("px_finish", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0").call("px_end").mov("a0", "s0").call("px_log").mov("a0", "s0").call("px_x");
    f.load(8, "a1", { base: "a0", offset: X.flags }).and("a1", "a1", XF.close).br("ne", "a1", 0, "close");
    f.load(8, "a1", { base: "a0", offset: X.bodyLeft }).br("ne", "a1", 0, "close");
    f.mov("a0", "s0")
      .mov("a1", EPOLLIN | EPOLLRDHUP)
      .mov("a2", EPOLL_CTL_MOD)
      .call("watch");
    f.mov("a0", "s0")
      .call("entry")
      .mov("s1", "a0")
      .load(8, "a1", { base: "s5", offset: G.idleSeconds })
      .call("set_deadline");
    f.load(2, "a1", { base: "s1", offset: C.buffered }).br("eq", "a1", 0, "done");
    f.mov("a0", "s0").mov("a1", 0).call("readable");
    f.label("done").ret();
    f.label("close").mov("a0", "s0").call("close_conn").ret();
  });

  // px_map(path) → a0: the file mapped read-only (0 when it cannot be), a1: its size
  p.func("px_map", { saves: ["s0", "s1"] }, (f) => {
    f.mov("a1", "a0").mov("a0", AT_FDCWD).mov("a2", O_RDONLY_CLOEXEC).mov("a3", 0).syscall("openat");
    f.br("lt", "a0", 0, "none")
      .mov("s0", "a0")
      .addr("a1", "stat_buf")
      .syscall("fstat")
      .br("ne", "a0", 0, "close");
    f.addr("a1", "stat_buf").load(8, "s1", { base: "a1", offset: stat.size_ }).br("eq", "s1", 0, "close");
    f.mov("a0", 0)
      .mov("a1", "s1")
      .mov("a2", PROT_READ)
      .mov("a3", MAP_PRIVATE)
      .mov("a4", "s0")
      .mov("a5", 0)
      .syscall("mmap");
    f.br("gtu", "a0", -4096n, "close").mov("a1", "s0").mov("s0", "a0").mov("a0", "a1").syscall("close");
    f.mov("a0", "s0").mov("a1", "s1").ret();
    f.label("close").mov("a0", "s0").syscall("close");
    f.label("none").mov("a0", 0).mov("a1", 0).ret();
  });

  // the cache: CACHE_ENTRIES of (host string address, expiry second, address)
  // px_cache_get(host) → the entry holding it, unexpired, or 0
  p.func("px_cache_get", {}, (f) => {
    f.addr("a1", "px_cache")
      .add("a2", "a1", CACHE_ENTRIES * 32)
      .load(8, "a3", { base: "s5", offset: G.now });
    f.label("entry").br("eq", "a1", "a2", "none").load(8, "a4", "a1").br("ne", "a4", "a0", "next");
    f.load(8, "a4", { base: "a1", offset: 8 }).br("gtu", "a4", "a3", "found");
    f.label("next").add("a1", "a1", 32).jmp("entry");
    f.label("found").mov("a0", "a1").ret();
    f.label("none").mov("a0", 0).ret();
  });
  // px_cache_put(host, address, seconds)
  p.func("px_cache_put", {}, (f) => {
    f.load(8, "a3", { base: "s5", offset: G.now }).add("a2", "a2", "a3").addr("a4", "px_cache");
    f.add("a5", "a4", CACHE_ENTRIES * 32);
    f.label("same")
      .load(8, "a3", "a4")
      .br("eq", "a3", "a0", "put")
      .add("a4", "a4", 32)
      .br("ne", "a4", "a5", "same");
    f.addr("a4", "px_cache").load(8, "a3", { base: "s5", offset: G.now });
    f.label("stale")
      .load(8, "a5", { base: "a4", offset: 8 })
      .br("leu", "a5", "a3", "put")
      .add("a4", "a4", 32);
    f.addr("a5", "px_cache", CACHE_ENTRIES * 32).br("ne", "a4", "a5", "stale");
    f.load(8, "a3", "a5")
      .add("a4", "a3", 1)
      .store(8, "a4", "a5")
      .and("a3", "a3", CACHE_ENTRIES - 1)
      .shl("a3", "a3", 5);
    f.addr("a4", "px_cache").add("a4", "a4", "a3");
    f.label("put").store(8, "a0", "a4").store(8, "a2", { base: "a4", offset: 8 });
    f.load(8, "a3", "a1").store(8, "a3", { base: "a4", offset: 16 }).load(8, "a3", { base: "a1", offset: 8 });
    f.store(8, "a3", { base: "a4", offset: 24 }).ret();
  });
  // px_cache_drop(host)
  p.func("px_cache_drop", {}, (f) => {
    f.addr("a1", "px_cache").add("a2", "a1", CACHE_ENTRIES * 32);
    f.label("entry").br("eq", "a1", "a2", "done").load(8, "a3", "a1").br("ne", "a3", "a0", "next");
    f.store(8, 0, { base: "a1", offset: 8 });
    f.label("next").add("a1", "a1", 32).jmp("entry");
    f.label("done").ret();
  });

  // px_socket(address, type, port) → a0: a non-blocking socket of the address's family (or a
  // negative errno), a1: the length of its sockaddr, built at px_sockaddr
  p.func("px_socket", {}, (f) => {
    f.addr("a3", "px_sockaddr")
      .shr("a4", "a2", 8)
      .and("a2", "a2", 0xff)
      .shl("a2", "a2", 8)
      .or("a2", "a2", "a4");
    f.store(2, "a2", { base: "a3", offset: 2 }).load(8, "a4", "a0").br("ne", "a4", 0, "v6");
    f.load(4, "a4", { base: "a0", offset: 8 }).br("ne", "a4", 0xffff0000n, "v6");
    f.store(2, AF_INET, "a3")
      .load(4, "a4", { base: "a0", offset: 12 })
      .store(4, "a4", { base: "a3", offset: 4 });
    f.store(8, 0, { base: "a3", offset: 8 }).mov("a0", AF_INET).mov("a4", 16).jmp("open");
    f.label("v6").store(2, AF_INET6, "a3").store(4, 0, { base: "a3", offset: 4 }).load(8, "a4", "a0");
    f.store(8, "a4", { base: "a3", offset: 8 })
      .load(8, "a4", { base: "a0", offset: 8 })
      .store(8, "a4", { base: "a3", offset: 16 });
    f.store(4, 0, { base: "a3", offset: 24 }).mov("a0", AF_INET6).mov("a4", 28);
    f.label("open")
      .or("a1", "a1", SOCK_NONBLOCK | SOCK_CLOEXEC)
      .mov("a2", 0)
      .syscall("socket")
      .mov("a1", "a4")
      .ret();
  });

  // px_resolve(c): the upstream's address, then the connect; the host as an IP literal, from the
  // cache, from the hosts file, else a DNS query
  p.func("px_resolve", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").call("px_x").mov("s1", "a0");
    f.load(8, "a0", { base: "s1", offset: X.host }).load(8, "a1", { base: "s1", offset: X.hostLen });
    f.add("a2", "s1", X.address).call("parse_address").br("ne", "a0", 0, "connect");
    f.load(8, "a0", { base: "s1", offset: X.host }).call("px_cache_get").br("eq", "a0", 0, "hosts");
    for (const at of [16, 24])
      f.load(8, "a1", { base: "a0", offset: at }).store(8, "a1", { base: "s1", offset: X.address + at - 16 });
    f.load(8, "a1", { base: "s1", offset: X.flags })
      .or("a1", "a1", XF.cached)
      .store(8, "a1", { base: "s1", offset: X.flags });
    f.jmp("connect");
    f.label("hosts")
      .addr("a0", "px_hosts")
      .call("px_map")
      .br("eq", "a0", 0, "dns")
      .mov("s2", "a0")
      .mov("s3", "a1");
    f.load(8, "a2", { base: "s1", offset: X.host })
      .load(8, "a3", { base: "s1", offset: X.hostLen })
      .add("a4", "s1", X.address);
    f.call("hosts_find").mov("a2", "a0").mov("a0", "s2").mov("a1", "s3").mov("s2", "a2").syscall("munmap");
    f.br("eq", "s2", 0, "dns");
    f.load(8, "a0", { base: "s1", offset: X.host })
      .add("a1", "s1", X.address)
      .mov("a2", CACHE_SECONDS)
      .call("px_cache_put");
    f.label("connect").mov("a0", "s0").call("px_connect").ret();
    // DNS: resolv.conf (127.0.0.1 when it names no server), then the first query
    f.label("dns").addr("a2", "px_resolver").store(8, 0, { base: "a2", offset: RES.count });
    f.store(8, 0, { base: "a2", offset: RES.searchCount }).store(8, 1, { base: "a2", offset: RES.ndots });
    f.addr("a0", "px_resolv").call("px_map").br("eq", "a0", 0, "servers").mov("s2", "a0").mov("s3", "a1");
    f.addr("a2", "px_resolver").call("resolv_parse").mov("a0", "s2").mov("a1", "s3").syscall("munmap");
    f.label("servers")
      .addr("a2", "px_resolver")
      .load(8, "a0", { base: "a2", offset: RES.count })
      .br("ne", "a0", 0, "query");
    f.store(8, 1, { base: "a2", offset: RES.count }).store(8, 0, { base: "a2", offset: RES.servers });
    f.store(8, 0x0100007fffff0000n, { base: "a2", offset: RES.servers + 8 });
    f.label("query").store(8, 0, { base: "s1", offset: X.dns }).mov("a0", "s0").call("px_dns_send").ret();
  });

  // px_candidate(x) → a0, a1: the search domain appended to the host for the current candidate
  // (0, 0: none), or a0 = -1 when every candidate was tried. The host as given comes first when
  // it ends with "." or has at least ndots dots, else last.
  p.func("px_candidate", {}, (f) => {
    f.load(8, "a1", { base: "a0", offset: X.host }).load(8, "a2", { base: "a0", offset: X.hostLen });
    f.load(1, "a3", { base: "a0", offset: dns.candidate }).addr("a5", "px_resolver");
    f.add("a4", "a1", "a2").load(1, "a4", { base: "a4", offset: -1 }).br("eq", "a4", 46, "absolute");
    // a4: the dots in the host
    f.mov("a4", 0);
    f.label("dots")
      .br("eq", "a2", 0, "counted")
      .sub("a2", "a2", 1)
      .load(1, "a0", { base: "a1", index: "a2" });
    f.br("ne", "a0", 46, "dots").add("a4", "a4", 1).jmp("dots");
    f.label("counted").load(8, "a2", { base: "a5", offset: RES.searchCount }).br("gtu", "a3", "a2", "none");
    f.load(8, "a0", { base: "a5", offset: RES.ndots }).br("geu", "a4", "a0", "first");
    // searched first: candidate k < count is domain k; then the host alone
    f.br("eq", "a3", "a2", "alone").jmp("domain");
    f.label("first").br("eq", "a3", 0, "alone").sub("a3", "a3", 1);
    f.label("domain")
      .shl("a3", "a3", 3)
      .add("a3", "a3", "a5")
      .load(4, "a0", { base: "a3", offset: RES.search });
    f.load(4, "a1", { base: "a3", offset: RES.search + 4 })
      .add("a0", "a0", "a5")
      .add("a0", "a0", RES.text)
      .ret();
    f.label("absolute").br("ne", "a3", 0, "none");
    f.label("alone").mov("a0", 0).mov("a1", 0).ret();
    f.label("none").mov("a0", -1).ret();
  });

  // px_dns_send(c): the query for the current candidate, type and server, on a new UDP socket
  p.func("px_dns_send", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").call("px_x").mov("s1", "a0");
    f.label("candidate")
      .mov("a0", "s1")
      .call("px_candidate")
      .br("eq", "a0", -1, "exhausted")
      .mov("s2", "a0")
      .mov("s3", "a1");
    f.add("a0", "s1", dns.id).mov("a1", 2).mov("a2", GRND_NONBLOCK).syscall("getrandom");
    f.load(2, "a1", { base: "s1", offset: dns.id })
      .load(1, "a2", { base: "s1", offset: dns.qtype })
      .mov("a3", QTYPE_A << 16);
    f.br("eq", "a2", 0, "type").mov("a3", QTYPE_AAAA << 16);
    f.label("type")
      .or("a1", "a1", "a3")
      .add("a0", "s1", X.query)
      .load(8, "a2", { base: "s1", offset: X.host });
    f.load(8, "a3", { base: "s1", offset: X.hostLen }).mov("a4", "s2").mov("a5", "s3").call("dns_query");
    f.br("ne", "a0", 0, "built");
    // not a DNS name with this domain: the next candidate
    f.load(1, "a1", { base: "s1", offset: dns.candidate })
      .add("a1", "a1", 1)
      .store(1, "a1", { base: "s1", offset: dns.candidate });
    f.store(1, 0, { base: "s1", offset: dns.qtype })
      .store(1, 0, { base: "s1", offset: dns.tries })
      .jmp("candidate");
    f.label("built").store(2, "a0", { base: "s1", offset: dns.length });
    f.load(8, "a0", { base: "s1", offset: X.upstream })
      .call("px_peer_close")
      .store(8, -1, { base: "s1", offset: X.upstream });
    f.load(1, "a0", { base: "s1", offset: dns.server })
      .addr("a2", "px_resolver")
      .load(8, "a1", { base: "a2", offset: RES.count });
    f.urem("a0", "a0", "a1").shl("a0", "a0", 4).add("a0", "a0", "a2").add("a0", "a0", RES.servers);
    f.mov("a1", SOCK_DGRAM).mov("a2", resolver.dnsPort).call("px_socket").br("lt", "a0", 0, "exhausted");
    f.mov("s2", "a0").mov("s3", "a1").br("geu", "s2", MAX_FD, "toomany");
    f.mov("a1", "s0").call("px_peer").store(8, "s2", { base: "s1", offset: X.upstream });
    f.mov("a0", "s2")
      .addr("a1", "px_sockaddr")
      .mov("a2", "s3")
      .syscall("connect")
      .br("ne", "a0", 0, "failed");
    f.mov("a0", "s2")
      .add("a1", "s1", X.query)
      .load(2, "a2", { base: "s1", offset: dns.length })
      .syscall("write");
    f.br("lt", "a0", 0, "failed");
    f.mov("a0", "s2")
      .mov("a1", EPOLLIN)
      .mov("a2", EPOLL_CTL_ADD)
      .call("watch")
      .store(4, EPOLLIN, { base: "s1", offset: X.masks + 4 });
    f.store(8, PHASE.resolve, { base: "s1", offset: X.phase });
    f.load(8, "a0", { base: "s5", offset: G.nowMs })
      .add("a0", "a0", DNS_RETRY_MS)
      .store(8, "a0", { base: "s1", offset: X.retry });
    f.call("px_wake").ret();
    f.label("failed").mov("a0", "s0").mov("a1", ANSWER.failed).call("px_dns_next").ret();
    f.label("toomany").mov("a0", "s2").syscall("close");
    f.label("exhausted").mov("a0", "s0").mov("a1", ACCESS_ERR[502]).call("px_fail").ret();
  });

  // px_dns_next(c, answer): after a failed query (or a time-out), the next server, up to two rounds;
  // after no data, AAAA after A; after no such name (or both types), the next candidate
  p.func("px_dns_next", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0")
      .mov("s1", "a1")
      .call("px_x")
      .br("eq", "s1", ANSWER.noName, "candidate")
      .br("eq", "s1", ANSWER.noData, "type");
    f.load(1, "a1", { base: "a0", offset: dns.tries })
      .add("a1", "a1", 1)
      .store(1, "a1", { base: "a0", offset: dns.tries });
    f.addr("a2", "px_resolver")
      .load(8, "a2", { base: "a2", offset: RES.count })
      .shl("a2", "a2", 1)
      .br("geu", "a1", "a2", "type");
    f.load(1, "a1", { base: "a0", offset: dns.server })
      .add("a1", "a1", 1)
      .store(1, "a1", { base: "a0", offset: dns.server })
      .jmp("send");
    f.label("type").load(1, "a1", { base: "a0", offset: dns.qtype }).br("ne", "a1", 0, "candidate");
    f.store(1, 1, { base: "a0", offset: dns.qtype })
      .store(1, 0, { base: "a0", offset: dns.tries })
      .jmp("send");
    f.label("candidate").load(1, "a1", { base: "a0", offset: dns.candidate }).add("a1", "a1", 1);
    f.store(1, "a1", { base: "a0", offset: dns.candidate }).store(1, 0, { base: "a0", offset: dns.qtype });
    f.store(1, 0, { base: "a0", offset: dns.tries });
    f.label("send").mov("a0", "s0").call("px_dns_send").ret();
  });

  // px_dns_read(c): an answer (or an error) on the DNS socket
  p.func("px_dns_read", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a0")
      .call("px_x")
      .mov("s1", "a0")
      .load(8, "a0", { base: "s1", offset: X.upstream })
      .call("px_ub")
      .mov("s2", "a0");
    f.load(8, "a0", { base: "s1", offset: X.upstream }).mov("a1", "s2").mov("a2", INBUF).syscall("read");
    f.br("eq", "a0", -EAGAIN, "done").br("lt", "a0", 0, "failed");
    f.mov("a1", "a0")
      .mov("a0", "s2")
      .add("a2", "s1", X.query)
      .load(2, "a3", { base: "s1", offset: dns.length });
    f.add("a4", "s1", X.address)
      .call("dns_answer")
      .br("eq", "a0", ANSWER.ignore, "done")
      .br("ne", "a0", ANSWER.found, "next");
    f.mov("a2", CACHE_SECONDS).br("geu", "a1", "a2", "keep").mov("a2", "a1");
    f.label("keep")
      .load(8, "a0", { base: "s1", offset: X.host })
      .add("a1", "s1", X.address)
      .call("px_cache_put");
    f.load(8, "a0", { base: "s1", offset: X.upstream })
      .call("px_peer_close")
      .store(8, -1, { base: "s1", offset: X.upstream });
    f.mov("a0", "s0").call("px_connect").ret();
    f.label("failed").mov("a0", ANSWER.failed);
    f.label("next").mov("a1", "a0").mov("a0", "s0").call("px_dns_next");
    f.label("done").ret();
  });

  // px_connect(c): a non-blocking connect to the address at X.address
  p.func("px_connect", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0")
      .call("px_x")
      .mov("s1", "a0")
      .load(8, "a2", { base: "s1", offset: X.items })
      .load(2, "a2", { base: "a2", offset: 16 });
    f.add("a0", "s1", X.address).mov("a1", SOCK_STREAM).call("px_socket").br("lt", "a0", 0, "fail");
    f.mov("s2", "a0").mov("s3", "a1").br("geu", "s2", MAX_FD, "toomany");
    f.mov("a1", IPPROTO_TCP).mov("a2", TCP_NODELAY).addr("a3", "int_one").call("set_flag");
    f.mov("a0", "s2").mov("a1", "s0").call("px_peer").store(8, "s2", { base: "s1", offset: X.upstream });
    f.store(8, PHASE.connect, { base: "s1", offset: X.phase });
    f.mov("a0", "s2").addr("a1", "px_sockaddr").mov("a2", "s3").syscall("connect");
    f.br("eq", "a0", 0, "wait").br("ne", "a0", -EINPROGRESS, "refused");
    f.label("wait").mov("a0", "s2").mov("a1", EPOLLOUT).mov("a2", EPOLL_CTL_ADD).call("watch");
    f.store(4, EPOLLOUT, { base: "s1", offset: X.masks + 4 });
    f.load(8, "a0", { base: "s5", offset: G.nowMs })
      .add("a0", "a0", CACHED_CONNECT_MS)
      .store(8, "a0", { base: "s1", offset: X.retry });
    f.call("px_wake").ret();
    f.label("refused").mov("a0", "s0").call("px_connect_failed").ret();
    f.label("toomany").mov("a0", "s2").syscall("close");
    f.label("fail").mov("a0", "s0").mov("a1", ACCESS_ERR[502]).call("px_fail").ret();
  });
  // px_connect_failed(c): an address from the cache is resolved again; otherwise 502
  p.func("px_connect_failed", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0")
      .call("px_x")
      .mov("s1", "a0")
      .load(8, "a0", { base: "s1", offset: X.upstream })
      .call("px_peer_close");
    f.store(8, -1, { base: "s1", offset: X.upstream })
      .load(8, "a0", { base: "s1", offset: X.host })
      .call("px_cache_drop");
    f.load(8, "a1", { base: "s1", offset: X.flags }).and("a2", "a1", XF.cached).br("eq", "a2", 0, "fail");
    f.xor("a1", "a1", XF.cached)
      .store(8, "a1", { base: "s1", offset: X.flags })
      .mov("a0", "s0")
      .call("px_resolve")
      .ret();
    f.label("fail").mov("a0", "s0").mov("a1", ACCESS_ERR[502]).call("px_fail").ret();
  });
  // px_connected(c): the connect's outcome
  p.func("px_connected", { saves: ["s0", "s1"] }, (f) => {
    f.mov("s0", "a0")
      .call("px_x")
      .mov("s1", "a0")
      .addr("a4", "px_opt")
      .store(4, 4, { base: "a4", offset: 8 });
    f.store(4, 0, "a4")
      .load(8, "a0", { base: "s1", offset: X.upstream })
      .mov("a1", SOL_SOCKET)
      .mov("a2", SO_ERROR);
    f.mov("a3", "a4").add("a4", "a4", 8).syscall("getsockopt").br("ne", "a0", 0, "failed");
    f.addr("a0", "px_opt").load(4, "a0", "a0").br("ne", "a0", 0, "failed");
    f.store(8, PHASE.exchange, { base: "s1", offset: X.phase })
      .mov("a0", "s1")
      .call("px_touch")
      .mov("a0", "s0")
      .call("px_pump")
      .ret();
    f.label("failed").mov("a0", "s0").call("px_connect_failed").ret();
  });

  // px_body(c, ptr, n) → 0, or -1 once the connection was cut: n body bytes read at ptr become the
  // next output (with a chunk-size line when rechunking); the end of the body is noted
  p.func("px_body", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").mov("s2", "a1").mov("s3", "a2").call("px_x").mov("s1", "a0");
    f.load(8, "a0", { base: "s1", offset: X.mode })
      .br("eq", "a0", MODE.chunked, "chunked")
      .br("eq", "a0", MODE.close, "data");
    f.br("eq", "a0", MODE.length, "length").mov("s3", 0).jmp("complete");
    f.label("length")
      .load(8, "a1", { base: "s1", offset: X.left })
      .br("leu", "s3", "a1", "take")
      .mov("s3", "a1");
    f.label("take")
      .sub("a1", "a1", "s3")
      .store(8, "a1", { base: "s1", offset: X.left })
      .br("ne", "a1", 0, "data")
      .jmp("complete");
    f.label("chunked")
      .add("a0", "s1", X.chunk)
      .mov("a1", "s2")
      .mov("a2", "s3")
      .call("chunk_decode")
      .mov("s3", "a0");
    f.br("eq", "a1", 0, "data").br("eq", "a1", 1, "complete");
    f.mov("a0", "s0").mov("a1", 502).call("px_cut").mov("a0", -1).ret();
    f.label("complete")
      .load(8, "a1", { base: "s1", offset: X.flags })
      .or("a1", "a1", XF.complete)
      .store(8, "a1", { base: "s1", offset: X.flags });
    f.label("data")
      .load(8, "a1", { base: "s1", offset: X.sent })
      .add("a1", "a1", "s3")
      .store(8, "a1", { base: "s1", offset: X.sent });
    f.store(8, "s2", { base: "s1", offset: X.out + 16 }).store(8, "s3", { base: "s1", offset: X.out + 24 });
    f.store(8, 0, { base: "s1", offset: X.out + 40 }).br("eq", "s3", 0, "done");
    f.load(8, "a1", { base: "s1", offset: X.flags }).and("a1", "a1", XF.rechunk).br("eq", "a1", 0, "done");
    // "<hex>\r\n" after what iovec 0 holds (the head), or alone at X.chunkLine
    f.load(8, "a2", { base: "s1", offset: X.out + 8 }).br("ne", "a2", 0, "append");
    f.add("a0", "s1", X.chunkLine).store(8, "a0", { base: "s1", offset: X.out });
    f.label("append").load(8, "a1", { base: "s1", offset: X.out }).add("a1", "a1", "a2");
    f.mov("a0", "s3").mov("a2", 0).mov("a3", 16).call("digits").store(2, 0x0a0d, "a0").add("a0", "a0", 2);
    f.load(8, "a1", { base: "s1", offset: X.out })
      .sub("a0", "a0", "a1")
      .store(8, "a0", { base: "s1", offset: X.out + 8 });
    f.addr("a0", "px_crlf")
      .store(8, "a0", { base: "s1", offset: X.out + 32 })
      .store(8, 2, { base: "s1", offset: X.out + 40 });
    f.label("done").mov("a0", 0).ret();
  });

  // px_head(c) → 1 when the response head is parsed (its bytes and the body's first ones are the
  // output), 0 while it is incomplete, -1 after a 502
  p.func("px_head", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0")
      .call("px_x")
      .mov("s1", "a0")
      .load(8, "a0", { base: "s1", offset: X.upstream })
      .call("px_x")
      .mov("s2", "a0");
    f.label("again")
      .mov("a0", "s2")
      .load(8, "a1", { base: "s1", offset: X.inLen })
      .add("a2", "s2", RESPONSE_OUT);
    f.add("a3", "s1", X.info)
      .load(8, "a4", { base: "s1", offset: X.flags })
      .call("resp_head")
      .mov("s3", "a0");
    f.br("eq", "s3", 0, "incomplete").br("lt", "s3", 0, "bad");
    f.load(8, "a0", { base: "s1", offset: X.info + RI.mode }).br("ne", "a0", MODE.interim, "final");
    // a 1xx head: drop it, read the next
    f.load(8, "a1", { base: "s1", offset: X.inLen })
      .sub("a1", "a1", "s3")
      .store(8, "a1", { base: "s1", offset: X.inLen })
      .mov("a2", 0);
    f.label("move")
      .br("geu", "a2", "a1", "again")
      .add("a3", "a2", "s3")
      .load(1, "a3", { base: "s2", index: "a3" });
    f.store(1, "a3", { base: "s2", index: "a2" }).add("a2", "a2", 1).jmp("move");
    f.label("final").store(8, "a0", { base: "s1", offset: X.mode });
    f.load(8, "a0", { base: "s1", offset: X.info + RI.length }).store(8, "a0", {
      base: "s1",
      offset: X.left,
    });
    f.load(8, "a0", { base: "s1", offset: X.flags })
      .load(8, "a1", { base: "s1", offset: X.info + RI.flags })
      .or("a0", "a0", "a1");
    f.or("a0", "a0", XF.headSent).store(8, "a0", { base: "s1", offset: X.flags });
    f.mov("a0", "s1")
      .load(8, "a1", { base: "s1", offset: X.info + RI.status })
      .call("px_status");
    f.add("a0", "s2", RESPONSE_OUT).store(8, "a0", { base: "s1", offset: X.out });
    f.load(8, "a0", { base: "s1", offset: X.info + RI.outLen }).store(8, "a0", {
      base: "s1",
      offset: X.out + 8,
    });
    f.mov("a0", "s0")
      .add("a1", "s2", "s3")
      .load(8, "a2", { base: "s1", offset: X.inLen })
      .sub("a2", "a2", "s3")
      .call("px_body");
    f.br("ne", "a0", 0, "cut").mov("a0", 1).ret();
    f.label("incomplete").mov("a0", 0).ret();
    f.label("bad").mov("a0", "s0").mov("a1", ACCESS_ERR[502]).call("px_fail");
    f.label("cut").mov("a0", -1).ret();
  });

  // px_rearm(c): the events each side waits for: the client's body when the upload buffer is
  // empty, the client's room when output waits; the upstream's room for the upload, its bytes
  // while no output waits
  p.func("px_rearm", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a0").call("px_x").mov("s1", "a0");
    f.load(8, "a0", { base: "s1", offset: X.out + 8 })
      .load(8, "a1", { base: "s1", offset: X.out + 24 })
      .or("a0", "a0", "a1");
    f.load(8, "a1", { base: "s1", offset: X.out + 40 }).or("s2", "a0", "a1"); // s2: output waits
    f.mov("a1", 0).br("eq", "s2", 0, "clientIn").mov("a1", EPOLLOUT);
    f.label("clientIn").load(8, "a0", { base: "s1", offset: X.upLen }).br("ne", "a0", 0, "client");
    f.load(8, "a0", { base: "s1", offset: X.bodyLeft }).br("eq", "a0", 0, "client").or("a1", "a1", EPOLLIN);
    f.label("client").load(4, "a0", { base: "s1", offset: X.masks }).br("eq", "a0", "a1", "upstream");
    f.store(4, "a1", { base: "s1", offset: X.masks }).mov("a0", "s0").mov("a2", EPOLL_CTL_MOD).call("watch");
    f.label("upstream")
      .mov("a1", 0)
      .load(8, "a0", { base: "s1", offset: X.upLen })
      .br("eq", "a0", 0, "upIn")
      .mov("a1", EPOLLOUT);
    f.label("upIn")
      .br("ne", "s2", 0, "up")
      .load(8, "a0", { base: "s1", offset: X.flags })
      .and("a0", "a0", XF.complete);
    f.br("ne", "a0", 0, "up").or("a1", "a1", EPOLLIN);
    f.label("up")
      .load(4, "a0", { base: "s1", offset: X.masks + 4 })
      .br("eq", "a0", "a1", "done");
    f.store(4, "a1", { base: "s1", offset: X.masks + 4 }).load(8, "a0", { base: "s1", offset: X.upstream });
    f.mov("a2", EPOLL_CTL_MOD).call("watch");
    f.label("done").ret();
  });

  // px_pump(c): moves bytes both ways until neither side can take or give more
  // s0 client, s1 X, s2 upstream, s3 progress this round, s4 scratch
  p.func("px_pump", { frame: 16, saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s0", "a0").call("px_x").mov("s1", "a0").load(8, "s2", { base: "s1", offset: X.upstream });
    f.label("round").mov("s3", 0);
    // upload: what waits, then more of the client's body
    f.label("up").load(8, "a2", { base: "s1", offset: X.upLen }).br("eq", "a2", 0, "body");
    f.mov("a0", "s2").load(8, "a1", { base: "s1", offset: X.upPtr }).syscall("write");
    f.br("eq", "a0", -EAGAIN, "down").br("lt", "a0", 0, "upFailed");
    f.load(8, "a1", { base: "s1", offset: X.upPtr })
      .add("a1", "a1", "a0")
      .store(8, "a1", { base: "s1", offset: X.upPtr });
    f.load(8, "a1", { base: "s1", offset: X.upLen })
      .sub("a1", "a1", "a0")
      .store(8, "a1", { base: "s1", offset: X.upLen });
    f.mov("s3", 1)
      .mov("a0", "s1")
      .call("px_touch")
      .load(8, "a1", { base: "s1", offset: X.upLen })
      .br("ne", "a1", 0, "down");
    f.label("body").load(8, "a2", { base: "s1", offset: X.bodyLeft }).br("eq", "a2", 0, "down");
    f.br("leu", "a2", INBUF, "read").mov("a2", INBUF);
    f.label("read")
      .mov("s4", "a2")
      .mov("a0", "s2")
      .call("px_ub")
      .mov("a1", "a0")
      .mov("a0", "s0")
      .mov("a2", "s4")
      .syscall("read");
    f.br("eq", "a0", -EAGAIN, "down").br("le", "a0", 0, "gone");
    f.store(8, "a0", { base: "s1", offset: X.upLen })
      .load(8, "a1", { base: "s1", offset: X.bodyLeft })
      .sub("a1", "a1", "a0");
    f.store(8, "a1", { base: "s1", offset: X.bodyLeft })
      .mov("a0", "s2")
      .call("px_ub")
      .store(8, "a0", { base: "s1", offset: X.upPtr });
    f.mov("s3", 1).jmp("up");
    // download: the output waiting, then more of the response
    f.label("down")
      .add("a1", "s1", X.out)
      .load(8, "a0", { base: "a1", offset: 8 })
      .load(8, "a2", { base: "a1", offset: 24 });
    f.or("a0", "a0", "a2")
      .load(8, "a2", { base: "a1", offset: 40 })
      .or("a0", "a0", "a2")
      .br("eq", "a0", 0, "more");
    f.mov("a0", "s0")
      .mov("a2", 3)
      .syscall("writev")
      .br("eq", "a0", -EAGAIN, "next")
      .br("lt", "a0", 0, "gone");
    f.mov("s3", 1).add("a1", "s1", X.out).mov("a4", 0).add("a5", "a1", 48);
    advanceIovecs(f);
    f.br("ne", "a4", 0, "next");
    f.label("more")
      .load(8, "a0", { base: "s1", offset: X.flags })
      .and("a1", "a0", XF.complete)
      .br("eq", "a1", 0, "response");
    // complete: the last chunk when rechunking, then the end
    f.and("a1", "a0", XF.rechunk | XF.ended).br("ne", "a1", XF.rechunk, "finish");
    f.or("a0", "a0", XF.ended).store(8, "a0", { base: "s1", offset: X.flags }).addr("a0", "px_last");
    f.store(8, "a0", { base: "s1", offset: X.out })
      .store(8, LAST_CHUNK.length, { base: "s1", offset: X.out + 8 })
      .jmp("down");
    f.label("finish").mov("a0", "s0").call("px_finish").ret();
    f.label("response").and("a1", "a0", XF.headSent).br("eq", "a1", 0, "head");
    f.mov("a0", "s2")
      .call("px_x")
      .mov("s4", "a0")
      .mov("a1", "a0")
      .mov("a0", "s2")
      .mov("a2", DOWNLOAD)
      .syscall("read");
    f.br("eq", "a0", -EAGAIN, "next").br("lt", "a0", 0, "cut").br("eq", "a0", 0, "eof");
    f.mov("a2", "a0").mov("s3", 1).mov("a0", "s1").store(8, "a2", { base: "sp", offset: 0 }).call("px_touch");
    f.mov("a0", "s0")
      .mov("a1", "s4")
      .load(8, "a2", { base: "sp", offset: 0 })
      .call("px_body")
      .br("ne", "a0", 0, "over")
      .jmp("down");
    // the upstream closed: the end of a body delimited by the close, else a cut
    f.label("eof").load(8, "a0", { base: "s1", offset: X.mode }).br("ne", "a0", MODE.close, "cut");
    f.load(8, "a0", { base: "s1", offset: X.flags })
      .or("a0", "a0", XF.complete)
      .store(8, "a0", { base: "s1", offset: X.flags });
    f.jmp("more");
    f.label("cut").mov("a0", "s0").mov("a1", 502).call("px_cut").ret();
    // the response head, read at the download buffer's start
    f.label("head")
      .mov("a0", "s2")
      .call("px_x")
      .load(8, "a2", { base: "s1", offset: X.inLen })
      .add("a1", "a0", "a2");
    f.mov("a0", RESPONSE_HEAD_MAX).sub("a2", "a0", "a2").mov("a0", "s2").syscall("read");
    f.br("eq", "a0", -EAGAIN, "next").br("le", "a0", 0, "upFailed");
    f.load(8, "a1", { base: "s1", offset: X.inLen })
      .add("a1", "a1", "a0")
      .store(8, "a1", { base: "s1", offset: X.inLen });
    f.mov("s3", 1).mov("a0", "s1").call("px_touch").mov("a0", "s0").call("px_head").br("lt", "a0", 0, "over");
    f.br("ne", "a0", 0, "down").jmp("head");
    f.label("next").br("ne", "s3", 0, "round").mov("a0", "s0").call("px_rearm");
    f.label("over").ret();
    f.label("upFailed").mov("a0", "s0").call("px_upstream_failed").ret();
    f.label("gone").mov("a0", "s0").mov("a1", 499).call("px_cut").ret();
  });

  // proxy_event(fd, events): an event on a proxying client or an upstream socket
  p.func("proxy_event", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a0")
      .mov("s2", "a1")
      .call("entry")
      .load(1, "a1", { base: "a0", offset: C.flags })
      .and("a1", "a1", PEER);
    f.br("ne", "a1", 0, "upstream");
    f.and("a1", "s2", EPOLLERR | EPOLLHUP).br("ne", "a1", 0, "gone");
    f.mov("a0", "s0")
      .call("px_x")
      .load(8, "a1", { base: "a0", offset: X.phase })
      .br("ne", "a1", PHASE.exchange, "done");
    f.mov("a0", "s0").call("px_pump").ret();
    f.label("gone").mov("a0", "s0").mov("a1", 499).call("px_cut").ret();
    f.label("upstream")
      .load(4, "s0", { base: "a0", offset: C.discard })
      .mov("a0", "s0")
      .call("px_x")
      .mov("s1", "a0");
    f.load(8, "a1", { base: "s1", offset: X.phase })
      .br("eq", "a1", PHASE.resolve, "dns")
      .br("eq", "a1", PHASE.connect, "connect");
    // a broken upstream while output waits for the client cannot wait for that output
    f.and("a1", "s2", EPOLLERR | EPOLLHUP).br("eq", "a1", 0, "pump");
    f.load(8, "a0", { base: "s1", offset: X.out + 8 })
      .load(8, "a1", { base: "s1", offset: X.out + 24 })
      .or("a0", "a0", "a1");
    f.load(8, "a1", { base: "s1", offset: X.out + 40 })
      .or("a0", "a0", "a1")
      .br("eq", "a0", 0, "pump");
    f.mov("a0", "s0").call("px_upstream_failed").ret();
    f.label("pump").mov("a0", "s0").call("px_pump").ret();
    f.label("dns").mov("a0", "s0").call("px_dns_read").ret();
    f.label("connect").mov("a0", "s0").call("px_connected");
    f.label("done").ret();
  });

  // proxy_sweep(): exchanges past their deadline get 504 (or are cut; a connect that timed out
  // forgets the cached address); DNS queries past their retry go to the next server; a connect to
  // a cached address that is slow resolves the name again; G.proxyWake becomes the earliest time left
  p.func("proxy_sweep", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.store(8, 0, { base: "s5", offset: G.proxyWake }).load(8, "s0", { base: "s5", offset: G.proxyList });
    f.label("exchange")
      .br("eq", "s0", 0, "done")
      .sub("s0", "s0", 1)
      .mov("a0", "s0")
      .call("px_x")
      .mov("s1", "a0");
    f.load(8, "s2", { base: "s1", offset: X.next }).load(8, "a1", { base: "s5", offset: G.nowMs });
    f.load(8, "a2", { base: "s1", offset: X.deadline }).br("ltu", "a1", "a2", "retry");
    f.load(8, "a0", { base: "s1", offset: X.phase }).br("ne", "a0", PHASE.connect, "late");
    f.load(8, "a0", { base: "s1", offset: X.host }).call("px_cache_drop");
    f.label("late").mov("a0", "s0").mov("a1", ACCESS_ERR[504]).call("px_fail").jmp("next");
    // a2: the phase's retry applies (resolving, or connecting to a cached address)
    f.label("retry").load(8, "a0", { base: "s1", offset: X.phase }).br("eq", "a0", PHASE.resolve, "timer");
    f.br("ne", "a0", PHASE.connect, "wake")
      .load(8, "a0", { base: "s1", offset: X.flags })
      .and("a0", "a0", XF.cached);
    f.br("eq", "a0", 0, "wake");
    f.label("timer").load(8, "a2", { base: "s1", offset: X.retry }).br("ltu", "a1", "a2", "wakeRetry");
    f.load(8, "a0", { base: "s1", offset: X.phase }).br("eq", "a0", PHASE.connect, "reconnect");
    f.mov("a0", "s0").mov("a1", ANSWER.failed).call("px_dns_next").jmp("wake");
    f.label("reconnect").mov("a0", "s0").call("px_connect_failed");
    f.label("wake")
      .mov("a0", "s0")
      .call("entry")
      .load(1, "a1", { base: "a0", offset: C.flags })
      .and("a1", "a1", PROXYING);
    f.br("eq", "a1", 0, "next").load(8, "a0", { base: "s1", offset: X.deadline }).call("px_wake");
    f.load(8, "a0", { base: "s1", offset: X.phase }).br("eq", "a0", PHASE.exchange, "next");
    f.load(8, "a0", { base: "s1", offset: X.retry }).call("px_wake").jmp("next");
    f.label("wakeRetry").load(8, "a0", { base: "s1", offset: X.retry }).call("px_wake").jmp("wake");
    f.label("next").mov("s0", "s2").jmp("exchange");
    f.label("done").ret();
  });

  // proxy_request(rule) → send's answer: starts forwarding the request the HTTP layer parsed (s4)
  p.func("proxy_request", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s2", "a0")
      .load(8, "s0", { base: "s4", offset: S.fd })
      .mov("a0", "s0")
      .call("px_x")
      .mov("s1", "a0");
    f.addr("a0", "access_state").load(8, "s3", { base: "a0", offset: A.section });
    // the body limit: 413 (no body for HEAD), and the connection closes
    f.load(4, "a0", { base: "s2", offset: 24 })
      .add("a0", "a0", "s3")
      .load(8, "a1", { base: "a0", offset: 8 });
    f.load(8, "a2", { base: "s4", offset: S.contentLength }).br("leu", "a2", "a1", "fields");
    f.store(8, 1, { base: "s4", offset: S.close })
      .mov("a1", 0)
      .load(8, "a2", { base: "s4", offset: S.method });
    f.br("ne", "a2", 1, "large").mov("a1", 1);
    f.label("large").mov("a0", ERR[413]).call("err").ret();
    // the exchange's fields from X.prev to X.statusLine start at 0
    f.label("fields").mov("a1", X.prev);
    f.label("zero")
      .store(8, 0, { base: "s1", index: "a1" })
      .add("a1", "a1", 8)
      .br("ltu", "a1", X.statusLine, "zero");
    f.store(8, "a0", { base: "s1", offset: X.items });
    // flags: HEAD, HTTP/1.0 (with keep-alive asked for), close
    f.mov("a0", 0)
      .load(8, "a1", { base: "s4", offset: S.method })
      .br("ne", "a1", 1, "minor")
      .or("a0", "a0", XF.head);
    f.label("minor")
      .load(8, "a1", { base: "s4", offset: S.minor })
      .br("ne", "a1", 0, "close")
      .or("a0", "a0", XF.http10);
    f.load(8, "a1", { base: "s4", offset: S.keepAlive })
      .br("eq", "a1", 0, "close")
      .or("a0", "a0", XF.keepAlive10);
    f.label("close")
      .load(8, "a1", { base: "s4", offset: S.close })
      .br("eq", "a1", 0, "flagged")
      .or("a0", "a0", XF.close);
    f.label("flagged").store(8, "a0", { base: "s1", offset: X.flags });
    f.store(8, -1, { base: "s1", offset: X.upstream });
    // the request line, for the access log
    f.load(8, "a0", { base: "s5", offset: G.response + R.line }).mov("a1", 0);
    f.label("line")
      .load(1, "a2", { base: "a0", index: "a1" })
      .br("eq", "a2", 13, "lined")
      .br("eq", "a1", LINE_MAX, "lined");
    f.add("a3", "a1", X.line).store(1, "a2", { base: "s1", index: "a3" }).add("a1", "a1", 1).jmp("line");
    f.label("lined").store(8, "a1", { base: "s1", offset: X.lineLen });
    // the upstream's host, and the request's description for proxy_head
    f.load(4, "a0", { base: "s2", offset: 16 })
      .add("a0", "a0", "s3")
      .store(8, "a0", { base: "s1", offset: X.host });
    f.store(8, "a0", { base: "s1", offset: X.request + Q.host }).load(4, "a0", { base: "s2", offset: 20 });
    f.store(8, "a0", { base: "s1", offset: X.hostLen }).store(8, "a0", {
      base: "s1",
      offset: X.request + Q.hostLen,
    });
    f.load(8, "a0", { base: "s5", offset: G.response + R.line }).store(8, "a0", {
      base: "s1",
      offset: X.request + Q.head,
    });
    f.add("a0", "s4", PATH)
      .load(8, "a1", { base: "s4", offset: S.pathLen })
      .load(4, "a2", { base: "s2", offset: 12 });
    f.br("eq", "a2", 1, "rest").add("a0", "a0", "a2").sub("a1", "a1", "a2");
    f.label("rest")
      .store(8, "a0", { base: "s1", offset: X.request + Q.rest })
      .store(8, "a1", { base: "s1", offset: X.request + Q.restLen });
    f.load(8, "a0", { base: "s4", offset: S.query }).store(8, "a0", {
      base: "s1",
      offset: X.request + Q.query,
    });
    f.load(8, "a0", { base: "s4", offset: S.queryLen }).store(8, "a0", {
      base: "s1",
      offset: X.request + Q.queryLen,
    });
    f.load(8, "a2", { base: "s1", offset: X.items })
      .load(4, "a0", { base: "a2", offset: 20 })
      .add("a0", "a0", "s3");
    f.store(8, "a0", { base: "s1", offset: X.request + Q.base }).load(4, "a0", { base: "a2", offset: 24 });
    f.store(8, "a0", { base: "s1", offset: X.request + Q.baseLen }).load(2, "a0", { base: "a2", offset: 16 });
    f.store(8, "a0", { base: "s1", offset: X.request + Q.port });
    // the peer (16 bytes at X.address for now), whether it is a trusted proxy, and its text
    f.store(8, 0, { base: "s1", offset: X.address }).store(8, 0, { base: "s1", offset: X.address + 8 });
    f.mov("a0", "s0")
      .addr("a1", "px_sockaddr")
      .addr("a2", "px_opt")
      .store(4, 28, "a2")
      .syscall("getpeername");
    f.addr("a1", "px_sockaddr")
      .load(2, "a0", "a1")
      .br("eq", "a0", AF_INET6, "v6")
      .br("ne", "a0", AF_INET, "peer");
    f.store(4, 0xffff0000n, { base: "s1", offset: X.address + 8 }).load(4, "a0", { base: "a1", offset: 4 });
    f.store(4, "a0", { base: "s1", offset: X.address + 12 }).jmp("peer");
    f.label("v6").load(8, "a0", { base: "a1", offset: 8 }).store(8, "a0", { base: "s1", offset: X.address });
    f.load(8, "a0", { base: "a1", offset: 16 }).store(8, "a0", { base: "s1", offset: X.address + 8 });
    f.label("peer").store(8, 0, { base: "s1", offset: X.request + Q.trusted });
    if (options.trusted) {
      f.addr("a1", "access_state")
        .load(8, "a0", { base: "a1", offset: A.rules })
        .load(8, "a2", { base: "a1", offset: A.ruleCount });
      f.mul("a2", "a2", 32)
        .add("a0", "a0", "a2")
        .load(4, "a1", { base: "s3", offset: 12 })
        .add("a2", "s1", X.address);
      f.call("cidr_any").store(8, "a0", { base: "s1", offset: X.request + Q.trusted });
    }
    f.add("a0", "s1", X.address)
      .add("a1", "s1", X.peer)
      .call("address_text")
      .sub("a0", "a0", "s1")
      .sub("a0", "a0", X.peer);
    f.add("a1", "s1", X.peer).store(8, "a1", { base: "s1", offset: X.request + Q.peer });
    f.store(8, "a0", { base: "s1", offset: X.request + Q.peerLen });
    // the head, and the body bytes that came with it
    f.add("a0", "s1", X.head).add("a1", "s1", X.request).call("proxy_head").mov("s2", "a0");
    f.load(8, "a1", { base: "s1", offset: X.request + Q.end })
      .load(8, "a2", { base: "s5", offset: G.inputEnd })
      .sub("a2", "a2", "a1");
    f.load(8, "a3", { base: "s4", offset: S.contentLength }).br("leu", "a2", "a3", "copy").mov("a2", "a3");
    f.label("copy").sub("a3", "a3", "a2").store(8, "a3", { base: "s1", offset: X.bodyLeft }).mov("a3", 0);
    f.label("byte")
      .br("geu", "a3", "a2", "copied")
      .load(1, "a4", { base: "a1", index: "a3" })
      .store(1, "a4", { base: "s2", index: "a3" });
    f.add("a3", "a3", 1).jmp("byte");
    f.label("copied")
      .add("a3", "s2", "a2")
      .add("a0", "s1", X.head)
      .store(8, "a0", { base: "s1", offset: X.upPtr });
    f.sub("a3", "a3", "a0").store(8, "a3", { base: "s1", offset: X.upLen });
    f.mov("a0", "s0").mov("s2", "a2").call("entry").store(4, "s2", { base: "a0", offset: C.discard });
    // Expect: 100-continue is answered here
    f.load(8, "a0", { base: "s1", offset: X.request + Q.expect }).br("eq", "a0", 0, "start");
    f.mov("a0", "s0").addr("a1", "px_continue").mov("a2", CONTINUE.length).syscall("write");
    // the client waits (only errors wake it), the exchange joins the list, then the resolution
    f.label("start").mov("a0", "s0").mov("a1", 0).mov("a2", EPOLL_CTL_MOD).call("watch");
    f.mov("a0", "s0").call("entry").load(1, "a1", { base: "a0", offset: C.flags }).or("a1", "a1", PROXYING);
    f.store(1, "a1", { base: "a0", offset: C.flags }).mov("a0", "s0").call("px_link");
    f.load(8, "a0", { base: "s1", offset: X.items })
      .load(4, "a0", "a0")
      .load(8, "a1", { base: "s5", offset: G.nowMs });
    f.add("a0", "a0", "a1").store(8, "a0", { base: "s1", offset: X.deadline }).call("px_wake");
    f.mov("a0", "s0").call("px_resolve").mov("a0", 1).ret();
  });
}
