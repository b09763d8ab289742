// Pushes an image, like go-containerregistry's remote.Write: every blob its manifests name
// (configs and layers, each once, several at a time), then each platform's manifest by digest,
// then what the tag names (the index, or the single manifest) by tag. Blobs already in the
// repository are skipped; blobs this process pushed to another repository of the same registry,
// or that a `mountFrom` repository may hold, are mounted rather than sent again.

import { collect } from "../image/blob.ts";
import { ImageError } from "../image/errors.ts";
import { type Descriptor, type Index, type Manifest, MEDIA_TYPE } from "../image/oci.ts";
import { fullName, parseTag, type Reference } from "../image/reference.ts";
import type { ImageSource } from "../image/source.ts";
import { type ClientOptions, RegistryClient } from "./client.ts";
import { putManifest } from "./manifest.ts";
import type { RetryEvent } from "./retry.ts";
import { type BlobResult, pushBlob } from "./upload.ts";

/** What pushImage reports as it goes, for progress displays. */
export type PushEvent =
  | { readonly type: "blob-start"; readonly digest: string; readonly size: number }
  | { readonly type: "blob-progress"; readonly digest: string; readonly bytes: number; readonly size: number }
  | { readonly type: "blob-done"; readonly result: BlobResult }
  | { readonly type: "retry"; readonly retry: RetryEvent }
  | { readonly type: "manifest"; readonly digest: string; readonly reference: string };

/** How to push. */
export interface PushOptions
  extends Omit<ClientOptions, "registry" | "repository" | "mountFrom" | "onRetry"> {
  /** Repositories of the same registry to mount blobs from (the first that may hold each blob). */
  readonly mountFrom?: readonly string[];
  /** Blobs up to this size are sent in one request, larger ones in chunks of it (default 16 MiB). */
  readonly chunkSize?: number;
  /** Blobs uploaded at the same time (default 4). */
  readonly concurrency?: number;
  readonly onEvent?: (event: PushEvent) => void;
  /** Where earlier pushes put blobs (default: this process's). */
  readonly pushed?: PushedBlobs;
}

/** A manifest that was put. */
export interface PushedManifest {
  readonly digest: string;
  readonly mediaType: string;
  /** Its digest, or the tag for the root. */
  readonly reference: string;
}

/** What a push did. */
export interface PushSummary {
  /** `registry/repository:tag`. */
  readonly reference: string;
  /** The digest the tag names. */
  readonly digest: string;
  readonly mediaType: string;
  /** Every blob, sorted by digest. */
  readonly blobs: readonly BlobResult[];
  /** Children first, the root last. */
  readonly manifests: readonly PushedManifest[];
  readonly milliseconds: number;
}

export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 4;
const INDEX_TYPES = new Set<string>([MEDIA_TYPE.index, MEDIA_TYPE.dockerManifestList]);

/** Which repository of each registry holds the blobs pushed so far, to mount them elsewhere. */
export class PushedBlobs {
  private readonly where = new Map<string, Map<string, string>>();

  record(registry: string, repository: string, digest: string): void {
    const blobs = this.where.get(registry) ?? new Map<string, string>();
    this.where.set(registry, blobs.set(digest, repository));
  }

  /** A repository other than `repository` known to hold `digest`. */
  find(registry: string, repository: string, digest: string): string | undefined {
    const found = this.where.get(registry)?.get(digest);
    return found === repository ? undefined : found;
  }

  /** Every repository of `registry` that blobs were pushed to, sorted. */
  repositories(registry: string): string[] {
    return [...new Set(this.where.get(registry)?.values() ?? [])].sort();
  }
}

/** The blobs pushed by this process. */
export const processPushes = new PushedBlobs();

