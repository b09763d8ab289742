// The pack's path hash: 64-bit FNV-1a, chosen because the native server computes it in a few
// instructions per byte while parsing the path.

const OFFSET_BASIS = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;

export function fnv1a64(bytes: Uint8Array): bigint {
  let hash = OFFSET_BASIS;
  for (const b of bytes) hash = BigInt.asUintN(64, (hash ^ BigInt(b)) * PRIME);
  return hash;
}
