import assert from "node:assert/strict";
import { BlockList, isIP } from "node:net";
import { test } from "node:test";
import fc from "fast-check";
import { cidrContains, cidrCovers, formatCidr, parseAddress, parseCidr } from "./cidr.ts";

const cidr = (text: string) => {
  const c = parseCidr(text);
  assert.equal(typeof c, "object", `${text}: ${c as string}`);
  return c as Exclude<ReturnType<typeof parseCidr>, string>;
};
const address = (text: string) => parseAddress(text)!;

test("parseAddress() accepts exactly what node:net calls an IP address", () => {
  const samples = [
    "1.2.3.4",
    "255.255.255.255",
    "::",
    "::1",
    "2001:db8::1",
    "::ffff:10.0.0.1",
    "1::1.2.3.4",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:1.2.3.4",
    "01.2.3.4",
    "1.2.3",
    "256.1.1.1",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    ":1",
    "1:",
    "::ffff:1.2.3",
    "12345::",
    "",
  ];
  for (const s of samples) assert.equal(parseAddress(s) !== null, isIP(s) !== 0, s);
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (s) => assert.notEqual(parseAddress(s), null, s)),
    { numRuns: 500 },
  );
});

test("cidrContains() agrees with node:net BlockList, IPv4-mapped IPv6 peers matching IPv4 rules", () => {
  fc.assert(
    fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.ipV4(), (net, bits, probe) => {
      const list = new BlockList();
      list.addSubnet(net, bits, "ipv4");
      const n = net.split(".").reduce((v, part) => v * 256 + Number(part), 0);
      const network = bits === 0 ? 0 : n - (n % 2 ** (32 - bits));
      const dotted = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
      const range = cidr(`${dotted}/${bits}`);
      assert.equal(
        cidrContains(range, address(probe)),
        list.check(probe, "ipv4"),
        `${dotted}/${bits} ${probe}`,
      );
      assert.equal(cidrContains(range, address(`::ffff:${probe}`)), list.check(probe, "ipv4"));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.ipV6(), fc.integer({ min: 1, max: 128 }), fc.ipV6(), (net, bits, probe) => {
      const list = new BlockList();
      list.addSubnet(net, bits, "ipv6");
      const range = { address: address(net), bits };
      assert.equal(cidrContains(range, address(probe)), list.check(probe, "ipv6"), `${net}/${bits} ${probe}`);
      assert.equal(cidrContains(range, address(net)), true);
    }),
    { numRuns: 500 },
  );
});

test("parseCidr() names what is wrong", () => {
  assert.equal(formatCidr(cidr("10.0.0.0/8")), "10.0.0.0/8");
  assert.equal(formatCidr(cidr("10.1.2.3")), "10.1.2.3/32");
  assert.equal(formatCidr(cidr("2001:db8::/32")), "2001:db8:0:0:0:0:0:0/32");
  assert.equal(cidr("all").bits, 0);
  assert.match(parseCidr("10.0.0.1/8") as string, /host bits are set; did you mean 10\.0\.0\.0\/8\?/);
  assert.match(parseCidr("10.0.0.0/33") as string, /prefix length "\/33" is not 0 to 32/);
  assert.match(parseCidr("10.0.0/8") as string, /"10\.0\.0" is not an IPv4 or IPv6 address/);
  assert.match(parseCidr("::/129") as string, /not 0 to 128/);
  assert.match(parseCidr("localhost") as string, /not an IPv4 or IPv6 address/);
});

test("cidrCovers() says when one range holds another", () => {
  assert.equal(cidrCovers(cidr("10.0.0.0/8"), cidr("10.1.0.0/16")), true);
  assert.equal(cidrCovers(cidr("10.1.0.0/16"), cidr("10.0.0.0/8")), false);
  assert.equal(cidrCovers(cidr("all"), cidr("::1")), true);
  assert.equal(cidrCovers(cidr("::ffff:0:0/96"), cidr("192.168.0.0/16")), true);
  assert.equal(cidrCovers(cidr("10.0.0.0/8"), cidr("11.0.0.0/8")), false);
});
