// Name resolution for proxy upstreams in the IR, the pure parts: /etc/hosts lines, /etc/resolv.conf
// (nameservers, search domains, ndots), DNS queries and answers (RFC 1035, A and AAAA). The
// exchange sends the queries over UDP from the epoll loop; docs/access.md, "Name resolution", is
// the behaviour. Addresses are the access section's 16 bytes, IPv4 as ::ffff:a.b.c.d.

import type { FuncBuilder, ProgramBuilder } from "../../ir/builder.ts";
import type { Reg } from "../../ir/types.ts";
import { emitParseAddress } from "../access/address.ts";

/** Nameservers used from resolv.conf (glibc's MAXNS), and the search domains kept (MAXDNSRCH). */
export const MAX_NAMESERVERS = 3;
export const MAX_SEARCH = 6;
/** Bytes of search-domain text kept. */
export const SEARCH_TEXT = 256;
/** resolv.conf's ndots is capped at 15 (glibc's RES_MAXNDOTS); 1 when not given. */
export const MAX_NDOTS = 15;

/** The parsed resolv.conf: counts, nameservers (16 bytes each), search (offset, length) pairs, text. */
export const RES = {
  count: 0,
  ndots: 8,
  searchCount: 16,
  servers: 24,
  search: 24 + MAX_NAMESERVERS * 16,
  text: 24 + MAX_NAMESERVERS * 16 + MAX_SEARCH * 8,
  size: 24 + MAX_NAMESERVERS * 16 + MAX_SEARCH * 8 + SEARCH_TEXT,
} as const;

export const QTYPE_A = 1;
export const QTYPE_AAAA = 28;
/** What dns_answer makes of a message. */
export const ANSWER = { ignore: -1, found: 0, noData: 1, failed: 2, noName: 3 } as const;

/** Most bytes of a DNS name on the wire (RFC 1035, 2.3.4). */
export const MAX_NAME_WIRE = 255;
/** Bytes of a query: the header, the longest name, its type and class. */
export const MAX_QUERY = 12 + MAX_NAME_WIRE + 4;

/** Branches to `to` when the byte in `r` is SP or HT. */
function ifSpace(f: FuncBuilder, r: Reg, to: string): void {
  f.br("eq", r, 32, to).br("eq", r, 9, to);
}

/** Branches to `to` when the byte in `r` is SP, HT, VT, FF or CR (glibc's isspace bar LF); uses a5. */
function ifBlank(f: FuncBuilder, r: Reg, to: string): void {
  f.br("eq", r, 32, to).br("eq", r, 9, to).sub("a5", r, 11).br("ltu", "a5", 3, to);
}

/** Emits `ascii_equal(a, alen, b, blen)` → 1 when the bytes are equal with A-Z folded to a-z, else 0. */
export function emitAsciiEqual(p: ProgramBuilder): void {
  if (p.has("ascii_equal")) return;
  p.func("ascii_equal", {}, (f) => {
    f.br("ne", "a1", "a3", "no");
    f.label("loop").br("eq", "a1", 0, "yes").sub("a1", "a1", 1);
    for (const [r, base] of [
      ["a4", "a0"],
      ["a5", "a2"],
    ] as const) {
      const lower = f.newLabel("lower");
      f.load(1, r, { base, index: "a1" }).sub("a3", r, 65).br("gtu", "a3", 25, lower).or(r, r, 32);
      f.label(lower);
    }
    f.br("eq", "a4", "a5", "loop");
    f.label("no").mov("a0", 0).ret();
    f.label("yes").mov("a0", 1).ret();
  });
}

/**
 * Emits `hosts_find(text, len, name, nameLen, out)` → 1 with the address of the first hosts line
 * that lists `name` (ASCII case folded) and whose address parses, else 0. A `#` ends a line's
 * content; fields are separated by SP, HT, VT, FF and CR.
 */
