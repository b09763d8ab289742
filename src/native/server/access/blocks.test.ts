import assert from "node:assert/strict";
import { createHmac, pbkdf2Sync } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { decodeBase64, parseBasicCredentials } from "../../../access/basic.ts";
import { type Cidr, cidrContains, parseAddress, parseCidr } from "../../../access/cidr.ts";
import { deriveKey, verifyPassword } from "../../../access/password.ts";
import { clientAddress, ipAllowed } from "../../../access/rules.ts";
import { encodeAccessSection } from "../../../access/section.ts";
import { ProgramBuilder } from "../../ir/builder.ts";
import { Machine } from "../../ir/interpret.ts";
import { emitAccessBlocks, MAX_SALT } from "./index.ts";

const p = new ProgramBuilder();
p.bss("a", 4096);
p.bss("b", 4096);
p.bss("out", 4096);
emitAccessBlocks(p);
p.func("main", {}, (f) => f.mov("a0", 0).syscall("exit_group"));
const m = new Machine(p.build("main"), { syscall: () => 0n, maxSteps: 1e9 });
const [a, b, out] = ["a", "b", "out"].map((s) => m.address(s)) as [number, number, number];
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function irHmac(key: Uint8Array, message: Uint8Array): string {
  m.memory.write(a, key);
  m.memory.write(b, message);
  m.call("hmac_sha256", [a, BigInt(key.length), b, BigInt(message.length), out]);
  return hex(m.memory.read(out, 32));
}

function irPbkdf2(password: Uint8Array, salt: Uint8Array, iterations: number): string {
  m.memory.write(a, password);
  m.memory.write(b, salt);
  m.call("pbkdf2_sha256", [a, BigInt(password.length), b, BigInt(salt.length), BigInt(iterations), out]);
  return hex(m.memory.read(out, 32));
}

test("hmac_sha256 in the IR matches node:crypto, keys shorter and longer than a block", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 150 }), (key, message) =>
      assert.equal(irHmac(key, message), createHmac("sha256", key).update(message).digest("hex")),
    ),
    { numRuns: 60 },
  );
  for (const n of [63, 64, 65])
    assert.equal(
      irHmac(new Uint8Array(n).fill(7), new Uint8Array(3)),
      createHmac("sha256", new Uint8Array(n).fill(7)).update(new Uint8Array(3)).digest("hex"),
    );
});

test("pbkdf2_sha256 in the IR matches node:crypto", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 100 }),
      fc.uint8Array({ maxLength: MAX_SALT }),
      fc.integer({ min: 1, max: 12 }),
      (password, salt, iterations) =>
        assert.equal(
          irPbkdf2(password, salt, iterations),
          pbkdf2Sync(password, salt, iterations, 32, "sha256").toString("hex"),
        ),
    ),
    { numRuns: 40 },
  );
  const salt = new Uint8Array(16).fill(0xa5);
  assert.equal(
    irPbkdf2(new TextEncoder().encode("hunter2"), salt, 1000),
    pbkdf2Sync("hunter2", salt, 1000, 32, "sha256").toString("hex"),
  );
});

test("base64_decode in the IR accepts and refuses exactly what decodeBase64 does", () => {
  const decode = (text: Uint8Array): Uint8Array | null => {
    m.memory.write(a, text);
    const n = BigInt.asIntN(64, m.call("base64_decode", [a, BigInt(text.length), out]));
    return n < 0n ? null : m.memory.read(out, Number(n)).slice();
  };
  const chars = fc.constantFrom(..."ABZaz09+/=-_ *\u0000\u00ff".split(""));
  fc.assert(
    fc.property(
      fc.oneof(
        fc
          .uint8Array({ maxLength: 60 })
          .map((bytes) => new TextEncoder().encode(Buffer.from(bytes).toString("base64"))),
        fc.array(chars, { maxLength: 12 }).map((cs) => Uint8Array.from(cs.map((c) => c.charCodeAt(0)))),
      ),
      (text) => assert.deepEqual(decode(text), decodeBase64(text), Buffer.from(text).toString("latin1")),
    ),
    { numRuns: 1000 },
  );
});

test("ct_equal in the IR is equality", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 40 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      (x, at, flip) => {
        const y = x.slice();
        if (y.length > 0) y[at % y.length] ^= flip;
        m.memory.write(a, x);
        m.memory.write(b, y);
        assert.equal(
          m.call("ct_equal", [a, b, BigInt(x.length)]),
          Buffer.from(x).equals(Buffer.from(y)) ? 1n : 0n,
        );
      },
    ),
    { numRuns: 500 },
  );
});

