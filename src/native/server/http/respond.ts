// Deciding and sending responses in the IR (docs/http-semantics.md, sections 3 to 8), the same as
// src/preview/respond.ts and connection.ts: `http_input` answers every complete request in a buffer,
// `http_timeout` answers 408. Each response is the pack's precomputed head, the dynamic bytes built in
// DYN (Content-Range/Length, a redirect's suffix and query, Date, Connection, CRLF) and a body slice.

import { FEATURE } from "../../../access/features.ts";
import { KIND } from "../../../access/section.ts";
import {
  CLASS,
  ERROR,
  ERROR_SLOTS,
  H,
  NOT_MODIFIED_STATUS_LINE,
  PARTIAL_STATUS_LINE,
  ROUTE,
  STRING,
  STRING_SIZE,
  VARIANTS_AT,
} from "../../../pack/layout.ts";
import type { ProgramBuilder } from "../../ir/builder.ts";
import { emitAccessCheck } from "../access/enforce.ts";
import { emitDecimal } from "../decimal.ts";
import { emitLex } from "./lex.ts";
import { emitNegotiate } from "./negotiate.ts";
import { BODY_LIMIT, emitParse } from "./parse.ts";
import { CLOSING_ORDINALS, DYN, ERR, PATH, S, slot } from "./state.ts";
import { emitTarget } from "./target.ts";

/** What the HTTP layer needs of the shell: offsets in the globals block (s5) and of the response
 * descriptor that `send(fd)` reads (G and R in ../globals.ts and ../loop.ts). */
export interface ShellInterface {
  /** The mapped pack's address (8 bytes). */
  pack: number;
  /** The data symbol of the line "Date: <IMF-fixdate>\r\n", dateLineLength bytes. */
  dateLine: string;
  dateLineLength: number;
  /** The response descriptor send(fd) reads. */
  response: number;
  /** A 32-byte buffer for getpeername (builds with IP rules). */
  sockaddr: number;
  R: {
    head: number;
    headLen: number;
    dyn: number;
    dynLen: number;
    body: number;
    bodyLen: number;
    close: number;
    /** Where the request head being answered starts (for the access log). */
    line: number;
  };
}

/**
 * A put_fmt template: bytes below 8 are pack strings, 0x80 + i the decimal number at s4 + 8i (a
 * state field), other bytes themselves; 0 ends it.
 */
function format(...parts: (string | number | { field: number })[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === "number") out.push(part);
    else if (typeof part === "string") out.push(...new TextEncoder().encode(part));
    else out.push(0x80 + part.field / 8);
  }
  return Uint8Array.from([...out, 0]);
}
/** Content-Range of a 416, and Content-Range and Content-Length of a 206. */
const UNSATISFIABLE = format(STRING.contentRange, "*/", { field: S.size }, STRING.crlf);
const PARTIAL = format(
  STRING.contentRange,
  { field: S.first },
  "-",
  { field: S.last },
  "/",
  { field: S.size },
  STRING.crlf,
  STRING.contentLength,
  { field: S.length },
  STRING.crlf,
);
/** PARTIAL ends in Content-Length: <S.length> CRLF (and its 0), which err sends on its own. */
const CONTENT_LENGTH_TAIL = 4;

