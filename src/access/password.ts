// Password hashes: PBKDF2-HMAC-SHA256 with a 16-byte random salt per user and the iteration count
// in the string, "$pbkdf2-sha256$i=4096$<salt>$<key>" (salt and 32-byte key in base64 without
// padding). Why this hash and this cost: docs/access.md, "Password hashes".

import { pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import type { UserHash } from "./rules.ts";

export const DEFAULT_ITERATIONS = 4096;
export const MIN_ITERATIONS = 1000;
export const MAX_ITERATIONS = 1_000_000;
export const SALT_BYTES = 16;
export const KEY_BYTES = 32;

const PREFIX = "$pbkdf2-sha256$";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64").replace(/=+$/, "");

/** PBKDF2-HMAC-SHA256 of `password` over `salt`: the 32-byte key. */
export function deriveKey(password: Uint8Array, salt: Uint8Array, iterations: number): Uint8Array {
  return new Uint8Array(pbkdf2Sync(password, salt, iterations, KEY_BYTES, "sha256"));
}

/** The hash string for `password` with a fresh random salt (or `salt`, for tests). */
export function hashPassword(
  password: string,
  iterations = DEFAULT_ITERATIONS,
  salt: Uint8Array = randomBytes(SALT_BYTES),
): string {
  const key = deriveKey(new TextEncoder().encode(password), salt, iterations);
  return `${PREFIX}i=${iterations}$${b64(salt)}$${b64(key)}`;
}

/** Reads a hash string into its parts, or returns what is accepted instead. */
export function parsePasswordHash(text: string): Omit<UserHash, "name"> | string {
  const form = `a hash "${PREFIX}i=N$salt$key" as printed by speck hash-password`;
  const match = /^\$pbkdf2-sha256\$i=([1-9][0-9]{0,6})\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/.exec(text);
  if (!match) return form;
  const iterations = Number(match[1]);
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS)
    return `${form}, with ${MIN_ITERATIONS} to ${MAX_ITERATIONS} iterations (it has ${iterations})`;
  return {
    iterations,
    salt: new Uint8Array(Buffer.from(match[2]!, "base64")),
    key: new Uint8Array(Buffer.from(match[3]!, "base64")),
  };
}

/** True when `password` hashes to `user`'s key (compared in constant time). */
export function verifyPassword(user: Omit<UserHash, "name">, password: Uint8Array): boolean {
  return timingSafeEqual(deriveKey(password, user.salt, user.iterations), user.key);
}
