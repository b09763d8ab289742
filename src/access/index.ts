// The access part's public surface: rules, their section encoding, credentials and hashes.

export { constantTimeEqual, decodeBase64, parseBasicCredentials } from "./basic.ts";
export { type Cidr, cidrContains, cidrCovers, formatCidr, parseAddress, parseCidr } from "./cidr.ts";
export {
  type AccessConfig,
  AccessError,
  accessSection,
  compileAccess,
  parseUserLines,
  resolveUsers,
} from "./compile.ts";
export { DEFAULT_ITERATIONS, hashPassword, parsePasswordHash, verifyPassword } from "./password.ts";
export {
  type AccessRules,
  type AuthRule,
  clientAddress,
  firstRule,
  type IpEntry,
  type IpRule,
  ipAllowed,
  type ProxyRule,
  type UserHash,
  type UserSource,
  underPrefix,
} from "./rules.ts";
export { AccessSectionError, decodeAccessSection, encodeAccessSection } from "./section.ts";
