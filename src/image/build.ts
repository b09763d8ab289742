// Builds an image in memory from the server of each platform and the pack: two layers (the
// server at /speck, per platform; the pack at /site.pack, one blob shared by all), a config
// and a manifest per platform, and an index over them when there are several.

import { type Blob, memoryBlob } from "./blob.ts";
import { ImageError } from "./errors.ts";
import { canonicalJsonBytes } from "./json.ts";
import { buildLayer, type Layer } from "./layer.ts";
import {
  ANNOTATION,
  type Descriptor,
  descriptor,
  type Healthcheck,
  type ImageConfig,
  type Index,
  type Manifest,
  MEDIA_TYPE,
  type RunConfig,
  rfc3339,
} from "./oci.ts";
import { type Platform, parsePlatform, platformName } from "./platform.ts";
import { fullName, parseTag, type Reference } from "./reference.ts";
import type { ImageSource, PlatformImage } from "./source.ts";
import { contentSize, EXECUTABLE_MODE, type TarContent } from "./tar.ts";

/** Where the server and the pack sit in the image (paths in the layer tars have no leading /). */
export const SERVER_PATH = "speck";
export const PACK_PATH = "site.pack";
/** The pack is read-only for everyone: the server only maps it. */
export const PACK_MODE = 0o444;
export const DEFAULT_PORT = 8080;
/** 65532 is "nonroot" in distroless images: a numeric user needs no /etc/passwd. */
export const DEFAULT_USER = "65532:65532";

const SECOND = 1_000_000_000;
/** Docker's health check: the server's own `--health` probe, checked every second while starting. */
export const DEFAULT_HEALTHCHECK: Healthcheck = {
  Test: ["CMD", `/${SERVER_PATH}`, "--health"],
  Interval: 30 * SECOND,
  Timeout: 3 * SECOND,
  StartPeriod: 10 * SECOND,
  StartInterval: 1 * SECOND,
  Retries: 3,
};

/** Descriptive metadata, written as `org.opencontainers.image.*` annotations and labels. */
export interface ImageMetadata {
  source?: string;
  revision?: string;
  version?: string;
  title?: string;
  description?: string;
}

/** What buildImage needs: a server per platform, the pack, and a creation time. */
export interface BuildOptions {
  /** The platforms, each with its static server executable. */
  platforms: readonly { platform: Platform | string; server: Uint8Array }[];
  /**
   * The pack: bytes, a list of chunks, a file path, or its size and a way to read it (the last two
   * streamed, never held whole).
   */
  pack:
    | Uint8Array
    | readonly Uint8Array[]
    | string
    | { readonly size: number; open(): AsyncIterable<Uint8Array> };
  /** Creation time, whole seconds since 1970 (see resolveCreated); also every tar mtime. */
  created: number;
  /** The image name, e.g. `ghcr.io/acme/site:1.4`; the tag defaults to `latest`. */
  tag?: string;
  metadata?: ImageMetadata;
  /** More annotations for the manifests and the index. */
  annotations?: Readonly<Record<string, string>>;
  /** More config labels (the metadata is added as labels too). */
  labels?: Readonly<Record<string, string>>;
  port?: number;
  /** Numeric `uid[:gid]`, not root. */
  user?: string;
  /** Docker health check; false for none. */
  healthcheck?: Healthcheck | false;
  /** gzip level of the layers (0-9). */
  level?: number;
  /** Keep compressed layers up to this size in memory instead of compressing them again when written. */
  keepInMemory?: number;
}

/** Sizes a person wants to see after a build. */
export interface PlatformSummary {
  readonly platform: string;
  readonly manifestDigest: string;
  /** Config plus compressed layers: what a pull transfers. */
  readonly imageSize: number;
  readonly configSize: number;
  readonly serverBytes: number;
  readonly serverLayerSize: number;
}

export interface ImageSummary {
  /** The digest a tag names (the index, or the manifest of a single platform). */
  readonly digest: string;
  readonly packBytes: number;
  readonly packLayerSize: number;
  readonly platforms: readonly PlatformSummary[];
}

/** A built image: an ImageSource plus its parsed name and a size summary. */
export interface Image extends ImageSource {
  readonly reference?: Reference;
  readonly summary: ImageSummary;
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ImageError(`invalid port ${port}: use a whole number from 1 to 65535`);
  }
  return port;
}

function checkUser(user: string): string {
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match || Number(match[1]) === 0) {
    throw new ImageError(`invalid user "${user}": use a numeric non-root uid[:gid] such as ${DEFAULT_USER}`);
  }
  return user;
}

function checkCreated(created: number): number {
  if (!Number.isInteger(created) || created < 0 || created > 0o77777777777) {
    throw new ImageError(
      `invalid creation time ${created}: use whole seconds since 1970 (SOURCE_DATE_EPOCH)`,
    );
  }
  return created;
}

function packContent(pack: BuildOptions["pack"]): TarContent {
  return typeof pack === "string" ? { file: pack } : pack;
}

function metadataAnnotations(metadata: ImageMetadata, created: string): Record<string, string> {
  const entries: [string, string | undefined][] = [
    [ANNOTATION.created, created],
    [ANNOTATION.source, metadata.source],
    [ANNOTATION.revision, metadata.revision],
    [ANNOTATION.version, metadata.version],
    [ANNOTATION.title, metadata.title],
    [ANNOTATION.description, metadata.description],
  ];
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => Boolean(entry[1])));
}

