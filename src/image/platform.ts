// The platforms speck builds for, parsed from `os/arch[/variant]` strings. The native server
// exists for x86-64 and arm64 Linux; arm64 always carries variant v8, as registries expect.

import { ImageError } from "./errors.ts";

/** An OCI platform object. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** Every supported platform, in the order builds list them. */
export const PLATFORMS: readonly Platform[] = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
];

const ACCEPTED = new Map<string, Platform>([
  ["linux/amd64", PLATFORMS[0]!],
  ["linux/arm64", PLATFORMS[1]!],
  ["linux/arm64/v8", PLATFORMS[1]!],
]);

/** `linux/amd64`, `linux/arm64/v8`. */
export function platformName(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

/** Parses one platform string: linux/amd64, linux/arm64 or linux/arm64/v8. */
export function parsePlatform(text: string): Platform {
  const platform = ACCEPTED.get(text.trim().toLowerCase());
  if (!platform) {
    throw new ImageError(`unsupported platform "${text}": use linux/amd64, linux/arm64 or linux/arm64/v8`);
  }
  return platform;
}

/** Parses a comma-separated list, drops repeats and sorts it (amd64 before arm64). */
export function parsePlatforms(text: string): Platform[] {
  const names = text.split(",").filter((part) => part.trim() !== "");
  if (names.length === 0) throw new ImageError(`no platform given: use linux/amd64, linux/arm64 or both`);
  const chosen = new Set(names.map(parsePlatform));
  return PLATFORMS.filter((platform) => chosen.has(platform));
}
