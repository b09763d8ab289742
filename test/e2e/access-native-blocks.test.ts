// The native server's access building blocks (src/native/server/access) run natively on x86-64 and
// under qemu-aarch64: programs built from random cases (fast-check) call SHA-256, HMAC, PBKDF2,
// base64 decoding, constant-time comparison and CIDR matching, and print the results, which must
// equal node:crypto's and the TypeScript rules' answers, and the interpreter's. Prints the size of
// each function per arch.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { decodeBase64 } from "../../src/access/basic.ts";
import { cidrContains, parseAddress, parseCidr } from "../../src/access/cidr.ts";
import { compileAccess } from "../../src/access/compile.ts";
import { hashPassword } from "../../src/access/password.ts";
import { clientAddress, ipAllowed } from "../../src/access/rules.ts";
import { encodeAccessSection } from "../../src/access/section.ts";
import { writeExecutable } from "../../src/native/elf/file.ts";
import { ProgramBuilder } from "../../src/native/ir/builder.ts";
import { interpret } from "../../src/native/ir/interpret.ts";
import { streamSyscalls } from "../../src/native/ir/streams.ts";
import type { Program } from "../../src/native/ir/types.ts";
import { link } from "../../src/native/link.ts";
import { CTX_BYTES, emitAccessBlocks, MAX_SALT } from "../../src/native/server/access/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import { runCommand } from "../support/native.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-access-native-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** One call: the function, its arguments (byte strings become pointers to rodata), the bytes of `out` it prints. */
interface Case {
  fn: string;
  /** Byte strings become pointers to rodata; `{ bytes, offset }` points into a copy of bytes. */
  args: (Uint8Array | number | { bytes: Uint8Array; offset: number })[];
  /** Bytes of `out` to print after the call; or "a0" to print the result's low byte. */
  print: number | "a0";
  expected: Uint8Array;
}

function program(cases: Case[]): Program {
  const p = new ProgramBuilder();
  emitAccessBlocks(p);
  p.bss("out", 256, 8);
  p.bss("ctx", CTX_BYTES, 8);
  p.bss("byte", 8, 8);
  cases.forEach((c, i) => {
    c.args.forEach((arg, j) => {
      const bytes = arg instanceof Uint8Array ? arg : typeof arg === "object" ? arg.bytes : undefined;
      if (bytes) p.rodata(`c${i}_${j}`, bytes.length > 0 ? bytes : new Uint8Array(1), 8);
    });
  });
  p.func("main", {}, (f) => {
    cases.forEach((c, i) => {
      c.args.forEach((arg, j) => {
        const reg = `a${j}` as "a0";
        if (arg instanceof Uint8Array) f.addr(reg, `c${i}_${j}`);
        else if (typeof arg === "object") f.addr(reg, `c${i}_${j}`, arg.offset);
        else if (arg === -1) f.addr(reg, "out");
        else if (arg === -2) f.addr(reg, "ctx");
        else f.mov(reg, arg);
      });
      f.call(c.fn);
      if (c.print === "a0") f.addr("a1", "byte").store(1, "a0", "a1").mov("a2", 1);
      else f.addr("a1", "out").mov("a2", c.print);
      f.mov("a0", 1).syscall("write");
    });
    f.mov("a0", 0).syscall("exit_group");
  });
  return p.build("main");
}

