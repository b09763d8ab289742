// One repository of one registry, as a push talks to it: finds the API's base URL with a ping
// (`GET /v2/`: https, or plain http for loopback registries and for --insecure ones without
// TLS), gives each request its authorization, answers a 401 once with a fresh token, retries
// what is worth retrying, and turns what remains into one-line RegistryError and
// CredentialsError messages naming the registry, the operation and the registry's error code.

import { Authenticator } from "./auth.ts";
import { parseChallenges, pickChallenge } from "./challenge.ts";
import { type CredentialSource, configCredentials } from "./credentials.ts";
import { answerError, RegistryError } from "./errors.ts";
import {
  backoffDelay,
  DEFAULT_RETRY,
  failureReason,
  GaveUp,
  isRetryableStatus,
  NetworkError,
  type RetryEvent,
  type RetryPolicy,
  retrying,
  wait,
} from "./retry.ts";
import { type HttpResponse, Transport } from "./transport.ts";

/** How to reach a registry. */
export interface ClientOptions {
  /** The registry as an image reference names it: `ghcr.io`, `127.0.0.1:5000`, `docker.io`. */
  readonly registry: string;
  readonly repository: string;
  /** Repositories of the same registry that blobs may be mounted from (asked for pull access). */
  readonly mountFrom?: readonly string[];
  /** Accept any TLS certificate, and fall back to plain HTTP when the registry has no TLS. */
  readonly insecure?: boolean;
  /** Where credentials come from (default: docker's and podman's config files and helpers). */
  readonly credentials?: CredentialSource;
  readonly retry?: RetryPolicy;
  /** Fail a request whose connection has been idle this long. */
  readonly timeoutMs?: number;
  readonly onRetry?: (event: RetryEvent) => void;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** A request to the repository. */
export interface RegistryRequest {
  readonly method: string;
  /** A path below `/v2/<repository>/` (`blobs/sha256:…`), or a URL the registry gave (an upload's Location). */
  readonly target: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** What this is, for messages: `checking blob sha256:1a2b3c4d5e6f`. */
  readonly what: string;
  readonly onSent?: (bytes: number) => void;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)(?::\d+)?$/i;
const TLS_CODES = /CERT|SSL|TLS|EPROTO/;
/** Tries of the first request when the connection is refused (about 0.75 s of backoff at most). */
const FIRST_CONTACT_REFUSALS = 3;

/** Docker Hub's API host differs from its name in references. */
function apiHost(registry: string): string {
  return registry === "docker.io" || registry === "index.docker.io" ? "registry-1.docker.io" : registry;
}

/** True for registries on this machine, which speck talks to over plain HTTP. */
export function isLoopback(registry: string): boolean {
  return LOOPBACK.test(registry);
}

/** The first value of a header. */
export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Talks to one repository of one registry. */
export class RegistryClient {
  /** `registry/repository`, the prefix of every message. */
  readonly where: string;
  readonly policy: RetryPolicy;
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  private base: Promise<URL> | undefined;
  private readonly closed = new AbortController();