/** How a container of the image runs: the same for every platform (a Dockerfile can say it too). */
export function runConfig(options: {
  port: number;
  user: string;
  labels: Readonly<Record<string, string>>;
  healthcheck?: Healthcheck | false;
}): RunConfig {
  const { port, user, labels, healthcheck } = options;
  return {
    User: user,
    ExposedPorts: { [`${port}/tcp`]: {} },
    Env: [`PORT=${port}`],
    Entrypoint: [`/${SERVER_PATH}`, `/${PACK_PATH}`],
    WorkingDir: "/",
    StopSignal: "SIGTERM",
    ...(Object.keys(labels).length > 0 ? { Labels: labels } : {}),
    ...(healthcheck === false ? {} : { Healthcheck: healthcheck ?? DEFAULT_HEALTHCHECK }),
  };
}

/**
 * Builds the image: compresses the layers (the pack once, whatever the number of platforms) and
 * derives configs, manifests and the index. Nothing is written to disk; pass the result to
 * writeLayout, writeDockerArchive or a registry push.
 */
export async function buildImage(options: BuildOptions): Promise<Image> {
  if (options.platforms.length === 0)
    throw new ImageError("no platform to build: give at least one --platform");
  const reference = options.tag === undefined ? undefined : parseTag(options.tag);
  const createdSeconds = checkCreated(options.created);
  const created = rfc3339(createdSeconds);
  const port = checkPort(options.port ?? DEFAULT_PORT);
  const user = checkUser(options.user ?? DEFAULT_USER);
  const platforms = options.platforms.map((entry) => ({
    platform: typeof entry.platform === "string" ? parsePlatform(entry.platform) : entry.platform,
    server: entry.server,
  }));
  const seen = new Set<string>();
  for (const { platform, server } of platforms) {
    const name = platformName(platform);
    if (seen.has(name)) throw new ImageError(`platform ${name} is given twice`);
    seen.add(name);
    if (server.byteLength === 0) throw new ImageError(`the server for ${name} is empty`);
  }
  platforms.sort((a, b) => (platformName(a.platform) < platformName(b.platform) ? -1 : 1));

  const layerOptions = { mtime: createdSeconds, level: options.level, keepInMemory: options.keepInMemory };
  const annotations = { ...options.annotations, ...metadataAnnotations(options.metadata ?? {}, created) };
  const labels = { ...options.labels, ...metadataAnnotations(options.metadata ?? {}, created) };
  const pack = packContent(options.pack);
  const packBytes = contentSize(pack);
  const packLayer = await buildLayer(
    [{ type: "file", path: PACK_PATH, mode: PACK_MODE, content: pack }],
    layerOptions,
  );
  const blobs = new Map<string, Blob>([[packLayer.digest, packLayer]]);

  const images: PlatformImage[] = [];
  const summaries: PlatformSummary[] = [];
  for (const { platform, server } of platforms) {
    const name = platformName(platform);
    const serverLayer: Layer = await buildLayer(
      [{ type: "file", path: SERVER_PATH, mode: EXECUTABLE_MODE, content: server }],
      layerOptions,
    );
    const config: ImageConfig = {
      created,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: runConfig({ port, user, labels, healthcheck: options.healthcheck }),
      rootfs: { type: "layers", diff_ids: [serverLayer.diffId, packLayer.diffId] },
      history: [
        {
          created,
          created_by: `speck build: server for ${name} at /${SERVER_PATH} (${server.byteLength} bytes)`,
        },
        { created, created_by: `speck build: site pack at /${PACK_PATH}` },
      ],
    };
    const configBytes = canonicalJsonBytes(config);
    const configBlob = memoryBlob(configBytes);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.manifest,
      config: descriptor({ mediaType: MEDIA_TYPE.config, ...configBlob }),
      layers: [serverLayer, packLayer].map((layer) => descriptor(layer)),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
    const manifestBytes = canonicalJsonBytes(manifest);
    const manifestBlob = memoryBlob(manifestBytes);
    blobs
      .set(serverLayer.digest, serverLayer)
      .set(configBlob.digest, configBlob)
      .set(manifestBlob.digest, manifestBlob);
    const manifestDescriptor = descriptor({ mediaType: MEDIA_TYPE.manifest, ...manifestBlob }, { platform });
    images.push({ platform, descriptor: manifestDescriptor, manifest, manifestBytes, config, configBytes });
    summaries.push({
      platform: name,
      manifestDigest: manifestBlob.digest,
      imageSize: configBlob.size + serverLayer.size + packLayer.size,
      configSize: configBlob.size,
      serverBytes: server.byteLength,
      serverLayerSize: serverLayer.size,
    });
  }

  let root: Descriptor;
  let rootBytes: Uint8Array;
  if (images.length === 1) {
    root = images[0]!.descriptor;
    rootBytes = images[0]!.manifestBytes;
  } else {
    const index: Index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.index,
      manifests: images.map((image) => image.descriptor),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
    rootBytes = canonicalJsonBytes(index);
    const indexBlob = memoryBlob(rootBytes);
    blobs.set(indexBlob.digest, indexBlob);
    root = descriptor({ mediaType: MEDIA_TYPE.index, ...indexBlob });
  }

  return {
    root,
    rootBytes,
    images,
    ...(reference ? { reference, refName: reference.tag, imageName: fullName(reference) } : {}),
    summary: { digest: root.digest, packBytes, packLayerSize: packLayer.size, platforms: summaries },
    blob(digest: string): Blob {
      const blob = blobs.get(digest);
      if (!blob) throw new ImageError(`the image has no blob ${digest}`);
      return blob;
    },
  };
}
