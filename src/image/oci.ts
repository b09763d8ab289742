// The OCI wire types (descriptor, image config, manifest, index) and the functions that build
// them as canonical JSON. See https://github.com/opencontainers/image-spec (config.md,
// manifest.md, image-index.md, annotations.md); Docker reads the same config, including the
// Healthcheck that the OCI spec leaves out.

import type { Platform } from "./platform.ts";

export const MEDIA_TYPE = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

export const ANNOTATION = {
  created: "org.opencontainers.image.created",
  source: "org.opencontainers.image.source",
  revision: "org.opencontainers.image.revision",
  version: "org.opencontainers.image.version",
  title: "org.opencontainers.image.title",
  description: "org.opencontainers.image.description",
  refName: "org.opencontainers.image.ref.name",
  /** The full image name, read by containerd, `docker load` (containerd store) and `podman load`. */
  containerdName: "io.containerd.image.name",
} as const;

/** A content descriptor: what a manifest or an index points to. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Docker's health check, durations in nanoseconds as Docker stores them. */
export interface Healthcheck {
  readonly Test: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

/** The `config` member of an image config: how a container of the image runs. */
export interface RunConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly Healthcheck?: Healthcheck;
}

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** An image config (application/vnd.oci.image.config.v1+json). */
export interface ImageConfig {
  readonly created?: string;
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly config?: RunConfig;
  readonly rootfs: { readonly type: "layers"; readonly diff_ids: readonly string[] };
  readonly history?: readonly HistoryEntry[];
}

/** An image manifest (application/vnd.oci.image.manifest.v1+json). */
export interface Manifest {
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An image index (application/vnd.oci.image.index.v1+json), also the shape of index.json. */
export interface Index {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A descriptor with only the members the spec defines, in a form safe to serialise. */
export function descriptor(
  of: Pick<Descriptor, "mediaType" | "digest" | "size">,
  extra: { platform?: Platform; annotations?: Readonly<Record<string, string>> } = {},
): Descriptor {
  return {
    mediaType: of.mediaType,
    digest: of.digest,
    size: of.size,
    ...(extra.platform ? { platform: platformObject(extra.platform) } : {}),
    ...(extra.annotations && Object.keys(extra.annotations).length > 0
      ? { annotations: extra.annotations }
      : {}),
  };
}

function platformObject(platform: Platform): Platform {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
  };
}

/** `2024-01-02T03:04:05Z`: RFC 3339 in UTC, whole seconds. */
export function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Parses an RFC 3339 time back to whole seconds; undefined when absent or unreadable. */
export function secondsOf(time: string | undefined): number | undefined {
  if (!time) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