  constructor(private readonly options: ClientOptions) {
    this.where = `${options.registry}/${options.repository}`;
    this.policy = options.retry ?? DEFAULT_RETRY;
    this.transport = new Transport({
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      insecureTls: options.insecure ?? false,
    });
    const credentials = options.credentials ?? configCredentials();
    const scopes = [
      `repository:${options.repository}:pull,push`,
      ...[...new Set(options.mountFrom ?? [])]
        .filter((repository) => repository !== options.repository)
        .sort()
        .map((repository) => `repository:${repository}:pull`),
    ];
    this.auth = new Authenticator({
      registry: options.registry,
      scopes,
      searched: credentials.searched,
      credentials: () => credentials.find(options.registry, options.repository),
      send: (request) => this.retried(`token for ${options.registry}`, () => this.transport.send(request)),
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** Sends `request`, retrying network failures and 429/5xx; resolves with the final answer. */
  async request(request: RegistryRequest): Promise<HttpResponse> {
    const url = await this.url(request.target);
    return this.retried(request.what, () => this.once(request, url));
  }

  /**
   * Sends `request` once (answering a 401 with fresh credentials once); network failures reject
   * as they are, for callers that resume on their own (chunked uploads).
   */
  async once(request: RegistryRequest, url?: URL): Promise<HttpResponse> {
    this.closed.signal.throwIfAborted();
    const target = url ?? (await this.url(request.target));
    const base = await this.baseUrl();
    return this.authorized(request, target, target.origin === base.origin);
  }

  /** Sends once with the authorization (only to the registry's own origin); a 401 once more, fresh. */
  private async authorized(request: RegistryRequest, target: URL, ours: boolean): Promise<HttpResponse> {
    for (let fresh = false; ; fresh = true) {
      const authorization = ours ? await this.auth.authorization() : undefined;
      const response = await this.transport.send({
        method: request.method,
        url: target,
        headers: { ...request.headers, ...(authorization ? { authorization } : {}) },
        ...(request.body ? { body: request.body } : {}),
        ...(request.onSent ? { onSent: request.onSent } : {}),
      });
      if (!ours) return response;
      if (response.status === 403) throw await this.auth.refusal(request.what, response, undefined);
      if (response.status !== 401) return response;
      const challenge = pickChallenge(parseChallenges(header(response, "www-authenticate")));
      if (fresh) throw await this.auth.refusal(request.what, response, challenge);
      this.auth.rejected(authorization, challenge);
    }
  }

  /** The RegistryError for an answer `what` did not expect. */
  unexpected(what: string, response: HttpResponse): RegistryError {
    return answerError(this.where, what, response.status, response.body);
  }

  /** The RegistryError for a network failure of `what` (after retries, when there were any). */
  failure(what: string, error: unknown): Error {
    const network =
      !(error instanceof RegistryError) &&
      (error instanceof GaveUp ||
        error instanceof NetworkError ||
        typeof (error as { code?: unknown })?.code === "string");
    if (!network) return error as Error;
    const cause = error instanceof GaveUp ? error.last : error;
    const reason = failureReason(cause);
    const tries = error instanceof GaveUp ? ` after ${error.tries} tries` : "";
    const hint = TLS_CODES.test(reason)
      ? ": pass --insecure to accept its certificate, or trust its CA with NODE_EXTRA_CA_CERTS"
      : reason === "ECONNREFUSED"
        ? ": nothing listens there; check the registry's host and port, and that it is running"
        : reason === "ENOTFOUND" || reason === "EAI_AGAIN"
          ? ": the host name does not resolve; check the registry in the tag, and this machine's DNS"
          : "";
    return new RegistryError(`${this.where}: ${what} failed${tries}: ${reason}${hint}`);
  }

  /** Waits before the try after number `attempt` of `what`, and reports the retry. */
  async pause(what: string, attempt: number, reason: string, retryAfter?: string): Promise<void> {
    this.closed.signal.throwIfAborted();
    const delayMs = backoffDelay(attempt, this.policy, retryAfter, this.options.random);
    this.options.onRetry?.({ what, attempt, attempts: this.policy.attempts, reason, delayMs });
    await wait(delayMs, this.closed.signal);
  }

  /** The URL a `Location` header names, resolved against the request's URL. */
  location(response: HttpResponse, requested: URL, what: string): URL {
    const value = header(response, "location");
    if (!value) throw new RegistryError(`${this.where}: ${what}: the registry answered without a Location`);
    return new URL(value, requested);
  }

  /** The URL of `target`: a path below the repository, or a URL as is. */
  async url(target: string | URL): Promise<URL> {
    if (target instanceof URL) return target;
    const base = await this.baseUrl();
    return new URL(`v2/${this.options.repository}/${target}`, base);
  }

  /** Closes the connections, those in use included, and stops every retry. */
  close(): void {
    this.closed.abort(new RegistryError(`${this.where}: the push was stopped`));
    this.transport.close();
  }

  private async retried(what: string, send: () => Promise<HttpResponse>): Promise<HttpResponse> {
    let response: HttpResponse;
    try {
      response = await retrying(what, send, {
        policy: this.policy,
        signal: this.closed.signal,
        ...(this.options.onRetry ? { onRetry: this.options.onRetry } : {}),
        ...(this.options.random ? { random: this.options.random } : {}),
      });
    } catch (error) {
      throw this.failure(what, error);
    }
    if (isRetryableStatus(response.status)) {
      throw answerError(this.where, what, response.status, response.body, this.policy.attempts);
    }
    return response;
  }

  private baseUrl(): Promise<URL> {
    this.base ??= this.ping();
    return this.base;
  }

  /** `GET /v2/`: which scheme answers, and which challenge (if any) the registry sets. */
  private async ping(): Promise<URL> {
    const host = apiHost(this.options.registry);
    const https = new URL(`https://${host}/`);
    const http = new URL(`http://${host}/`);
    if (isLoopback(host)) return this.greet(http);
    if (!this.options.insecure) return this.greet(https);
    // --insecure: HTTPS with any certificate when the registry speaks it, else plain HTTP
    const answer = await this.transport
      .send({ method: "GET", url: new URL("v2/", https) })
      .catch(() => undefined);
    return answer ? this.greet(https, answer) : this.greet(http);
  }

  /** Checks that `base` speaks the distribution API, takes its challenge and logs in. */
  private async greet(base: URL, answer?: HttpResponse): Promise<URL> {
    const url = new URL("v2/", base);
    const what = `GET ${url.href}`;
    let refusals = 0;
    const firstContact = () =>
      this.transport.send({ method: "GET", url }).catch((error: unknown) => {
        // a refusal before the registry ever answered is most likely a wrong address: give up
        // within a second instead of the push's whole backoff (a refusal later is still retried)
        if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED" && ++refusals >= FIRST_CONTACT_REFUSALS)
          throw new GaveUp(error, refusals);
        throw error;
      });
    const response = answer ?? (await this.retried(what, firstContact));
    if (response.status === 401) {
      this.auth.challenged(pickChallenge(parseChallenges(header(response, "www-authenticate"))));
      // log in now, as docker login does: wrong credentials fail before any blob is read, with
      // the registry's own error body (a HEAD answer has none)
      const login = { method: "GET", target: url, what: "logging in" };
      const checked = await this.retried(what, () => this.authorized(login, url, true));
      if (checked.status < 200 || checked.status >= 300) throw this.unexpected("logging in", checked);
    } else if (response.status < 200 || response.status >= 300) {
      throw new RegistryError(
        `${this.options.registry}: ${what} answered HTTP ${response.status}: is this a registry (the distribution API)?`,
        response.status,
      );
    }
    return base;
  }
}
