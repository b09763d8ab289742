// The access log in the IR: one line per response, in Common Log Format or JSON (SPECK_LOG=clf or
// json), appended to a per-worker buffer and written to stdout once per loop turn. Stdout is made
// non-blocking: what it cannot take stays buffered, and lines are dropped only when the buffer is
// full, so a slow log reader never stalls serving.
//
// A line is rendered from a template: literal bytes, bytes of the current Date line (0x80 + offset)
// and field codes below 8, so both formats share one small interpreter.

import type { ProgramBuilder } from "../ir/builder.ts";
import { emitDecimal } from "./decimal.ts";
import { DATE_LINE, G } from "./globals.ts";
import { R } from "./loop.ts";

/** Bytes buffered per worker before a flush is forced mid-turn. */
export const LOG_BUFFER = 64 * 1024;
/** Pipe writes up to this size are atomic, so workers sharing stdout never tear each other's lines. */
const PIPE_BUF = 4096;
/** Bytes of a request line that are logged, so that a whole log line fits in PIPE_BUF. */
export const LOG_LINE_MAX = 600;
/** The most one log line can take: the request line escaped at 6 bytes a byte, plus the rest. */
const LOG_ENTRY_MAX = LOG_LINE_MAX * 6 + 256;

const F = { remote: 1, requestClf: 2, requestJson: 3, status: 4, bytes: 5, epoch: 6 } as const;
const AF_INET = 2;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/** "Date: Sun, 22 Nov 2026 14:03:32 GMT": where each part sits in the Date line. */
const DAY = 11;
const MONTH = 14;
const YEAR = 18;
const TIME = 23;

type Part = string | number | { date: number; length: number };

function template(parts: Part[]): Uint8Array {
  const bytes: number[] = [];
  for (const part of parts) {
    if (typeof part === "number") bytes.push(part);
    else if (typeof part === "string") bytes.push(...new TextEncoder().encode(part));
    else for (let i = 0; i < part.length; i++) bytes.push(0x80 + part.date + i);
  }
  bytes.push(0);
  return Uint8Array.from(bytes);
}

/** `127.0.0.1 - - [22/Nov/2026:14:03:32 +0000] "GET / HTTP/1.1" 200 815` */
export const CLF_TEMPLATE = template([
  F.remote,
  " - - [",
  { date: DAY, length: 2 },
  "/",
  { date: MONTH, length: 3 },
  "/",
  { date: YEAR, length: 4 },
  ":",
  { date: TIME, length: 8 },
  ' +0000] "',
  F.requestClf,
  '" ',
  F.status,
  " ",
  F.bytes,
  "\n",
]);

/** `{"time":1795356212,"remote":"127.0.0.1","request":"GET / HTTP/1.1","status":200,"bytes":815}` */
export const JSON_TEMPLATE = template([
  '{"time":',
  F.epoch,
  ',"remote":"',
  F.remote,
  '","request":"',
  F.requestJson,
  '","status":',
  F.status,
  ',"bytes":',
  F.bytes,
  "}\n",
]);

/**
 * Emits `log_start(mode)` (mode 1 clf, 2 json: selects the template and makes stdout non-blocking),
 * `log_request(fd)` (appends the line of the response in G.response) and `log_flush()`.
 */