test("cidr_match and ip_allowed in the IR agree with the TypeScript rules over section entries", () => {
  const address = fc.oneof(fc.ipV4(), fc.ipV6()).map((s) => parseAddress(s)!);
  /** An address near `base`: a few low or high bits changed, so prefixes match often. */
  const near = (base: Uint8Array, flips: [number, number][]) => {
    const out = base.slice();
    for (const [byte, bit] of flips) out[byte % 16]! ^= 1 << (bit % 8);
    return out;
  };
  fc.assert(
    fc.property(
      fc.array(fc.record({ address, bits: fc.integer({ min: 0, max: 128 }), allow: fc.boolean() }), {
        maxLength: 5,
      }),
      fc.nat(4),
      fc.array(fc.tuple(fc.nat(15), fc.nat(7)), { maxLength: 2 }),
      (entries, pick, flips) => {
        const probe =
          entries.length > 0 ? near(entries[pick % entries.length]!.address, flips) : new Uint8Array(16);
        const section = new Uint8Array(24 * entries.length);
        entries.forEach((e, i) => {
          section.set(e.address, i * 24);
          section[i * 24 + 16] = e.bits;
          section[i * 24 + 17] = e.allow ? 1 : 0;
        });
        m.memory.write(a, section);
        m.memory.write(b, probe);
        entries.forEach((e, i) => {
          const cidr: Cidr = { address: e.address, bits: e.bits };
          assert.equal(m.call("cidr_match", [a + i * 24, b]), cidrContains(cidr, probe) ? 1n : 0n);
        });
        const rule = {
          path: "/",
          entries: entries.map((e) => ({ allow: e.allow, cidr: { address: e.address, bits: e.bits } })),
        };
        assert.equal(m.call("ip_allowed", [a, BigInt(entries.length), b]), ipAllowed(rule, probe) ? 1n : 0n);
      },
    ),
    { numRuns: 500 },
  );
});

test("ip_allowed over the IP entries of an encoded access section agrees with the rules it was encoded from", () => {
  const text = fc.oneof(fc.ipV4(), fc.ipV6());
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), text, fc.integer({ min: 0, max: 128 })), {
        minLength: 1,
        maxLength: 4,
      }),
      text,
      (entries, probeText) => {
        const rules = {
          trustedProxies: [],
          ip: [
            {
              path: "/",
              entries: entries.map(([allow, at, bits]) => ({
                allow,
                cidr: { address: parseAddress(at)!, bits },
              })),
            },
          ],
          auth: [],
          proxy: [],
        };
        const section = encodeAccessSection(rules);
        const view = new DataView(section.buffer);
        // the first rule record (after the 16-byte header): entry count at 4, item offset at 24
        const count = view.getUint32(16 + 4, true);
        const items = view.getUint32(16 + 24, true);
        const probe = parseAddress(probeText)!;
        m.memory.write(a, section);
        m.memory.write(b, probe);
        assert.equal(
          m.call("ip_allowed", [a + items, BigInt(count), b]),
          ipAllowed(rules.ip[0]!, probe) ? 1n : 0n,
        );
      },
    ),
    { numRuns: 300 },
  );
});

test("basic_check in the IR accepts exactly the Authorization values the preview accepts", () => {
  const users = [
    { name: "alice", password: "wonderland" },
    { name: "bob", password: "pa:ss" },
    { name: "é", password: "" },
  ].map((u, i) => {
    const salt = Uint8Array.from({ length: 16 }, (_, j) => i * 16 + j);
    const iterations = i + 1;
    return {
      ...u,
      user: {
        name: u.name,
        iterations,
        salt,
        key: deriveKey(new TextEncoder().encode(u.password), salt, iterations),
      },
    };
  });
  const section = encodeAccessSection({
    trustedProxies: [],
    ip: [],
    auth: [{ path: "/", realm: "R", source: { kind: "users", users: users.map((u) => u.user) } }],
    proxy: [],
  });
  const records = new DataView(section.buffer).getUint32(16 + 24, true);
  m.memory.write(a, section);
  const irCheck = (value: Uint8Array) => {
    m.memory.write(b, value);
    return m.call("basic_check", [a, a + records, BigInt(users.length), b, BigInt(value.length)]) === 1n;
  };
  const tsCheck = (value: Uint8Array) => {
    const credentials = parseBasicCredentials(value);
    if (!credentials) return false;
    const user = users.find((u) => Buffer.from(u.name).equals(Buffer.from(credentials.user)));
    return user !== undefined && verifyPassword(user.user, credentials.password);
  };
  const header = (scheme: string, spaces: number, text: string) =>
    new TextEncoder().encode(`${scheme}${" ".repeat(spaces)}${Buffer.from(text).toString("base64")}`);
  for (const u of users) assert.equal(irCheck(header("Basic", 1, `${u.name}:${u.password}`)), true, u.name);
  fc.assert(
    fc.property(
      fc.constantFrom("Basic", "basic", "BASIC", "Basi", "Basicc", "Bearer", "bAsIc"),
      fc.integer({ min: 0, max: 3 }),
      fc.constantFrom(...users.map((u) => u.name), "mallory", "", "alic"),
      fc.oneof(fc.constantFrom(...users.map((u) => u.password)), fc.string({ maxLength: 12 })),
      fc.boolean(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 2 }),
      (scheme, spaces, name, password, withColon, edits) => {
        const value = header(scheme, spaces, withColon ? `${name}:${password}` : name);
        for (const [at, v] of edits) value[at % value.length] = v;
        assert.equal(irCheck(value), tsCheck(value), Buffer.from(value).toString("latin1"));
      },
    ),
    { numRuns: 300 },
  );
  assert.equal(irCheck(new Uint8Array(5000).fill(65)), false, "too long");
});