const OUT = -1;
const CTX = -2;
const bytes = (n: number) => fc.uint8Array({ maxLength: n });
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const cases = fc
  .record({
    sha: fc.array(bytes(200), { minLength: 1, maxLength: 4 }),
    hmac: fc.array(fc.tuple(bytes(100), bytes(100)), { minLength: 1, maxLength: 3 }),
    pbkdf2: fc.array(fc.tuple(bytes(80), bytes(MAX_SALT), fc.integer({ min: 1, max: 40 })), {
      minLength: 1,
      maxLength: 2,
    }),
    base64: fc.array(
      fc.oneof(
        bytes(60).map((b) => new TextEncoder().encode(Buffer.from(b).toString("base64"))),
        fc
          .array(fc.constantFrom(..."Aa0+/=*-".split("")), { maxLength: 12 })
          .map((cs) => new TextEncoder().encode(cs.join(""))),
      ),
      { maxLength: 6 },
    ),
    address: fc.array(
      fc.oneof(
        fc.ipV4(),
        fc.ipV6(),
        fc.array(fc.constantFrom(..."0129afAF:.".split("")), { maxLength: 12 }).map((cs) => cs.join("")),
      ),
      { maxLength: 6 },
    ),
    client: fc.array(
      fc.tuple(
        fc.constantFrom("10.0.0.1", "::1", "192.0.2.7", "::ffff:10.0.0.3"),
        fc.subarray(["10.0.0.0/8", "::1", "192.0.2.0/24"]),
        fc.array(fc.constantFrom("10.0.0.2", "2001:db8::5", "", "junk", "::1", " 192.0.2.9 "), {
          maxLength: 4,
        }),
      ),
      { maxLength: 3 },
    ),
    equal: fc.array(fc.tuple(bytes(40), fc.nat(), fc.integer({ min: 0, max: 3 })), { maxLength: 4 }),
    cidr: fc.array(
      fc.tuple(
        fc.array(
          fc.record({
            address: fc.oneof(fc.ipV4(), fc.ipV6()),
            bits: fc.integer({ min: 0, max: 128 }),
            allow: fc.boolean(),
          }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.nat(3),
        fc.array(fc.tuple(fc.nat(15), fc.nat(7)), { maxLength: 2 }),
      ),
      { maxLength: 4 },
    ),
  })
  .map((r): Case[] => {
    const list: Case[] = [];
    for (const m of r.sha) {
      const init: Case = { fn: "sha256_init", args: [CTX], print: 0, expected: new Uint8Array() };
      const update: Case = {
        fn: "sha256_update",
        args: [CTX, m, m.length],
        print: 0,
        expected: new Uint8Array(),
      };
      const digest = createHash("sha256").update(m).digest();
      list.push(init, update, { fn: "sha256_final", args: [CTX, OUT], print: 32, expected: digest });
    }
    for (const [key, m] of r.hmac)
      list.push({
        fn: "hmac_sha256",
        args: [key, key.length, m, m.length, OUT],
        print: 32,
        expected: createHmac("sha256", key).update(m).digest(),
      });
    for (const [pw, salt, n] of r.pbkdf2)
      list.push({
        fn: "pbkdf2_sha256",
        args: [pw, pw.length, salt, salt.length, n, OUT],
        print: 32,
        expected: pbkdf2Sync(pw, salt, n, 32, "sha256"),
      });
    for (const text of r.base64) {
      const decoded = decodeBase64(text);
      list.push({
        fn: "base64_decode",
        args: [text, text.length, OUT],
        print: "a0",
        expected: Uint8Array.of(decoded ? decoded.length : 255),
      });
      if (decoded && decoded.length > 0)
        list.push({
          fn: "ct_equal",
          args: [decoded, OUT, decoded.length],
          print: "a0",
          expected: Uint8Array.of(1),
        });
    }
    for (const text of r.address) {
      const bytes = new TextEncoder().encode(text);
      const parsed = parseAddress(text);
      list.push({
        fn: "parse_address",
        args: [bytes, bytes.length, OUT],
        print: "a0",
        expected: Uint8Array.of(parsed ? 1 : 0),
      });
      if (parsed)
        list.push({ fn: "parse_address", args: [bytes, bytes.length, OUT], print: 16, expected: parsed });
    }
    for (const [peerText, trustedTexts, hops] of r.client) {
      const trusted = trustedTexts.map((t) => parseCidr(t) as { address: Uint8Array; bits: number });
      const entries = new Uint8Array(24 * trusted.length + 8);
      trusted.forEach((c, i) => {
        entries.set(c.address, i * 24);
        entries[i * 24 + 16] = c.bits;
      });
      const peer = parseAddress(peerText)!;
      const xff = new TextEncoder().encode(hops.join(","));
      // the peer goes to `out` through parse_address, then client_address replaces it
      const peerBytes = new TextEncoder().encode(peerText);
      list.push({
        fn: "parse_address",
        args: [peerBytes, peerBytes.length, OUT],
        print: 0,
        expected: new Uint8Array(),
      });
      list.push({
        fn: "client_address",
        args: [xff, xff.length, entries, trusted.length, OUT],
        print: 16,
        expected: clientAddress(peer, [hops.join(",")], trusted),
      });
    }
    for (const [x, at, flip] of r.equal) {
      const y = x.slice();
      if (y.length > 0) y[at % y.length]! ^= flip;
      list.push({
        fn: "ct_equal",
        args: [x, y, x.length],
        print: "a0",
        expected: Uint8Array.of(Buffer.from(x).equals(Buffer.from(y)) ? 1 : 0),
      });
    }
    for (const [entries, pick, flips] of r.cidr) {
      const parsed = entries.map((e) => ({
        allow: e.allow,
        cidr: { address: parseAddress(e.address)!, bits: e.bits },
      }));
      const probe = parsed[pick % parsed.length]!.cidr.address.slice();
      for (const [byte, bit] of flips) probe[byte]! ^= 1 << bit;
      const section = new Uint8Array(24 * parsed.length);
      parsed.forEach((e, i) => {
        section.set(e.cidr.address, i * 24);
        section[i * 24 + 16] = e.cidr.bits;
        section[i * 24 + 17] = e.allow ? 1 : 0;
      });
      list.push({
        fn: "cidr_match",
        args: [section, probe],
        print: "a0",
        expected: Uint8Array.of(cidrContains(parsed[0]!.cidr, probe) ? 1 : 0),
      });
      list.push({
        fn: "ip_allowed",
        args: [section, parsed.length, probe],
        print: "a0",
        expected: Uint8Array.of(ipAllowed({ path: "/", entries: parsed }, probe) ? 1 : 0),
      });
    }
    return list;
  });

function runInterpreted(p: Program): Buffer {
  const streams = streamSyscalls({});
  const result = interpret(p, { syscall: streams.handler, maxSteps: 5e8 });
  assert.equal(result.exitCode, 0);
  return Buffer.from(streams.bytes(1));
}

test("access blocks agree with node:crypto in the interpreter, on x86-64 and under qemu-aarch64", {
  timeout: 300_000,
}, (t) => {
  const runners = Object.values(TARGETS).filter(
    (target) =>
      target.name === "x64" ||
      requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static"),
  );
  fc.assert(
    fc.property(cases, (list) => {
      const p = program(list);
      const expected = Buffer.concat(list.map((c) => c.expected));
      const where = (output: Buffer) => {
        let at = 0;
        for (const c of list) {
          const n = c.expected.length;
          if (!output.subarray(at, at + n).equals(Buffer.from(c.expected)))
            return `${c.fn}: ${hex(output.subarray(at, at + n))}, expected ${hex(c.expected)}`;
          at += n;
        }
        return `length ${output.length}, expected ${expected.length}`;
      };
      const interpreted = runInterpreted(p);
      assert.ok(interpreted.equals(expected), `interpreter: ${where(interpreted)}`);
      for (const target of runners) {
        const path = join(work, `blocks-${target.name}`);
        writeExecutable(path, link(p, target).elf);
        const [command, ...args] = runCommand(target, path);
        const r = spawnSync(command!, args, { timeout: 60_000 });
        assert.equal(r.status, 0, `${target.name}: exit status`);
        assert.ok(r.stdout.equals(expected), `${target.name}: ${where(r.stdout)}`);
      }
    }),
    { numRuns: 6 },
  );
});

test("PBKDF2 at 4096 iterations and basic_check over an encoded section agree natively; the blocks' sizes per arch", (t) => {
  const salt = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
  const pw = new TextEncoder().encode("correct horse battery staple");
  const section = encodeAccessSection(
    compileAccess({
      auth: [
        {
          path: "/",
          realm: "R",
          users: { alice: hashPassword("wonderland", 4096), bob: hashPassword("pa:ss", 1000) },
        },
      ],
      ipRules: [],
      trustedProxies: [],
      proxy: [],
    }),
  );
  const users = { bytes: section, offset: new DataView(section.buffer).getUint32(16 + 24, true) };
  const check = (value: string, expected: boolean): Case => {
    const bytes = new TextEncoder().encode(value);
    return {
      fn: "basic_check",
      args: [section, users, 2, bytes, bytes.length],
      print: "a0",
      expected: Uint8Array.of(expected ? 1 : 0),
    };
  };
  const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;
  const list: Case[] = [
    {
      fn: "pbkdf2_sha256",
      args: [pw, pw.length, salt, 16, 4096, OUT],
      print: 32,
      expected: pbkdf2Sync(pw, salt, 4096, 32, "sha256"),
    },
    check(basic("alice:wonderland"), true),
    check(basic("bob:pa:ss"), true),
    check(basic("alice:wonderlanD"), false),
    check(basic("carol:wonderland"), false),
    check(`bASIC   ${Buffer.from("bob:pa:ss").toString("base64")}`, true),
    check("Bearer abc", false),
  ];
  const p = program(list);
  const sizes: string[] = [];
  for (const target of Object.values(TARGETS)) {
    const linked = link(p, target);
    const blocks = linked.sizes.functions.filter((f) => f.name !== "main");
    const total = blocks.reduce((n, f) => n + f.size, 0);
    sizes.push(`${target.name}: ${blocks.map((f) => `${f.name} ${f.size}`).join(", ")}; total ${total} B`);
    if (
      target.name === "a64" &&
      !requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")
    )
      continue;
    const path = join(work, `pbkdf2-${target.name}`);
    writeExecutable(path, linked.elf);
    const [command, ...args] = runCommand(target, path);
    const started = process.hrtime.bigint();
    const r = spawnSync(command!, args, { timeout: 60_000 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(hex(r.stdout), hex(Buffer.concat(list.map((c) => c.expected))), target.name);
    sizes.push(
      `${target.name}: PBKDF2 at 4096 iterations and six Basic checks, whole process ${ms.toFixed(1)} ms`,
    );
  }
  t.diagnostic(sizes.join("\n"));
});
