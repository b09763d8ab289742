// Puts one blob into the repository and sends nothing the registry already has: HEAD first
// (there: skipped); then a mount from another repository of the same registry when one is named
// (201: mounted; 202: not mounted, and the answer is an upload session to use); else an upload,
// monolithic up to the chunk size (POST, then PUT ?digest= with the bytes) and chunked above it
// (PATCH with Content-Range per chunk, then PUT ?digest=). A failed chunk resumes where the
// registry says the upload stands (GET on the upload URL, its Range header); when the registry
// has lost or invalidated the session (distribution 2.8 does once a chunk was cut short), the
// blob starts again in a new one. Only the chunk in flight is held in memory.

import { type Blob, collect } from "../image/blob.ts";
import { ImageError } from "../image/errors.ts";
import { header, type RegistryClient, type RegistryRequest } from "./client.ts";
import { RegistryError, registryErrors } from "./errors.ts";
import { failureReason, isRetryableError, isRetryableStatus } from "./retry.ts";
import type { HttpResponse } from "./transport.ts";

/** What became of a blob. */
export type BlobOutcome = "uploaded" | "mounted" | "skipped";

/** The outcome of one blob, for the summary. */
export interface BlobResult {
  readonly digest: string;
  readonly size: number;
  readonly outcome: BlobOutcome;
  /** The repository it was mounted from. */
  readonly from?: string;
  /** Bytes sent, those of failed tries included. */
  readonly sentBytes: number;
  /** Times a failed upload went on where the registry said it stood. */
  readonly resumes: number;
  /** Times a failed upload began again in a new session. */
  readonly restarts: number;
  readonly milliseconds: number;
}

/** How to upload. */
export interface UploadOptions {
  /** Blobs up to this size go in one PUT; larger ones in PATCHes of this size. */
  readonly chunkSize: number;
  /** A repository of the same registry to mount the blob from, if it holds it. */
  readonly mountFrom?: string;
  /** Called when bytes are about to be sent (the blob was neither there nor mounted). */
  readonly onStart?: () => void;
  /** Called with how far the upload stands, in bytes of the blob. */
  readonly onProgress?: (bytes: number) => void;
}

/** `sha256:1a2b3c4d5e6f`: enough of a digest to tell blobs apart in messages. */
export function shortDigest(digest: string): string {
  return digest.slice(0, digest.indexOf(":") + 13);
}

/** Uploads `blob` unless the repository has it or can mount it. */
export async function pushBlob(
  client: RegistryClient,
  blob: Blob,
  options: UploadOptions,
): Promise<BlobResult> {
  const started = Date.now();
  const result = (outcome: BlobOutcome, from?: string, upload?: Upload): BlobResult => ({
    digest: blob.digest,
    size: blob.size,
    outcome,
    ...(from ? { from } : {}),
    sentBytes: upload?.sent ?? 0,
    resumes: upload?.resumes ?? 0,
    restarts: upload?.restarts ?? 0,
    milliseconds: Date.now() - started,
  });
  if (await blobExists(client, blob.digest)) return result("skipped");
  let session: URL | undefined;
  if (options.mountFrom) {
    const start = await startUpload(client, blob.digest, options.mountFrom);
    if (start === "mounted") return result("mounted", options.mountFrom);
    session = start;
  }
  options.onStart?.();
  const upload = new Upload(client, blob, options, session);
  if (blob.size <= options.chunkSize) await upload.whole();
  else await upload.chunked();
  return result("uploaded", undefined, upload);
}

/** HEAD on the blob: true when the repository has it (2xx, or a redirect to its storage). */
export async function blobExists(client: RegistryClient, digest: string): Promise<boolean> {
  const what = `checking blob ${shortDigest(digest)}`;
  const response = await client.request({ method: "HEAD", target: `blobs/${digest}`, what });
  if (response.status >= 200 && response.status < 400) return true;
  if (response.status === 404) return false;
  throw client.unexpected(what, response);
}