test("parse_address in the IR accepts exactly what parseAddress accepts, with the same 16 bytes", () => {
  const parse = (text: string): Uint8Array | null => {
    const bytes = new TextEncoder().encode(text);
    m.memory.write(a, bytes);
    m.memory.write(out, new Uint8Array(16).fill(0xee));
    return m.call("parse_address", [a, BigInt(bytes.length), out]) === 1n
      ? m.memory.read(out, 16).slice()
      : null;
  };
  const samples = [
    "::",
    "::1",
    ":",
    ":::",
    "1::",
    "::ffff:1.2.3.4",
    "1:2:3:4:5:6:7:8",
    "1::2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7",
    "01.2.3.4",
    "0.0.0.0",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.0",
    "::1.2.3.4",
    "1.2.3.4::",
    "::12345",
    "fe80::1%eth0",
    "",
    "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4",
    "a:B:c:D::",
  ];
  for (const s of samples) assert.deepEqual(parse(s), parseAddress(s), s);
  const alphabet = fc.constantFrom(..."0123456789abcdefABCDEFg:.%".split(""));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.ipV4(),
        fc.ipV6(),
        fc.ipV4Extended(),
        fc.array(alphabet, { maxLength: 16 }).map((cs) => cs.join("")),
        fc
          .tuple(fc.ipV6(), fc.nat(), alphabet)
          .map(([s, at, c]) => s.slice(0, at % (s.length + 1)) + c + s.slice(at % (s.length + 1))),
      ),
      (text) => assert.deepEqual(parse(text), parseAddress(text), text),
    ),
    { numRuns: 3000 },
  );
});

test("client_address in the IR walks X-Forwarded-For behind trusted proxies as clientAddress does", () => {
  const pool = ["10.0.0.1", "10.0.0.2", "192.0.2.7", "::1", "2001:db8::5", "::ffff:10.0.0.3", "127.0.0.1"];
  const trustedPool = ["10.0.0.0/8", "127.0.0.1", "::1", "2001:db8::/32", "192.0.2.0/24"];
  fc.assert(
    fc.property(
      fc.constantFrom(...pool),
      fc.subarray(trustedPool),
      fc.array(fc.oneof(fc.constantFrom(...pool), fc.constantFrom("", " ", "junk", "1.2.3", "8.8.8.8")), {
        maxLength: 5,
      }),
      fc.array(fc.constantFrom(",", ", ", " ,", "\t,\t", ",,"), { minLength: 5, maxLength: 5 }),
      (peerText, trustedTexts, hops, separators) => {
        const trusted = trustedTexts.map((t) => parseCidr(t) as Cidr);
        const xff = hops.map((h, i) => (i === 0 ? h : `${separators[i]}${h}`)).join("");
        const entries = new Uint8Array(24 * trusted.length);
        trusted.forEach((c, i) => {
          entries.set(c.address, i * 24);
          entries[i * 24 + 16] = c.bits;
        });
        const peer = parseAddress(peerText)!;
        const text = new TextEncoder().encode(xff);
        m.memory.write(a, text);
        m.memory.write(b, entries);
        m.memory.write(out, peer);
        m.call("client_address", [a, BigInt(text.length), b, BigInt(trusted.length), out]);
        assert.deepEqual(
          m.memory.read(out, 16).slice(),
          clientAddress(peer, [xff], trusted),
          JSON.stringify([peerText, trustedTexts, xff]),
        );
      },
    ),
    { numRuns: 1000 },
  );
});