export function emitOutput(p: ProgramBuilder): void {
  if (p.has("put")) return;
  // put(ptr, len): appends bytes to DYN
  p.func("put", {}, (f) => {
    f.load(8, "a2", { base: "s4", offset: S.out }).mov("a3", 0);
    f.label("loop").br("geu", "a3", "a1", "done").load(1, "a4", { base: "a0", index: "a3" });
    f.store(1, "a4", { base: "a2", index: "a3" }).add("a3", "a3", 1).jmp("loop");
    f.label("done").add("a2", "a2", "a1").store(8, "a2", { base: "s4", offset: S.out }).ret();
  });
  // put_byte(c)
  p.func("put_byte", {}, (f) => {
    f.load(8, "a1", { base: "s4", offset: S.out }).store(1, "a0", "a1").add("a1", "a1", 1);
    f.store(8, "a1", { base: "s4", offset: S.out }).ret();
  });
  // put_hex(d < 16): one upper-case hex digit
  p.func("put_hex", {}, (f) => {
    f.add("a0", "a0", 48).br("ltu", "a0", 58, "put").add("a0", "a0", 7);
    f.label("put").call("put_byte").ret();
  });
  // put_str(k): appends the pack's server string k
  p.func("put_str", {}, (f) => {
    f.load(8, "a1", { base: "s4", offset: S.pack })
      .load(8, "a2", { base: "a1", offset: 72 })
      .add("a2", "a2", "a1");
    f.shl("a0", "a0", 4).add("a2", "a2", "a0").load(8, "a0", "a2").add("a0", "a0", "a1");
    f.load(8, "a1", { base: "a2", offset: 8 }).call("put").ret();
  });
  // put_fmt(template): appends what a template (see format) describes
  p.func("put_fmt", { saves: ["s0"] }, (f) => {
    f.mov("s0", "a0");
    f.label("next").load(1, "a0", "s0").add("s0", "s0", 1).br("eq", "a0", 0, "done");
    f.br("ltu", "a0", 8, "string").br("geu", "a0", 0x80, "number").call("put_byte").jmp("next");
    f.label("string").call("put_str").jmp("next");
    f.label("number").load(8, "a0", { base: "s4", index: "a0", scale: 8, offset: -0x80 * 8 });
    f.call("put_num").jmp("next");
    f.label("done").ret();
  });
  // put_num(n): decimal without leading zeros
  emitDecimal(p);
  p.func("put_num", {}, (f) => {
    f.load(8, "a1", { base: "s4", offset: S.out }).mov("a2", 0).call("decimal");
    f.store(8, "a0", { base: "s4", offset: S.out }).ret();
  });
}

/**
 * Emits the HTTP layer's responses; with access `features` (src/access/features.ts), the access
 * checks too, between normalising the target and looking its route up.
 */