/** POST to start an upload session (or to mount): its URL, or "mounted". */
async function startUpload(client: RegistryClient, digest: string, from?: string): Promise<URL | "mounted"> {
  const query = from ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}` : "";
  const what = from
    ? `mounting blob ${shortDigest(digest)} from ${from}`
    : `starting an upload of blob ${shortDigest(digest)}`;
  const url = await client.url(`blobs/uploads/${query}`);
  const response = await client.request({ method: "POST", target: url, what });
  if (response.status === 201 && from) return "mounted";
  if (response.status === 202) return client.location(response, url, what);
  throw client.unexpected(what, response);
}

/** The upload URL with `?digest=` (or `&digest=`) added, the rest of it kept byte for byte. */
function withDigest(location: URL, digest: string): URL {
  const separator = location.search ? "&" : "?";
  return new URL(`${location.href}${separator}digest=${encodeURIComponent(digest)}`);
}

/** The registry no longer knows the session, or refuses where it stands: start a new one. */
function sessionLost(response: HttpResponse): boolean {
  if (response.status === 404 || response.status === 416) return true;
  const code = registryErrors(response.body)[0]?.code;
  return response.status === 400 && (code === "BLOB_UPLOAD_INVALID" || code === "BLOB_UPLOAD_UNKNOWN");
}

/** Bytes the registry holds, from `Range: 0-<last byte>` ("0-0" is read as nothing yet). */
function rangeEnd(response: HttpResponse): number | undefined {
  const match = /^(?:bytes=)?0-(\d+)$/.exec(header(response, "range")?.trim() ?? "");
  if (!match) return undefined;
  const last = Number(match[1]);
  return last === 0 ? 0 : last + 1;
}

/** One try's result: an answer, or a network error. */
type Tried = { readonly response: HttpResponse } | { readonly error: unknown };

/**
 * Reads a blob's stream in chunks, one chunk ahead (reading and hashing the next while the
 * registry takes the current one), and again from any offset after a restart.
 */
class BlobReader {
  private iterator: AsyncIterator<Uint8Array>;
  private leftover: Uint8Array = new Uint8Array(0);
  private position = 0;
  private ahead: Promise<Uint8Array> | undefined;

  constructor(private readonly blob: Blob) {
    this.iterator = blob.open()[Symbol.asyncIterator]();
  }

  /** The next chunk of `size` bytes (fewer at the end), and starts reading the one after. */
  async next(size: number): Promise<Uint8Array> {
    const chunk = await (this.ahead ?? this.read(size));
    this.ahead = this.position < this.blob.size ? this.read(size) : undefined;
    this.ahead?.catch(() => {}); // a failure surfaces at the next call
    return chunk;
  }

  /** The next `size` bytes (fewer at the end of the blob). */
  private async read(size: number): Promise<Uint8Array> {
    const out = Buffer.allocUnsafe(Math.max(0, Math.min(size, this.blob.size - this.position)));
    let filled = 0;
    while (filled < out.byteLength) {
      if (this.leftover.byteLength === 0) {
        const next = await this.iterator.next();
        if (next.done)
          throw new ImageError(
            `blob ${this.blob.digest} ended after ${this.position + filled} of its ${this.blob.size} bytes`,
          );
        this.leftover = next.value;
        continue;
      }
      const take = Math.min(out.byteLength - filled, this.leftover.byteLength);
      out.set(this.leftover.subarray(0, take), filled);
      filled += take;
      this.leftover = this.leftover.subarray(take);
    }
    this.position += filled;
    return out;
  }

  /** Reads to the end of the stream (which checks its digest) and fails if bytes remain. */
  async finish(): Promise<void> {
    for (;;) {
      if (this.leftover.byteLength > 0)
        throw new ImageError(`blob ${this.blob.digest} is longer than its ${this.blob.size} bytes`);
      const next = await this.iterator.next();
      if (next.done) return;
      this.leftover = next.value;
    }
  }

  /** Starts the stream again and skips to `offset`. */
  async restartAt(offset: number): Promise<void> {
    await this.close();
    this.ahead = undefined;
    this.iterator = this.blob.open()[Symbol.asyncIterator]();
    this.leftover = new Uint8Array(0);
    this.position = 0;
    while (this.position < offset)
      this.position += (await this.read(Math.min(offset - this.position, 1 << 20))).byteLength;
  }

  async close(): Promise<void> {
    await this.ahead?.catch(() => {});
    await this.iterator.return?.();
  }
}

/** The upload of one blob: its session, how far the registry has it, and the tries left. */
class Upload {
  sent = 0;
  resumes = 0;
  restarts = 0;
  private failures = 0;
  private readonly what: string;

  constructor(
    private readonly client: RegistryClient,
    private readonly blob: Blob,
    private readonly options: UploadOptions,
    private session: URL | undefined,
  ) {
    this.what = `uploading blob ${shortDigest(blob.digest)}`;
  }

  /** POST, then one PUT with every byte; a failed PUT starts over in a new session. */
  async whole(): Promise<void> {
    const bytes = await collect(this.blob.open());
    if (bytes.byteLength !== this.blob.size) {
      throw new ImageError(`blob ${this.blob.digest} has ${bytes.byteLength} bytes, not ${this.blob.size}`);
    }
    for (;;) {
      const location = this.session ?? (await this.start());
      const tried = await this.send(
        {
          method: "PUT",
          target: withDigest(location, this.blob.digest),
          headers: { "content-type": "application/octet-stream" },
          body: bytes,
          what: this.what,
        },
        0,
      );
      if ("response" in tried && tried.response.status >= 200 && tried.response.status < 300) return;
      await this.failed(tried);
      if (await blobExists(this.client, this.blob.digest)) return;
      this.session = undefined;
      this.restarts++;
    }
  }

  /** POST, a PATCH per chunk, then the PUT; resumes or restarts after failures. */
  async chunked(): Promise<void> {
    const reader = new BlobReader(this.blob);
    const size = this.blob.size;
    const chunkSize = this.options.chunkSize;
    try {
      let location = this.session ?? (await this.start());
      let chunk = { start: 0, bytes: await reader.next(chunkSize) };
      let offset = 0;
      for (;;) {
        const chunkEnd = chunk.start + chunk.bytes.byteLength;
        if (offset === chunkEnd && chunkEnd < size) {
          chunk = { start: chunkEnd, bytes: await reader.next(chunkSize) };
          continue;
        }
        let tried: Tried;
        if (offset < size) {
          const body = chunk.bytes.subarray(offset - chunk.start);
          tried = await this.send(
            {
              method: "PATCH",
              target: location,
              headers: {
                "content-type": "application/octet-stream",
                "content-range": `${offset}-${offset + body.byteLength - 1}`,
              },
              body,
              what: `${this.what} (bytes ${offset}-${offset + body.byteLength - 1})`,
            },
            offset,
          );
          if ("response" in tried && tried.response.status === 202) {
            location = this.client.location(tried.response, location, this.what);
            offset = rangeEnd(tried.response) ?? offset + body.byteLength;
            this.failures = 0;
            if (offset < chunk.start || offset > chunkEnd)
              chunk = await this.restartAt(reader, offset, chunkSize);
            continue;
          }
        } else {
          await reader.finish();
          tried = await this.send(
            {
              method: "PUT",
              target: withDigest(location, this.blob.digest),
              what: `finishing blob ${shortDigest(this.blob.digest)}`,
            },
            size,
          );
          if ("response" in tried && tried.response.status >= 200 && tried.response.status < 300) return;
        }
        const lost = await this.failed(tried);
        if (offset >= size && (await blobExists(this.client, this.blob.digest))) return;
        const status = lost ? undefined : await this.status(location);
        if (status) {
          location = status.location;
          offset = status.offset;
          this.resumes++;
        } else {
          location = await this.start();
          offset = 0;
          this.restarts++;
        }
        this.options.onProgress?.(offset);
        if (offset < chunk.start || offset > chunk.start + chunk.bytes.byteLength) {
          chunk = await this.restartAt(reader, offset, chunkSize);
        }
      }
    } finally {
      await reader.close();
    }
  }

  private async restartAt(reader: BlobReader, offset: number, chunkSize: number) {
    await reader.restartAt(offset);
    return { start: offset, bytes: await reader.next(chunkSize) };
  }

  private async start(): Promise<URL> {
    const location = await startUpload(this.client, this.blob.digest);
    if (location === "mounted")
      throw new RegistryError(
        `${this.client.where}: ${this.what}: a new session claims the blob was mounted`,
      );
    return location;
  }

  /** One try of `request`, counting the bytes sent and reporting progress from `offset`. */
  private async send(request: RegistryRequest, offset: number): Promise<Tried> {
    let counted = 0;
    const onSent = (bytes: number) => {
      this.sent += bytes - counted;
      counted = bytes;
      this.options.onProgress?.(offset + bytes);
    };
    try {
      return { response: await this.client.once({ ...request, onSent }) };
    } catch (error) {
      return { error };
    }
  }

  /**
   * Counts a failed try and waits before the next; throws when the failure is final (not
   * retryable, or the tries are used up). True when the registry lost the session.
   */
  private async failed(tried: Tried): Promise<boolean> {
    let reason: string;
    let retryAfter: string | undefined;
    let lost = false;
    if ("error" in tried) {
      if (!isRetryableError(tried.error)) throw this.client.failure(this.what, tried.error);
      reason = failureReason(tried.error);
    } else {
      const { response } = tried;
      lost = sessionLost(response);
      if (!lost && !isRetryableStatus(response.status)) throw this.client.unexpected(this.what, response);
      reason = `HTTP ${response.status}`;
      retryAfter = header(response, "retry-after");
    }
    this.failures++;
    if (this.failures >= this.client.policy.attempts) {
      throw new RegistryError(
        `${this.client.where}: ${this.what} failed after ${this.failures} tries: ${reason}`,
      );
    }
    await this.client.pause(this.what, this.failures, reason, retryAfter);
    return lost;
  }

  /** Where the upload stands (GET on its URL), or undefined when the registry lost it. */
  private async status(location: URL): Promise<{ location: URL; offset: number } | undefined> {
    const what = `asking where the upload of blob ${shortDigest(this.blob.digest)} stands`;
    const response = await this.client.request({ method: "GET", target: location, what });
    if (sessionLost(response)) return undefined;
    if (response.status !== 204 && response.status !== 200) throw this.client.unexpected(what, response);
    const offset = rangeEnd(response);
    if (offset === undefined) return undefined;
    return {
      location: header(response, "location") ? this.client.location(response, location, what) : location,
      offset,
    };
  }
}
