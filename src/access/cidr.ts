// IP addresses and CIDR ranges as 16 bytes: IPv4 is held as its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d, an IPv4 /n being a /96+n), so one 128-bit prefix comparison matches both families
// and an IPv4-mapped IPv6 peer matches IPv4 rules. The native server compares the same bytes.

/** A range: `bits` leading bits of `address` (16 bytes, IPv4 mapped). */
export interface Cidr {
  address: Uint8Array;
  bits: number;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return null;
    bytes.push(Number(part));
  }
  return bytes;
}

function parseIPv6(text: string): number[] | null {
  let head = text;
  let tailV4: number[] = [];
  if (text.includes(".")) {
    const lastColon = text.lastIndexOf(":");
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return null;
    tailV4 = v4;
    head = text[lastColon - 1] === ":" ? text.slice(0, lastColon + 1) : text.slice(0, lastColon);
  }
  const groupsWanted = 8 - tailV4.length / 2;
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const split = (s: string): string[] | null => (s === "" ? [] : s.split(":"));
  const left = split(halves[0]!);
  const right = halves.length === 2 ? split(halves[1]!) : [];
  if (!left || !right) return null;
  const missing = groupsWanted - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...Array<string>(missing).fill("0"), ...right];
  const bytes: number[] = [];
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return [...bytes, ...tailV4];
}

/** The 16-byte form of an IPv4 or IPv6 address (no zone, no brackets), or null when it is not one. */
export function parseAddress(text: string): Uint8Array | null {
  if (!text.includes(":")) {
    const v4 = parseIPv4(text);
    return v4 ? Uint8Array.from([...V4_MAPPED_PREFIX, ...v4]) : null;
  }
  const v6 = parseIPv6(text);
  return v6 ? Uint8Array.from(v6) : null;
}

/**
 * Parses "10.0.0.0/8", "2001:db8::/32", a single address (a /32 or /128) or "all" (every address).
 * Host bits must be zero ("10.0.0.1/8" is refused: it is almost always a typo).
 */
export function parseCidr(text: string): Cidr | string {
  if (text === "all") return { address: new Uint8Array(16), bits: 0 };
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseAddress(addressText);
  if (!address) return `"${addressText}" is not an IPv4 or IPv6 address`;
  const v4 = !addressText.includes(":");
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const length = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(length) || Number(length) > max)
      return `the prefix length "/${length}" is not 0 to ${max}`;
    bits = Number(length);
  }
  const cidr = { address, bits: v4 ? bits + 96 : bits };
  if (!sameBits(cidr.address, masked(cidr), 128))
    return `host bits are set; did you mean ${formatCidr(masked(cidr))}?`;
  return cidr;
}

function masked(cidr: Cidr): Cidr {
  const address = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, cidr.bits - i * 8));
    address[i] = cidr.address[i]! & ((0xff00 >> keep) & 0xff);
  }
  return { address, bits: cidr.bits };
}

function sameBits(a: Uint8Array, b: Cidr | Uint8Array, bits: number): boolean {
  const other = b instanceof Uint8Array ? b : b.address;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff00 >> bits) & 0xff;
    if ((a[i]! & mask) !== (other[i]! & mask)) return false;
  }
  return true;
}

/** True when `address` (16 bytes) lies in `cidr`. */
export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  return sameBits(cidr.address, address, cidr.bits);
}

/** True when every address of `inner` is also in `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.bits <= inner.bits && cidrContains(outer, inner.address);
}

/** The text form: IPv4 ranges as "10.0.0.0/8", others in full hex groups ("2001:db8:0:0:0:0:0:0/32"). */
export function formatCidr(cidr: Cidr): string {
  if (cidr.bits === 0) return "all";
  const a = cidr.address;
  if (cidr.bits >= 96 && V4_MAPPED_PREFIX.every((b, i) => a[i] === b))
    return `${a[12]}.${a[13]}.${a[14]}.${a[15]}/${cidr.bits - 96}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i]! << 8) | a[i + 1]!).toString(16));
  return `${groups.join(":")}/${cidr.bits}`;
}