function emitHostsFind(p: ProgramBuilder): void {
  emitParseAddress(p);
  emitAsciiEqual(p);
  // s0 cursor, s1 end, s2 name, s3 its length, s4 out; a1: 0 before the line's address, then 1;
  // the frame keeps the address text (start, end)
  p.func("hosts_find", { frame: 16, saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s0", "a0").add("s1", "a0", "a1").mov("s2", "a2").mov("s3", "a3").mov("s4", "a4");
    f.label("line").mov("a1", 0);
    f.label("field").br("geu", "s0", "s1", "none").load(1, "a0", "s0");
    f.br("eq", "a0", 10, "newline").br("eq", "a0", 35, "comment");
    ifBlank(f, "a0", "blank");
    f.mov("a0", "s0");
    f.label("scan").add("s0", "s0", 1).br("geu", "s0", "s1", "ended").load(1, "a2", "s0");
    f.br("eq", "a2", 10, "ended").br("eq", "a2", 35, "ended");
    ifBlank(f, "a2", "ended");
    f.jmp("scan");
    f.label("ended").br("ne", "a1", 0, "name");
    f.store(8, "a0", { base: "sp", offset: 0 }).store(8, "s0", { base: "sp", offset: 8 }).mov("a1", 1);
    f.jmp("field");
    f.label("name").sub("a1", "s0", "a0").mov("a2", "s2").mov("a3", "s3").call("ascii_equal");
    f.mov("a1", 1).br("eq", "a0", 0, "field");
    f.load(8, "a0", { base: "sp", offset: 0 }).load(8, "a1", { base: "sp", offset: 8 }).sub("a1", "a1", "a0");
    f.mov("a2", "s4").call("parse_address").br("ne", "a0", 0, "found");
    f.label("comment").br("geu", "s0", "s1", "none").load(1, "a0", "s0").add("s0", "s0", 1);
    f.br("ne", "a0", 10, "comment").jmp("line");
    f.label("blank").add("s0", "s0", 1).jmp("field");
    f.label("newline").add("s0", "s0", 1).jmp("line");
    f.label("none").mov("a0", 0).ret();
    f.label("found").mov("a0", 1).ret();
  });
}

/** resolv.conf's keywords in the order `resolv_keyword` numbers them. */
const KEYWORDS = ["nameserver", "search", "domain", "options"] as const;

/**
 * Emits `resolv_parse(text, len, res)`: the `res` block (RES) from resolv.conf as glibc reads it:
 * keywords at the start of a line followed by SP or HT; up to 3 `nameserver` addresses (the rest
 * of the line after the address is ignored); the last `search` (up to 6 domains, 256 bytes) or
 * `domain` (its first word) line that names a domain; `options` words, of which `ndots:n` counts.
 */