export function emitRespond(p: ProgramBuilder, shell: ShellInterface, features = 0): void {
  const { R } = shell;
  if (p.has("http_input")) return;
  const access = features !== 0;
  const proxy = (features & FEATURE.proxy) !== 0;
  if (access) emitAccessCheck(p, shell, features);
  emitLex(p);
  emitParse(p, proxy);
  emitNegotiate(p);
  emitTarget(p);
  emitOutput(p);
  p.rodata("fmt_unsatisfiable", UNSATISFIABLE).rodata("fmt_partial", PARTIAL);
  p.rodata("status_206", PARTIAL_STATUS_LINE).rodata("status_304", NOT_MODIFIED_STATUS_LINE);

  // setup(fd): the state's pack, byte classes and fd (s4 already points at the state)
  p.func("setup", {}, (f) => {
    f.store(8, "a0", { base: "s4", offset: S.fd }).load(8, "a1", { base: "s5", offset: shell.pack });
    f.store(8, "a1", { base: "s4", offset: S.pack })
      .load(8, "a2", { base: "a1", offset: 72 })
      .add("a2", "a2", "a1");
    f.load(8, "a2", { base: "a2", offset: STRING.byteClasses * STRING_SIZE })
      .add("a2", "a2", "a1")
      .store(8, "a2", { base: "s4", offset: S.cls });
    f.ret();
  });

  // finish(head, headLen, body, bodyLen) → send's answer: appends Date, Connection and CRLF to DYN
  // and sends head, DYN, body
  p.func("finish", {}, (f) => {
    f.add("a4", "s5", shell.response).store(8, "a0", { base: "a4", offset: R.head });
    f.store(8, "a1", { base: "a4", offset: R.headLen }).store(8, "a2", { base: "a4", offset: R.body });
    f.store(8, "a3", { base: "a4", offset: R.bodyLen });
    f.addr("a0", shell.dateLine).mov("a1", shell.dateLineLength).call("put");
    f.load(8, "a1", { base: "s4", offset: S.close })
      .mov("a0", STRING.connectionClose)
      .br("ne", "a1", 0, "conn");
    f.load(8, "a1", { base: "s4", offset: S.minor })
      .mov("a0", STRING.connectionKeepAlive)
      .br("ne", "a1", 0, "crlf");
    f.label("conn").call("put_str");
    f.label("crlf").mov("a0", STRING.crlf).call("put_str");
    f.add("a1", "s5", shell.response).add("a0", "s4", DYN).store(8, "a0", { base: "a1", offset: R.dyn });
    f.load(8, "a2", { base: "s4", offset: S.out })
      .sub("a2", "a2", "a0")
      .store(8, "a2", { base: "a1", offset: R.dynLen });
    f.load(8, "a2", { base: "s4", offset: S.close }).store(8, "a2", { base: "a1", offset: R.close });
    f.load(8, "a0", { base: "s4", offset: S.fd }).call("send").ret();
  });

  // err(ordinal, noBody) → send's answer: the error response of that ordinal, its status line then
  // the shared fields and Content-Length of its body (after whatever the caller put in DYN)
  p.func("err", { saves: ["s0", "s1"] }, (f) => {
    f.load(8, "a5", { base: "s4", offset: S.pack })
      .load(8, "a2", { base: "a5", offset: H.errors })
      .add("a2", "a2", "a5");
    f.shl("a3", "a0", 3).add("a2", "a2", "a3").shl("a3", "a3", 2).add("s0", "a2", "a3");
    f.mov("a4", CLOSING_ORDINALS).shr("a4", "a4", "a0").and("a4", "a4", 1);
    f.load(8, "a0", { base: "s4", offset: S.close })
      .or("a0", "a0", "a4")
      .store(8, "a0", { base: "s4", offset: S.close });
    f.mov("s1", "a1").load(4, "a0", { base: "s0", offset: ERROR.bodyLength });
    f.store(8, "a0", { base: "s4", offset: S.length });
    f.load(8, "a0", { base: "s0", offset: ERROR.fields }).add("a0", "a0", "a5");
    f.load(4, "a1", { base: "s0", offset: ERROR.fieldsLength }).call("put");
    f.addr("a0", "fmt_partial", PARTIAL.length - CONTENT_LENGTH_TAIL).call("put_fmt");
    f.load(8, "a3", { base: "s4", offset: S.length }).br("eq", "s1", 0, "body").mov("a3", 0);
    f.label("body").load(8, "a5", { base: "s4", offset: S.pack });
    f.load(4, "a1", { base: "s0", offset: ERROR.statusLineLength }).load(8, "a0", "s0").add("a0", "a0", "a5");
    f.load(8, "a2", { base: "s0", offset: ERROR.body }).add("a2", "a2", "a5");
    f.call("finish").ret();
  });

  // redirect(head, headLen, suffix, flags) → send's answer: the head, the percent-encoded rest of the
  // path from suffix, the query when flags has APPEND_QUERY, CRLF
  p.func("redirect", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.mov("s0", "a0").mov("s1", "a1").mov("s2", "a2").mov("s3", "a3");
    f.label("enc").load(8, "a0", { base: "s4", offset: S.pathLen }).add("a0", "a0", "s4");
    f.add("a0", "a0", PATH).br("geu", "s2", "a0", "query");
    f.load(1, "a0", "s2").add("s2", "s2", 1).load(8, "a1", { base: "s4", offset: S.cls });
    f.load(1, "a1", { base: "a1", index: "a0" })
      .and("a1", "a1", CLASS.locationSafe)
      .br("ne", "a1", 0, "plain");
    f.mov("a0", 37)
      .call("put_byte")
      .load(1, "a0", { base: "s2", offset: -1 })
      .shr("a0", "a0", 4)
      .call("put_hex");
    f.load(1, "a0", { base: "s2", offset: -1 }).and("a0", "a0", 15).call("put_hex").jmp("enc");
    f.label("plain").call("put_byte").jmp("enc");
    f.label("query").and("a0", "s3", 1).br("eq", "a0", 0, "crlf");
    f.load(8, "a0", { base: "s4", offset: S.query }).br("eq", "a0", 0, "crlf");
    f.mov("a0", 63).call("put_byte");
    f.load(8, "a0", { base: "s4", offset: S.query })
      .load(8, "a1", { base: "s4", offset: S.queryLen })
      .call("put");
    f.label("crlf").mov("a0", STRING.crlf).call("put_str");
    f.mov("a0", "s0").mov("a1", "s1").mov("a2", 0).mov("a3", 0).call("finish").ret();
  });

  // answer() → send's answer for the request in the record
  p.func("answer", { saves: ["s0", "s1", "s2", "s3"] }, (f) => {
    f.load(8, "a0", { base: "s4", offset: S.minor }).br("ne", "a0", 0, "method");
    f.load(8, "a0", { base: "s4", offset: S.keepAlive }).br("ne", "a0", 0, "method");
    f.store(1, 1, { base: "s4", offset: S.close });
    f.label("method").load(8, "s0", { base: "s4", offset: S.method });
    if (access) {
      // access rules judge every request whose target normalises, whatever its method
      f.load(8, "a0", { base: "s4", offset: S.target }).load(8, "a1", { base: "s4", offset: S.targetLen });
      f.call("normalise");
      if (proxy) {
        // a body above the site's limit is a 413 before any rule unless a proxy rule covers the path
        f.load(8, "a1", { base: "s4", offset: S.contentLength }).br("leu", "a1", BODY_LIMIT, "sized");
        f.br("lt", "a0", 0, "large").mov("a0", KIND.proxy).call("first_rule").br("ne", "a0", 0, "sized");
        f.label("large")
          .store(1, 1, { base: "s4", offset: S.close })
          .mov("a0", ERR[413])
          .mov("a1", 0)
          .call("err")
          .ret();
        f.label("sized");
      }
      f.br("lt", "a0", 0, "checked").call("access_check");
      if (proxy) {
        // the proxy rule that covers the request forwards it: proxy_request(rule) → send's answer
        f.br("lt", "a0", 0, "passed").br("ltu", "a0", ERROR_SLOTS, "nobody").call("proxy_request").ret();
        f.label("passed");
      } else f.br("ge", "a0", 0, "nobody");
      f.mov("a0", 0).label("checked");
    }
    f.br("ltu", "s0", 2, "get");
    f.mov("a0", ERR[501]).br("gtu", "s0", 8, "e").mov("a0", ERR[405]);
    f.label("e").mov("a1", 0).call("err").ret();
    f.label("get");
    if (access) f.br("lt", "a0", 0, "e400");
    else
      f.load(8, "a0", { base: "s4", offset: S.target })
        .load(8, "a1", { base: "s4", offset: S.targetLen })
        .call("normalise")
        .br("lt", "a0", 0, "e400");
    f.call("lookup").mov("s1", "a0").br("eq", "a0", 0, "prefixes");
    f.load(1, "a0", { base: "s1", offset: ROUTE.kind }).br("ne", "a0", 2, "resource");
    f.load(8, "a5", { base: "s4", offset: S.pack })
      .load(8, "a0", { base: "s1", offset: VARIANTS_AT })
      .add("a0", "a0", "a5");
    f.load(4, "a1", { base: "s1", offset: VARIANTS_AT + 8 }).load(8, "a2", { base: "s4", offset: S.pathLen });
    f.add("a2", "a2", "s4")
      .add("a2", "a2", PATH)
      .load(4, "a3", { base: "s1", offset: ROUTE.flags })
      .call("redirect")
      .ret();
    // prefix redirects, in table order
    f.label("prefixes")
      .load(8, "a0", { base: "s4", offset: S.pack })
      .load(4, "a1", { base: "a0", offset: 44 });
    f.load(8, "s2", { base: "a0", offset: 48 })
      .add("s2", "s2", "a0")
      .shl("a1", "a1", 5)
      .add("s3", "s2", "a1");
    f.label("prefix").br("geu", "s2", "s3", "spa");
    f.load(4, "a1", { base: "s2", offset: 8 })
      .load(8, "a3", { base: "s4", offset: S.pathLen })
      .br("gtu", "a1", "a3", "pnext");
    f.load(8, "a0", "s2").load(8, "a2", { base: "s4", offset: S.pack }).add("a0", "a0", "a2");
    f.add("a2", "s4", PATH).mov("a3", "a1").call("same").br("eq", "a0", 0, "pnext");
    f.load(8, "a5", { base: "s4", offset: S.pack })
      .load(8, "a0", { base: "s2", offset: 16 })
      .add("a0", "a0", "a5");
    f.load(4, "a1", { base: "s2", offset: 12 })
      .load(4, "a2", { base: "s2", offset: 8 })
      .add("a2", "a2", "s4");
    f.add("a2", "a2", PATH).load(4, "a3", { base: "s2", offset: 28 }).call("redirect").ret();
    f.label("pnext").add("s2", "s2", 32).jmp("prefix");
    // the SPA fallback when the last segment has no "."
    f.label("spa").load(8, "a0", { base: "s4", offset: S.pack }).load(8, "s1", { base: "a0", offset: 56 });
    f.br("eq", "s1", 0, "e404").add("s1", "s1", "a0");
    f.load(8, "a2", { base: "s4", offset: S.pathLen }).add("a2", "a2", "s4").add("a2", "a2", PATH);
    f.label("last").sub("a2", "a2", 1).load(1, "a3", "a2").br("eq", "a3", 47, "resource");
    f.br("ne", "a3", 46, "last");
    f.label("e404").mov("a0", ERR[404]).jmp("nobody");
    f.label("e400").mov("a0", ERR[400]);
    f.label("nobody").mov("a1", 0).br("ne", "s0", 1, "eb").mov("a1", 1);
    f.label("eb").call("err").ret();

    // a resource: variant, conditionals, range
    // the record holds the variants it has: br comes right after identity when there is no gzip
    f.label("resource").mov("a0", "s1").call("choose").br("ne", "a0", 2, "ranked");
    f.load(1, "a1", { base: "s1", offset: ROUTE.mask })
      .shr("a1", "a1", 1)
      .and("a1", "a1", 1)
      .add("a0", "a1", 1);
    f.label("ranked").shl("a0", "a0", 6).add("s2", "s1", "a0").add("s2", "s2", VARIANTS_AT);
    f.load(8, "a0", { base: "s4", offset: S.inmCount }).br("eq", "a0", 0, "ims");
    f.load(8, "a0", { base: "s2", offset: 40 })
      .load(8, "a1", { base: "s4", offset: S.pack })
      .add("a0", "a0", "a1");
    f.load(4, "a1", { base: "s2", offset: 36 }).call("inm").br("ne", "a0", 0, "notmod").jmp("range");
    f.label("ims")
      .load(8, "a0", { base: "s4", offset: slot("if-modified-since") })
      .br("eq", "a0", 0, "range");
    // 304 only for the exact Last-Modified text (nginx's default, if_modified_since exact)
    f.load(4, "a3", { base: "s1", offset: ROUTE.lastModifiedLength }).br("eq", "a3", 0, "range");
    f.load(8, "a1", { base: "s4", offset: slot("if-modified-since") + 8 })
      .load(8, "a2", { base: "s1", offset: ROUTE.lastModified })
      .load(8, "a5", { base: "s4", offset: S.pack })
      .add("a2", "a2", "a5")
      .call("same")
      .br("eq", "a0", 0, "range");
    // 304: its status line, then the last of the 200 head's fields
    f.label("notmod").load(8, "a5", { base: "s4", offset: S.pack }).load(8, "a0", { base: "s2", offset: 24 });
    f.add("a0", "a0", "a5").load(4, "a1", { base: "s2", offset: 32 }).call("put");
    f.addr("a0", "status_304").mov("a1", NOT_MODIFIED_STATUS_LINE.length).mov("a2", 0).mov("a3", 0);
    f.call("finish").ret();
    f.label("range").br("ne", "s0", 0, "full");
    f.load(8, "a0", { base: "s4", offset: slot("range") }).br("eq", "a0", 0, "full");
    f.load(8, "a0", { base: "s4", offset: slot("if-range") }).br("eq", "a0", 0, "evaluate");
    f.load(8, "a1", { base: "s4", offset: slot("if-range") + 8 }).br("eq", "a1", 0, "full");
    f.load(8, "a5", { base: "s4", offset: S.pack });
    f.load(1, "a2", "a0").br("ne", "a2", 34, "lm");
    f.load(8, "a2", { base: "s2", offset: 40 })
      .add("a2", "a2", "a5")
      .load(4, "a3", { base: "s2", offset: 36 })
      .jmp("ifr");
    f.label("lm")
      .load(8, "a2", { base: "s1", offset: ROUTE.lastModified })
      .add("a2", "a2", "a5")
      .load(4, "a3", { base: "s1", offset: ROUTE.lastModifiedLength });
    f.label("ifr").call("same").br("eq", "a0", 0, "full");
    f.label("evaluate").load(8, "a0", { base: "s4", offset: slot("range") });
    f.load(8, "a1", { base: "s4", offset: slot("range") + 8 })
      .load(8, "a2", { base: "s2", offset: 56 })
      .call("range");
    f.br("eq", "a0", 0, "full").br("eq", "a0", 2, "partial");
    f.addr("a0", "fmt_unsatisfiable").call("put_fmt").mov("a0", ERR[416]).mov("a1", 0).call("err").ret();
    // 206: its status line, then the 200 head's fields (stored inside it), Content-Range, Content-Length
    f.label("partial")
      .load(8, "a5", { base: "s4", offset: S.pack })
      .load(8, "a0", { base: "s2", offset: 16 })
      .add("a0", "a0", "a5");
    f.load(4, "a1", { base: "s2", offset: 12 }).call("put");
    f.addr("a0", "fmt_partial").call("put_fmt");
    f.load(8, "a2", { base: "s2", offset: 48 })
      .load(8, "a5", { base: "s4", offset: S.pack })
      .add("a2", "a2", "a5");
    f.load(8, "a3", { base: "s4", offset: S.first }).add("a2", "a2", "a3");
    f.addr("a0", "status_206").mov("a1", PARTIAL_STATUS_LINE.length);
    f.load(8, "a3", { base: "s4", offset: S.length }).call("finish").ret();
    f.label("full")
      .load(8, "a5", { base: "s4", offset: S.pack })
      .load(8, "a0", { base: "s2", offset: 0 })
      .add("a0", "a0", "a5");
    f.load(4, "a1", { base: "s2", offset: 8 })
      .load(8, "a2", { base: "s2", offset: 48 })
      .add("a2", "a2", "a5");
    f.load(8, "a3", { base: "s2", offset: 56 }).br("ne", "s0", 1, "send").mov("a3", 0);
    f.label("send").call("finish").ret();
  });

  // http_input(fd, ptr, len) → bytes consumed
  p.func("http_input", { saves: ["s0", "s1", "s2", "s3", "s4"] }, (f) => {
    f.addr("s4", "http_state")
      .mov("s0", "a0")
      .mov("s1", "a1")
      .add("s2", "a1", "a2")
      .mov("s3", "a1")
      .call("setup");
    f.label("loop")
      .mov("a0", "s0")
      .call("entry")
      .load(4, "a1", { base: "a0", offset: 8 })
      .br("eq", "a1", 0, "request");
    f.sub("a2", "s2", "s1").br("leu", "a1", "a2", "skip").mov("a1", "a2");
    f.label("skip").add("s1", "s1", "a1").load(4, "a2", { base: "a0", offset: 8 }).sub("a2", "a2", "a1");
    f.store(4, "a2", { base: "a0", offset: 8 }).br("ne", "a2", 0, "out");
    f.label("request").sub("a1", "s2", "s1").br("eq", "a1", 0, "out").br("ltu", "a1", 2, "parse");
    f.load(2, "a2", "s1").br("ne", "a2", 0x0a0d, "parse").add("s1", "s1", 2).jmp("request");
    f.label("parse").store(8, "s1", { base: "s5", offset: shell.response + R.line });
    f.mov("a0", "s1").call("head").br("eq", "a0", 0, "out").br("lt", "a0", 0, "bad");
    f.add("s1", "s1", "a0").mov("a0", "s0").call("entry");
    f.load(8, "a1", { base: "s4", offset: S.contentLength }).store(4, "a1", { base: "a0", offset: 8 });
    f.call("answer").load(8, "a1", { base: "s4", offset: S.close }).br("ne", "a1", 0, "all");
    f.br("eq", "a0", 0, "loop");
    f.label("out").sub("a0", "s1", "s3").ret();
    f.label("bad").not("a0", "a0").store(1, 1, { base: "s4", offset: S.close }).mov("a1", 0).call("err");
    f.label("all").sub("a0", "s2", "s3").ret();
  });

  // http_timeout(fd): 408 and close
  p.func("http_timeout", { saves: ["s4"] }, (f) => {
    f.addr("s4", "http_state").call("setup").call("reset").store(1, 1, { base: "s4", offset: S.close });
    f.mov("a0", ERR[408]).mov("a1", 0).call("err").ret();
  });
}
