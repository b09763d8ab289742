// What a server must implement to enforce a set of access rules: one bit per feature, written in the
// pack's header (docs/pack-format.md) so that a native server built without a feature refuses the
// pack at start rather than serve its paths unprotected, and so that `speck build` generates only
// the code a site uses (docs/access.md, "What each feature costs").

import type { AccessRules } from "./rules.ts";

/** Feature bits, as in the pack header. */
export const FEATURE = {
  /** IP allow/deny rules. */
  ip: 1,
  /** Trusted proxies: X-Forwarded-For is believed from them. */
  trustedProxies: 2,
  /** Basic auth with users built into the section. */
  auth: 4,
  /** Basic auth with users read at start-up from an environment variable or a file. */
  runtimeUsers: 8,
  /** Reverse-proxy rules. */
  proxy: 16,
} as const;

export type AccessFeature = keyof typeof FEATURE;
export const ACCESS_FEATURES = Object.keys(FEATURE) as AccessFeature[];

/** The features `rules` need, as a bit mask. */
export function accessFeatureBits(rules: AccessRules): number {
  let bits = 0;
  if (rules.ip.length > 0) bits |= FEATURE.ip;
  if (rules.trustedProxies.length > 0) bits |= FEATURE.trustedProxies;
  if (rules.auth.length > 0) bits |= FEATURE.auth;
  if (rules.auth.some((rule) => rule.source.kind !== "users")) bits |= FEATURE.runtimeUsers;
  if (rules.proxy.length > 0) bits |= FEATURE.proxy;
  return bits;
}

/** The names of the features in `bits`, in FEATURE order. */
export function featureNames(bits: number): AccessFeature[] {
  return ACCESS_FEATURES.filter((name) => (bits & FEATURE[name]) !== 0);
}

/** The bit mask of `names`. */
export function featureBits(names: readonly AccessFeature[]): number {
  return names.reduce((bits, name) => bits | FEATURE[name], 0);
}
