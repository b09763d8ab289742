// The native server's sizes for `speck inspect --server` and bench/size.ts: bytes per function per
// platform, and what each access feature adds.

import type { AccessFeature } from "../access/features.ts";
import { parsePlatforms, platformName } from "../image/index.ts";
import type { LinkedSizes } from "../native/link.ts";
import { type BuiltServer, buildServer } from "../native/server/index.ts";
import { targetForArch } from "../native/target/index.ts";

export interface ServerReport {
  platform: string;
  features: AccessFeature[];
  /** The executable as shipped: the squeezed server. */
  squeezed: BuiltServer["squeezed"];
  /** The server as linked (what the squeezed one unpacks into memory), functions largest first. */
  sizes: LinkedSizes;
}

/** One platform's server sizes, functions largest first (then by name, for stable output). */
export function serverReport(platform: string, features: readonly AccessFeature[] = []): ServerReport {
  const [parsed] = parsePlatforms(platform);
  const { linked, squeezed } = buildServer(targetForArch(parsed!.architecture), { features });
  const functions = [...linked.sizes.functions].sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1));
  return {
    platform: platformName(parsed!),
    features: [...features],
    squeezed,
    sizes: { ...linked.sizes, functions },
  };
}

/** The builds whose sizes show what each access feature costs (a site pays only for what it uses). */
const COST_ROWS: { label: string; features: AccessFeature[] }[] = [
  { label: "no access rules", features: [] },
  { label: "IP rules", features: ["ip"] },
  { label: "IP rules behind trusted proxies", features: ["ip", "trustedProxies"] },
  { label: "Basic auth, users in the pack", features: ["auth"] },
  { label: "Basic auth, users also read at start", features: ["auth", "runtimeUsers"] },
  { label: "reverse proxy", features: ["proxy"] },
  { label: "reverse proxy, X-Forwarded-* from trusted proxies", features: ["trustedProxies", "proxy"] },
  { label: "all of the above", features: ["ip", "trustedProxies", "auth", "runtimeUsers", "proxy"] },
];

/** Server bytes per platform for each row of COST_ROWS, and their cost over the plain server. */
export function featureCosts(
  platforms: string[],
): { label: string; features: AccessFeature[]; bytes: number[] }[] {
  return COST_ROWS.map((row) => ({
    ...row,
    bytes: platforms.map((platform) => serverReport(platform, row.features).squeezed.total),
  }));
}