export function emitLog(p: ProgramBuilder): void {
  emitDecimal(p);
  p.rodata("log_clf", CLF_TEMPLATE).rodata("log_json", JSON_TEMPLATE);
  p.bss("log_buffer", LOG_BUFFER, 8);

  p.func("log_start", {}, (f) => {
    f.addr("a1", "log_clf").br("eq", "a0", 1, "set").addr("a1", "log_json");
    f.label("set").store(8, "a1", { base: "s5", offset: G.log });
    f.mov("a0", 1).mov("a1", F_SETFL).mov("a2", O_NONBLOCK).syscall("fcntl").ret();
  });

  // log_flush(): writes what is buffered in whole lines of at most PIPE_BUF bytes per write; what
  // stdout does not take now stays buffered for the next turn
  p.func("log_flush", { saves: ["s0", "s1"] }, (f) => {
    f.addr("s0", "log_buffer").load(8, "s1", { base: "s5", offset: G.logLength }).add("s1", "s1", "s0");
    f.label("chunk").sub("a2", "s1", "s0").br("eq", "a2", 0, "keep").br("leu", "a2", PIPE_BUF, "write");
    f.mov("a2", PIPE_BUF);
    f.label("back").sub("a2", "a2", 1).load(1, "a1", { base: "s0", index: "a2" }).br("ne", "a1", 10, "back");
    f.add("a2", "a2", 1);
    f.label("write").mov("a0", 1).mov("a1", "s0").syscall("write").br("le", "a0", 0, "keep");
    f.add("s0", "s0", "a0").jmp("chunk");
    // move what is left to the front of the buffer
    f.label("keep")
      .addr("a1", "log_buffer")
      .sub("a2", "s1", "s0")
      .store(8, "a2", { base: "s5", offset: G.logLength });
    f.label("move").br("eq", "s0", "s1", "done").load(1, "a3", "s0").store(1, "a3", "a1").add("s0", "s0", 1);
    f.add("a1", "a1", 1).jmp("move");
    f.label("done").ret();
  });

  // log_remote(fd, out) → out after the peer's address: dotted quad for IPv4 and IPv4-mapped IPv6,
  // eight hex groups for other IPv6 peers ("-" when the socket has no peer any more)
  p.func("log_remote", { saves: ["s0", "s1", "s2"] }, (f) => {
    f.mov("s0", "a1").add("a1", "s5", G.sockaddr).add("a2", "a1", 28).store(4, 28, "a2");
    f.syscall("getpeername").br("ne", "a0", 0, "none");
    f.add("s1", "s5", G.sockaddr).load(2, "a0", "s1").add("s2", "s1", 4).br("eq", "a0", AF_INET, "v4");
    f.add("s2", "s1", 20).load(8, "a0", { base: "s1", offset: 8 }).br("ne", "a0", 0, "v6");
    f.load(4, "a0", { base: "s1", offset: 16 }).br("ne", "a0", 0xffff0000n, "v6");
    f.label("v4").mov("s1", 0);
    f.label("octet")
      .load(1, "a0", { base: "s2", index: "s1" })
      .mov("a1", "s0")
      .mov("a2", 0)
      .call("decimal")
      .mov("s0", "a0");
    f.add("s1", "s1", 1).br("eq", "s1", 4, "done").store(1, 46, "s0").add("s0", "s0", 1).jmp("octet");
    f.label("v6").add("s2", "s1", 8).mov("s1", 0);
    f.label("group").br("eq", "s1", 0, "first").store(1, 58, "s0").add("s0", "s0", 1);
    f.label("first").load(1, "a0", { base: "s2", index: "s1" }).shl("a0", "a0", 8).add("a1", "s1", 1);
    f.load(1, "a1", { base: "s2", index: "a1" }).or("a0", "a0", "a1");
    f.mov("a1", "s0").mov("a2", 1).mov("a3", 16).call("digits").mov("s0", "a0");
    f.add("s1", "s1", 2).br("ltu", "s1", 16, "group").jmp("done");
    f.label("none").store(1, 45, "s0").add("s0", "s0", 1);
    f.label("done").mov("a0", "s0").ret();
  });

  // log_request(fd): appends the line for the response in G.response to the buffer
  p.func("log_request", { saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s2", "a0").load(8, "a0", { base: "s5", offset: G.logLength });
    f.br("ltu", "a0", LOG_BUFFER - LOG_ENTRY_MAX, "room").call("log_flush");
    // stdout is still too far behind: this line is dropped
    f.load(8, "a0", { base: "s5", offset: G.logLength }).br("geu", "a0", LOG_BUFFER - LOG_ENTRY_MAX, "full");
    f.label("room")
      .addr("s0", "log_buffer")
      .load(8, "a0", { base: "s5", offset: G.logLength })
      .add("s0", "s0", "a0");
    f.load(8, "s1", { base: "s5", offset: G.log });
    f.label("next").load(1, "a0", "s1").add("s1", "s1", 1).br("eq", "a0", 0, "end");
    f.br("ltu", "a0", 8, "field").br("ltu", "a0", 0x80, "literal");
    f.addr("a1", DATE_LINE, -0x80).load(1, "a0", { base: "a1", index: "a0" });
    f.label("literal").store(1, "a0", "s0").add("s0", "s0", 1).jmp("next");
    f.label("field").br("ne", "a0", F.remote, "request");
    f.mov("a0", "s2").mov("a1", "s0").call("log_remote").mov("s0", "a0").jmp("next");
    f.label("request").br("gtu", "a0", F.requestJson, "status");
    // the request line, with '"', '\\', controls and non-ASCII bytes escaped (\xHH, or \u00HH in JSON)
    f.load(8, "s3", { base: "s5", offset: G.response + R.line }).br("eq", "s3", 0, "next");
    f.add("s4", "s3", LOG_LINE_MAX).load(8, "a0", { base: "s5", offset: G.inputEnd });
    f.br("leu", "s4", "a0", "char").mov("s4", "a0");
    f.label("char").br("eq", "s3", "s4", "next").load(1, "a0", "s3").add("s3", "s3", 1);
    f.br("eq", "a0", 13, "next").br("eq", "a0", 10, "next");
    f.br("eq", "a0", 34, "escape")
      .br("eq", "a0", 92, "escape")
      .sub("a1", "a0", 32)
      .br("ltu", "a1", 95, "plain");
    f.label("escape").store(1, 92, "s0").store(1, 120, { base: "s0", offset: 1 }).add("s0", "s0", 2);
    f.load(1, "a1", { base: "s1", offset: -1 }).br("ne", "a1", F.requestJson, "code");
    f.store(1, 117, { base: "s0", offset: -1 }).store(2, 0x3030, "s0").add("s0", "s0", 2);
    f.label("code").mov("a1", "s0").mov("a2", 2).mov("a3", 16).call("digits").mov("s0", "a0").jmp("char");
    f.label("plain").store(1, "a0", "s0").add("s0", "s0", 1).jmp("char");
    f.label("status").br("ne", "a0", F.status, "bytes");
    f.load(8, "a1", { base: "s5", offset: G.response + R.head }).load(2, "a0", { base: "a1", offset: 9 });
    f.load(1, "a1", { base: "a1", offset: 11 })
      .store(2, "a0", "s0")
      .store(1, "a1", { base: "s0", offset: 2 });
    f.add("s0", "s0", 3).jmp("next");
    f.label("bytes").br("ne", "a0", F.bytes, "epoch");
    f.load(8, "a0", { base: "s5", offset: G.response + R.bodyLen }).jmp("number");
    f.label("epoch").load(8, "a0", { base: "s5", offset: G.now });
    f.label("number").mov("a1", "s0").mov("a2", 0).call("decimal").mov("s0", "a0").jmp("next");
    f.label("end")
      .addr("a0", "log_buffer")
      .sub("a0", "s0", "a0")
      .store(8, "a0", { base: "s5", offset: G.logLength });
    f.label("full").ret();
  });
}