function emitResolvParse(p: ProgramBuilder): void {
  emitParseAddress(p);
  const bytes: number[] = [];
  for (const k of KEYWORDS) bytes.push(k.length, ...new TextEncoder().encode(k));
  p.rodata("resolv_words", Uint8Array.from([...bytes, 0]));

  // resolv_keyword(line, len) → the keyword's number (KEYWORDS.length: none), a1: after its blank
  p.func("resolv_keyword", { saves: ["s0", "s1"] }, (f) => {
    f.addr("a2", "resolv_words").mov("a3", 0);
    f.label("word").load(1, "a4", "a2").br("eq", "a4", 0, "done").br("leu", "a1", "a4", "skip");
    f.load(1, "a5", { base: "a0", index: "a4" });
    ifSpace(f, "a5", "same");
    f.jmp("skip");
    // compare the line's first a4 bytes with the word's, from the end
    f.label("same").mov("s0", "a4");
    f.label("byte").br("eq", "s0", 0, "matched").load(1, "a5", { base: "a2", index: "s0" });
    f.sub("s0", "s0", 1).load(1, "s1", { base: "a0", index: "s0" }).br("eq", "s1", "a5", "byte");
    f.label("skip").add("a2", "a2", "a4").add("a2", "a2", 1).add("a3", "a3", 1).jmp("word");
    f.label("matched").add("a1", "a0", "a4").add("a1", "a1", 1);
    f.label("done").mov("a0", "a3").ret();
  });

  // resolv_word(ptr, end) → a0: the first byte of the next word in [ptr, end) (end: none), a1: its end
  p.func("resolv_word", {}, (f) => {
    f.label("blank").br("geu", "a0", "a1", "none").load(1, "a2", "a0");
    f.br("eq", "a2", 32, "skip").br("ne", "a2", 9, "word");
    f.label("skip").add("a0", "a0", 1).jmp("blank");
    f.label("word").mov("a3", "a1").mov("a1", "a0");
    f.label("scan").br("geu", "a1", "a3", "done").load(1, "a2", "a1");
    ifSpace(f, "a2", "done");
    f.add("a1", "a1", 1).jmp("scan");
    f.label("none").mov("a0", "a1");
    f.label("done").ret();
  });

  // s0 cursor, s1 end, s2 res, s3 the line's end, s4 the value cursor; the frame keeps text used
  p.func("resolv_parse", { frame: 16, saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s0", "a0").add("s1", "a0", "a1").mov("s2", "a2");
    f.store(8, 0, { base: "s2", offset: RES.count })
      .store(8, 1, { base: "s2", offset: RES.ndots })
      .store(8, 0, { base: "s2", offset: RES.searchCount });
    f.label("line").br("geu", "s0", "s1", "done").mov("s3", "s0");
    f.label("eol").br("geu", "s3", "s1", "keyword").load(1, "a0", "s3").br("eq", "a0", 10, "keyword");
    f.add("s3", "s3", 1).jmp("eol");
    f.label("keyword").mov("a0", "s0").sub("a1", "s3", "s0").call("resolv_keyword").mov("s4", "a1");
    f.br("eq", "a0", 1, "search").br("eq", "a0", 2, "domain").br("eq", "a0", 3, "options");
    f.br("ne", "a0", 0, "next");
    // nameserver: the first word, when it is an address and fewer than three came before
    f.load(8, "a0", { base: "s2", offset: RES.count }).br("geu", "a0", MAX_NAMESERVERS, "next");
    f.mov("a0", "s4").mov("a1", "s3").call("resolv_word").br("eq", "a0", "s3", "next");
    f.sub("a1", "a1", "a0").load(8, "a2", { base: "s2", offset: RES.count }).shl("a2", "a2", 4);
    f.add("a2", "a2", "s2").add("a2", "a2", RES.servers).call("parse_address").br("eq", "a0", 0, "next");
    f.load(8, "a0", { base: "s2", offset: RES.count }).add("a0", "a0", 1);
    f.store(8, "a0", { base: "s2", offset: RES.count }).jmp("next");
    // options: the words; "ndots:" and its leading digits
    f.label("options").mov("a0", "s4").mov("a1", "s3").call("resolv_word").br("eq", "a0", "s3", "next");
    f.mov("s4", "a1").sub("a2", "a1", "a0").br("ltu", "a2", 6, "options");
    f.load(4, "a2", "a0").br("ne", "a2", 0x746f646en, "options"); // "ndot"
    f.load(2, "a2", { base: "a0", offset: 4 }).br("ne", "a2", 0x3a73, "options"); // "s:"
    f.add("a0", "a0", 6).mov("a3", 0);
    f.label("digit").br("geu", "a0", "s4", "ndots").load(1, "a2", "a0").sub("a2", "a2", 48);
    f.br("gtu", "a2", 9, "ndots").mul("a3", "a3", 10).add("a3", "a3", "a2").add("a0", "a0", 1);
    f.br("leu", "a3", MAX_NDOTS, "digit").mov("a3", MAX_NDOTS).jmp("digit");
    f.label("ndots").store(8, "a3", { base: "s2", offset: RES.ndots }).jmp("options");
    // search (up to MAX_SEARCH words) or domain (one): a line without a word changes nothing
    f.label("domain").mov("a4", 1).jmp("domains");
    f.label("search").mov("a4", MAX_SEARCH);
    f.label("domains").mov("a0", "s4").mov("a1", "s3").call("resolv_word").br("eq", "a0", "s3", "next");
    f.store(8, 0, { base: "s2", offset: RES.searchCount }).mov("a5", 0); // a5: text used
    f.label("dword").load(8, "a2", { base: "s2", offset: RES.searchCount }).br("geu", "a2", "a4", "next");
    f.sub("a3", "a1", "a0").add("s4", "a5", "a3").br("gtu", "s4", SEARCH_TEXT, "next");
    f.shl("s4", "a2", 3).add("s4", "s4", "s2").store(4, "a5", { base: "s4", offset: RES.search });
    f.store(4, "a3", { base: "s4", offset: RES.search + 4 });
    f.add("a2", "a2", 1).store(8, "a2", { base: "s2", offset: RES.searchCount });
    f.add("s4", "s2", RES.text).add("s4", "s4", "a5");
    f.label("copy").br("geu", "a0", "a1", "copied").load(1, "a3", "a0").store(1, "a3", "s4");
    f.add("a0", "a0", 1).add("s4", "s4", 1).add("a5", "a5", 1).jmp("copy");
    f.label("copied").mov("s4", "a4").mov("a0", "a1").mov("a1", "s3");
    f.store(8, "a5", { base: "sp", offset: 0 });
    f.call("resolv_word").mov("a4", "s4").load(8, "a5", { base: "sp", offset: 0 });
    f.br("ne", "a0", "s3", "dword");
    f.label("next").add("s0", "s3", 1).jmp("line");
    f.label("done").ret();
  });
}

