// Basic credentials (RFC 7617) from an Authorization value, decoded exactly as the native server
// decodes them: scheme "Basic" in any case, one or more spaces, standard base64 whose length is a
// multiple of 4 with at most two "=" at the end, then "user:password" split at the first colon.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Standard base64 (padded) to bytes, or null when `text` is not exactly that. */
export function decodeBase64(text: Uint8Array): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  let pad = 0;
  while (pad < 2 && pad < text.length && text[text.length - 1 - pad] === 61) pad++;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let bits = 0;
  let count = 0;
  let at = 0;
  for (let i = 0; i < text.length - pad; i++) {
    const v = VALUE[text[i]!]!;
    if (v < 0) return null;
    bits = (bits << 6) | v;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[at++] = (bits >> count) & 0xff;
    }
  }
  return out;
}

/** `{ user, password }` (bytes) from an Authorization header value, or null when it is not Basic. */
export function parseBasicCredentials(value: Uint8Array): { user: Uint8Array; password: Uint8Array } | null {
  const scheme = "basic";
  if (value.length <= scheme.length) return null;
  for (let i = 0; i < scheme.length; i++) if ((value[i]! | 0x20) !== scheme.charCodeAt(i)) return null;
  let at = scheme.length;
  if (value[at] !== 32) return null;
  while (value[at] === 32) at++;
  const decoded = decodeBase64(value.subarray(at));
  if (!decoded) return null;
  const colon = decoded.indexOf(58);
  if (colon < 0) return null;
  return { user: decoded.subarray(0, colon), password: decoded.subarray(colon + 1) };
}

/** Equality whose time depends only on the lengths, not on where the bytes differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ (b[i % Math.max(1, b.length)] ?? 0);
  return diff === 0;
}
