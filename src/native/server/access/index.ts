// The access building blocks of the native server: SHA-256, HMAC-SHA256 and PBKDF2, base64
// decoding, constant-time comparison, the Basic credentials check, CIDR matching, IP address text
// and the client address behind trusted proxies. The checks in its request path that use them are
// emitAccessCheck (enforce.ts), for the features a pack needs.

import type { ProgramBuilder } from "../../ir/builder.ts";
import { emitClientAddress } from "./address.ts";
import { emitBase64Decode } from "./base64.ts";
import { emitBasicCheck } from "./basic.ts";
import { emitCidr } from "./cidr.ts";
import { emitConstantTimeEqual } from "./compare.ts";
import { emitPbkdf2 } from "./pbkdf2.ts";

export { emitClientAddress, emitParseAddress } from "./address.ts";
export { emitBase64Decode } from "./base64.ts";
export { emitBasicCheck, MAX_CREDENTIALS } from "./basic.ts";
export { emitCidr } from "./cidr.ts";
export { emitConstantTimeEqual } from "./compare.ts";
export { ACCESS_ERR, emitAccessCheck } from "./enforce.ts";
export { emitPbkdf2, MAX_SALT, WORK_BYTES } from "./pbkdf2.ts";
export { CTX_BYTES, emitSha256 } from "./sha256.ts";

/** Emits every access building block into `p`. */
export function emitAccessBlocks(p: ProgramBuilder): void {
  emitPbkdf2(p);
  emitBasicCheck(p);
  emitBase64Decode(p);
  emitConstantTimeEqual(p);
  emitCidr(p);
  emitClientAddress(p);
}