interface ManifestNode {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

/** Every manifest under the root, children before parents, and the blobs they name. */
async function walk(source: ImageSource): Promise<{ manifests: ManifestNode[]; blobs: Map<string, number> }> {
  const manifests: ManifestNode[] = [];
  const blobs = new Map<string, number>();
  const known = new Map(source.images.map((image) => [image.descriptor.digest, image.manifestBytes]));
  known.set(source.root.digest, source.rootBytes);
  const seen = new Set<string>();
  const visit = async (descriptor: Descriptor): Promise<void> => {
    if (seen.has(descriptor.digest)) return;
    seen.add(descriptor.digest);
    const bytes = known.get(descriptor.digest) ?? (await collect(source.blob(descriptor.digest).open()));
    const parsed = JSON.parse(Buffer.from(bytes).toString("utf8")) as Partial<Index & Manifest>;
    if (INDEX_TYPES.has(descriptor.mediaType)) {
      for (const child of parsed.manifests ?? []) await visit(child);
    } else {
      if (!parsed.config || !Array.isArray(parsed.layers)) {
        throw new ImageError(`manifest ${descriptor.digest} has no config or layers`);
      }
      for (const blob of [parsed.config, ...parsed.layers]) blobs.set(blob.digest, blob.size);
    }
    manifests.push({ descriptor, bytes });
  };
  await visit(source.root);
  return { manifests, blobs };
}

/** Runs `work` on every item, at most `limit` at a time; stops taking new items after a failure. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Pushes `source` to `ref` (`registry/repository[:tag]`, the tag defaulting to latest). */
export async function pushImage(
  source: ImageSource,
  ref: string | Reference,
  options: PushOptions = {},
): Promise<PushSummary> {
  const started = Date.now();
  const reference = typeof ref === "string" ? parseTag(ref) : { ...ref, tag: ref.tag ?? "latest" };
  const { domain: registry, path: repository } = reference;
  const pushed = options.pushed ?? processPushes;
  const mountFrom = [...(options.mountFrom ?? []), ...pushed.repositories(registry)];
  const emit = options.onEvent ?? (() => {});
  const client = new RegistryClient({
    ...options,
    registry,
    repository,
    mountFrom,
    onRetry: (retry) => emit({ type: "retry", retry }),
  });
  try {
    const { manifests, blobs } = await walk(source);
    const digests = [...blobs.keys()].sort();
    // the largest first, so that the long upload starts at once and the small ones fill around it
    const order = [...digests].sort((a, b) => blobs.get(b)! - blobs.get(a)!);
    const results = new Map<string, BlobResult>();
    await eachLimited(order, options.concurrency ?? DEFAULT_CONCURRENCY, async (digest) => {
      const blob = source.blob(digest);
      if (blob.size !== blobs.get(digest)) {
        throw new ImageError(
          `blob ${digest} has ${blob.size} bytes, but its descriptor says ${blobs.get(digest)}`,
        );
      }
      const from =
        pushed.find(registry, repository, digest) ?? options.mountFrom?.find((r) => r !== repository);
      const result = await pushBlob(client, blob, {
        chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
        ...(from ? { mountFrom: from } : {}),
        onStart: () => emit({ type: "blob-start", digest, size: blob.size }),
        onProgress: (bytes) => emit({ type: "blob-progress", digest, bytes, size: blob.size }),
      });
      results.set(digest, result);
      pushed.record(registry, repository, digest);
      emit({ type: "blob-done", result });
    });
    const put: PushedManifest[] = [];
    for (const node of manifests) {
      const isRoot = node.descriptor.digest === source.root.digest;
      const target = isRoot ? reference.tag : node.descriptor.digest;
      const digest = await putManifest(client, target, node.descriptor.mediaType, node.bytes);
      put.push({ digest, mediaType: node.descriptor.mediaType, reference: target });
      emit({ type: "manifest", digest, reference: target });
    }
    return {
      reference: fullName({ domain: registry, path: repository, tag: reference.tag }),
      digest: source.root.digest,
      mediaType: source.root.mediaType,
      blobs: digests.map((digest) => results.get(digest)!),
      manifests: put,
      milliseconds: Date.now() - started,
    };
  } finally {
    client.close();
  }
}