/**
 * Emits `dns_labels(out, name, len)` → the end of the labels written, or 0 when `name` is not a
 * DNS name: labels of 1 to 63 bytes joined by ".", a trailing "." allowed; no root byte written.
 */
function emitDnsLabels(p: ProgramBuilder): void {
  p.func("dns_labels", {}, (f) => {
    f.add("a2", "a1", "a2").br("eq", "a1", "a2", "done");
    // a3: where the label's length goes; a4: the write cursor
    f.label("label").mov("a3", "a0").add("a4", "a0", 1);
    f.label("byte").br("geu", "a1", "a2", "end").load(1, "a5", "a1").add("a1", "a1", 1);
    f.br("eq", "a5", 46, "end").store(1, "a5", "a4").add("a4", "a4", 1).jmp("byte");
    f.label("end").sub("a5", "a4", "a3").sub("a5", "a5", 1).sub("a0", "a5", 1).br("gtu", "a0", 62, "bad");
    f.store(1, "a5", "a3").mov("a0", "a4").br("ltu", "a1", "a2", "label");
    f.label("done").ret();
    f.label("bad").mov("a0", 0).ret();
  });
}

/**
 * Emits `dns_query(out, idType, name, len, domain, domainLength)` → the query's length, or 0 when
 * the name (with the domain appended unless domainLength is 0) is not a DNS name of at most 255
 * bytes. idType: the message ID in bits 0..15, the QTYPE in bits 16..31. Recursion desired, class IN.
 */
function emitDnsQuery(p: ProgramBuilder): void {
  emitDnsLabels(p);
  p.func("dns_query", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a1").mov("s2", "a4").mov("s3", "a5");
    f.add("a4", "a3", "a5").br("gtu", "a4", MAX_NAME_WIRE - 2, "bad");
    // header: the ID (big-endian), RD, QDCOUNT 1, other counts 0
    f.shr("a4", "a1", 8).store(1, "a4", "s0").store(1, "a1", { base: "s0", offset: 1 });
    f.store(2, 0x01, { base: "s0", offset: 2 }).store(2, 0x0100, { base: "s0", offset: 4 });
    f.store(4, 0, { base: "s0", offset: 6 }).store(2, 0, { base: "s0", offset: 10 });
    f.add("a0", "s0", 12).mov("a1", "a2").mov("a2", "a3").call("dns_labels").br("eq", "a0", 0, "bad");
    f.br("eq", "s3", 0, "root").mov("a1", "s2").mov("a2", "s3").call("dns_labels").br("eq", "a0", 0, "bad");
    f.label("root").store(1, 0, "a0").add("a0", "a0", 1).sub("a1", "a0", "s0");
    f.br("gtu", "a1", 12 + MAX_NAME_WIRE, "bad").br("eq", "a1", 13, "bad");
    // QTYPE (big-endian), QCLASS IN
    f.shr("a1", "s1", 24).store(1, "a1", "a0").shr("a1", "s1", 16).store(1, "a1", { base: "a0", offset: 1 });
    f.store(2, 0x0100, { base: "a0", offset: 2 }).add("a0", "a0", 4).sub("a0", "a0", "s0").ret();
    f.label("bad").mov("a0", 0).ret();
  });
}

/** Loads the big-endian u16 at [base + offset] into `d` (uses a5). */
function loadBe16(f: FuncBuilder, d: Reg, base: Reg, offset: number): void {
  f.load(1, d, { base, offset })
    .shl(d, d, 8)
    .load(1, "a5", { base, offset: offset + 1 })
    .or(d, d, "a5");
}

/**
 * Emits `dns_answer(msg, len, query, queryLength, out)` → an ANSWER code; with `found`, `out` holds
 * the first answer record of the query's type (class IN, 4 or 16 bytes) and a1 its TTL. A message
 * that is not the response to `query` (another ID, no QR bit, another question) is `ignore`; RCODE
 * 3 is `noName`; other RCODEs, another opcode, truncation or a malformed record are `failed`.
 */
