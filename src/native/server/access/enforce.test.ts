import assert from "node:assert/strict";
import { test } from "node:test";
import { CORPUS_SITE } from "../../../../test/corpus/site.ts";
import { compileAccess } from "../../../access/compile.ts";
import { FEATURE } from "../../../access/features.ts";
import { hashPassword } from "../../../access/password.ts";
import { encodeAccessSection } from "../../../access/section.ts";
import { writePack } from "../../../pack/write.ts";
import { dateLine } from "../../../preview/respond.ts";
import { accessErrorPages } from "../../../site/error-pages.ts";
import { Harness, sockaddrOf } from "../http/harness.ts";

const section = encodeAccessSection(
  compileAccess({
    auth: [
      {
        path: "/a",
        realm: "A",
        users: { alice: hashPassword("wonderland", 1000), bob: hashPassword("b", 1000) },
      },
      { path: "/b", realm: "B", users: { alice: hashPassword("wonderland", 1000) } },
    ],
    ipRules: [{ path: "/ip", rules: ["allow 10.0.0.0/8", "deny all"] }],
    trustedProxies: [],
    proxy: [],
  }),
);
const pack = writePack({ ...CORPUS_SITE, access: { section, errors: accessErrorPages() } });
const h = new Harness(pack, dateLine(1_700_000_000), FEATURE.auth | FEATURE.ip);
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;
/** The status and the IR steps of one request to `path` with `credentials`. */
function request(path: string, credentials?: string): { status: number; steps: number } {
  const auth = credentials ? `Authorization: ${basic(credentials)}\r\n` : "";
  const out = h.serve(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, "latin1"));
  return { status: Number(Buffer.from(out).toString("latin1").slice(9, 12)), steps: h.m.steps };
}

test("each auth rule remembers the last value it accepted: the same value again costs no hash", () => {
  const first = request("/a", "alice:wonderland");
  assert.equal(first.status, 200);
  const again = request("/a/x", "alice:wonderland");
  assert.equal(again.status, 200);
  assert.ok(again.steps * 20 < first.steps, `${again.steps} steps cached, ${first.steps} hashing`);
  const wrong = request("/a", "alice:wrong");
  assert.equal(wrong.status, 401);
  assert.ok(wrong.steps * 2 > first.steps, "a wrong value always pays the full cost");
  const unknown = request("/a", "mallory:wonderland");
  assert.equal(unknown.status, 401);
  assert.ok(unknown.steps * 2 > first.steps, "an unknown user costs a hash too");
  assert.ok(request("/a", "alice:wonderland").steps * 20 < first.steps, "still cached after wrong ones");
  // the other rule has a cache of its own, and a new accepted value replaces the old one
  assert.ok(request("/b", "alice:wonderland").steps * 2 > first.steps);
  assert.equal(request("/a", "bob:b").status, 200);
  assert.ok(request("/a", "alice:wonderland").steps * 2 > first.steps);
});

test("IP rules read the peer per request: IPv4, IPv4-mapped and IPv6 peers", () => {
  h.peer = sockaddrOf("10.1.2.3");
  assert.equal(request("/ip").status, 200);
  h.peer = sockaddrOf("::ffff:10.9.9.9");
  assert.equal(request("/ip").status, 200);
  h.peer = sockaddrOf("::ffff:11.0.0.1");
  assert.equal(request("/ip").status, 403);
  h.peer = sockaddrOf("::1");
  assert.equal(request("/ip/x").status, 403);
  assert.equal(request("/ipx").status, 200, "the SPA fallback: no rule covers /ipx");
});