function emitDnsAnswer(p: ProgramBuilder): void {
  // s0 msg, s1 its end, s2 query, s3 its length, s4 out
  p.func("dns_answer", { saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.mov("s0", "a0").add("s1", "a0", "a1").mov("s2", "a2").mov("s3", "a3").mov("s4", "a4");
    f.br("ltu", "a1", "a3", "ignore");
    f.load(2, "a0", "s0").load(2, "a1", "s2").br("ne", "a0", "a1", "ignore");
    f.load(1, "a0", { base: "s0", offset: 2 }).and("a1", "a0", 0x80).br("eq", "a1", 0, "ignore");
    // QDCOUNT 1, and the question as asked, byte for byte
    f.load(2, "a1", { base: "s0", offset: 4 }).br("ne", "a1", 0x0100, "ignore").mov("a1", 12);
    f.label("question").br("geu", "a1", "s3", "asked").load(1, "a2", { base: "s0", index: "a1" });
    f.load(1, "a3", { base: "s2", index: "a1" }).add("a1", "a1", 1).br("eq", "a2", "a3", "question");
    f.jmp("ignore");
    // opcode 0 and TC clear (a0: the first flags byte), then the RCODE
    f.label("asked").and("a1", "a0", 0x7a).br("ne", "a1", 0, "failed");
    f.load(1, "a0", { base: "s0", offset: 3 }).and("a0", "a0", 15).br("eq", "a0", 0, "records");
    f.br("eq", "a0", 3, "noname").jmp("failed");
    // a3: answer records left; a2: the cursor, after the question
    f.label("records");
    loadBe16(f, "a3", "s0", 6);
    f.add("a2", "s0", "s3");
    f.label("record").br("eq", "a3", 0, "nodata");
    // the owner name: labels up to a root byte, or ending in a compression pointer
    f.label("name").br("geu", "a2", "s1", "failed").load(1, "a0", "a2").add("a2", "a2", 1);
    f.br("eq", "a0", 0, "fixed").br("ltu", "a0", 64, "skip").br("ltu", "a0", 0xc0, "failed");
    f.add("a2", "a2", 1).jmp("fixed");
    f.label("skip").add("a2", "a2", "a0").jmp("name");
    // TYPE, CLASS, TTL, RDLENGTH (a1), RDATA
    f.label("fixed").add("a0", "a2", 10).br("gtu", "a0", "s1", "failed");
    loadBe16(f, "a1", "a2", 8);
    f.add("a0", "a0", "a1").br("gtu", "a0", "s1", "failed");
    loadBe16(f, "a4", "a2", 0);
    f.sub("a0", "s3", 4).load(1, "a5", { base: "s2", index: "a0" }).add("a0", "a0", 1);
    f.load(1, "a0", { base: "s2", index: "a0" }).shl("a5", "a5", 8).or("a0", "a0", "a5");
    f.br("ne", "a4", "a0", "other");
    loadBe16(f, "a4", "a2", 2);
    f.br("ne", "a4", 1, "other").br("eq", "a0", QTYPE_AAAA, "v6").br("ne", "a1", 4, "other");
    f.store(8, 0, "s4").store(4, 0xffff0000n, { base: "s4", offset: 8 });
    f.load(4, "a0", { base: "a2", offset: 10 }).store(4, "a0", { base: "s4", offset: 12 }).jmp("ttl");
    f.label("v6").br("ne", "a1", 16, "other").mov("a0", 0);
    f.label("copy").add("a1", "a0", 10).load(1, "a1", { base: "a2", index: "a1" });
    f.store(1, "a1", { base: "s4", index: "a0" }).add("a0", "a0", 1).br("ltu", "a0", 16, "copy");
    f.label("ttl").mov("a1", 0).mov("a0", 4);
    f.label("ttlbyte").load(1, "a4", { base: "a2", index: "a0" }).shl("a1", "a1", 8).or("a1", "a1", "a4");
    f.add("a0", "a0", 1).br("ltu", "a0", 8, "ttlbyte");
    f.mov("a0", ANSWER.found).ret();
    f.label("other").add("a2", "a2", 10).add("a2", "a2", "a1").sub("a3", "a3", 1).jmp("record");
    f.label("nodata").mov("a0", ANSWER.noData).ret();
    f.label("noname").mov("a0", ANSWER.noName).ret();
    f.label("failed").mov("a0", ANSWER.failed).ret();
    f.label("ignore").mov("a0", ANSWER.ignore).ret();
  });
}

/** Emits the resolver's pure parts: `hosts_find`, `resolv_parse`, `dns_query`, `dns_answer`. */
export function emitResolverParsers(p: ProgramBuilder): void {
  if (p.has("hosts_find")) return;
  emitHostsFind(p);
  emitResolvParse(p);
  emitDnsQuery(p);
  emitDnsAnswer(p);
}
