// Answers a registry's challenge: Basic sends the user and password on every request; Bearer
// gets a token from the challenge's realm for the push's scopes (`repository:NAME:pull,push`, and
// `repository:OTHER:pull` for mounts): GET with Basic credentials or anonymously, or the OAuth2
// POST with an identity token as refresh_token. Tokens are kept until shortly before they expire
// (`expires_in`, `issued_at`) and dropped when the registry answers 401 to one, so the next request
// fetches a fresh one. See docs/registry.md and the token spec
// (https://distribution.github.io/distribution/spec/auth/token/).

import type { Challenge } from "./challenge.ts";
import type { Credentials } from "./credentials.ts";
import { CredentialsError, describeAnswer, RegistryError, registryErrors } from "./errors.ts";
import type { HttpRequest, HttpResponse } from "./transport.ts";

/** What the Authenticator needs from its client. */
export interface AuthenticatorOptions {
  /** The registry, as named in the image reference, for messages. */
  readonly registry: string;
  /** The scopes every token is asked for. */
  readonly scopes: readonly string[];
  /** Looks the credentials up (once, and only when the registry asks for them). */
  readonly credentials: () => Promise<Credentials | undefined>;
  /** Where credentials were looked for, for the message when none were found. */
  readonly searched: string;
  /** Sends a request to the token server, with retries. */
  readonly send: (request: HttpRequest) => Promise<HttpResponse>;
  readonly now?: () => number;
}

/** Tokens are used until this long before they expire. */
const REFRESH_MARGIN_MS = 5_000;
/** The token spec's default and minimum lifetime. */
const MIN_LIFETIME_S = 60;
const CLIENT_ID = "speck";

interface Token {
  readonly header: string;
  readonly expiresAt: number;
}

/** Gives each request its `Authorization` header for one registry. */
export class Authenticator {
  private challenge: Challenge | undefined;
  private found: Promise<Credentials | undefined> | undefined;
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AuthenticatorOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Sets the challenge the registry answered the ping with. */
  challenged(challenge: Challenge | undefined): void {
    this.challenge = challenge;
    this.token = undefined;
  }

  /** The `Authorization` value for the next request, or undefined when none is needed or known. */
  async authorization(): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") return this.basic();
    if (challenge.scheme !== "bearer") {
      throw new RegistryError(
        `${this.options.registry} asks for "${challenge.scheme}" authentication, which speck does not speak`,
      );
    }
    if (this.token && this.now() < this.token.expiresAt - REFRESH_MARGIN_MS) return this.token.header;
    this.pending ??= this.fetchToken(challenge).finally(() => {
      this.pending = undefined;
    });
    this.token = await this.pending;
    return this.token.header;
  }

  /**
   * The registry answered 401 to a request sent with `sent`: drops that token, so the next
   * request fetches a new one, and takes the answer's challenge.
   */
  rejected(sent: string | undefined, challenge: Challenge | undefined): void {
    if (challenge) this.challenge = challenge;
    if (this.token?.header === sent) this.token = undefined;
  }

  /** The one-line error for a request the registry still refuses after a fresh authorization. */
  async refusal(
    what: string,
    response: HttpResponse,
    challenge: Challenge | undefined,
  ): Promise<CredentialsError> {
    const credentials = await this.credentials();
    const registry = this.options.registry;
    if (!credentials) {
      return new CredentialsError(
        `${registry} asks for credentials and none were found (looked in ${this.options.searched}): run docker login ${registry}, or pass --username and --password-stdin`,
      );
    }
    const code = registryErrors(response.body)[0]?.code;
    const scopeError = challenge?.params.error;
    // a HEAD answer has no body: the challenge's error (insufficient_scope) is all there is
    const answer =
      code === undefined && scopeError
        ? `HTTP ${response.status} (${scopeError})`
        : describeAnswer(response.status, response.body);
    if (scopeError === "insufficient_scope" || response.status === 403 || code === "DENIED") {
      return new CredentialsError(
        `${registry} denied ${what} to the credentials from ${credentials.source} (${answer}): check the repository name and that they may push to it`,
      );
    }
    return new CredentialsError(
      `${registry} rejected the credentials from ${credentials.source} (${answer}): log in again or fix them`,
    );
  }

  private credentials(): Promise<Credentials | undefined> {
    this.found ??= this.options.credentials();
    return this.found;
  }

  private async basic(): Promise<string | undefined> {
    const credentials = await this.credentials();
    if (!credentials) return undefined;
    if (credentials.kind !== "basic") {
      throw new CredentialsError(
        `${credentials.source} holds an identity token for ${this.options.registry}, which asks for a user and password (Basic auth)`,
      );
    }
    return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  }

  private async fetchToken(challenge: Challenge): Promise<Token> {
    const realm = challenge.params.realm;
    const registry = this.options.registry;
    let url: URL;
    try {
      url = new URL(realm ?? "");
    } catch {
      throw new RegistryError(`${registry} asks for a token but names no valid realm ("${realm ?? ""}")`);
    }
    const credentials = await this.credentials();
    const service = challenge.params.service;
    const request =
      credentials?.kind === "identity-token"
        ? this.refreshRequest(url, service, credentials.token)
        : this.tokenRequest(url, service, credentials);
    const started = this.now();
    const response = await this.options.send(request);
    const server = `the token server ${url.host}`;
    if (response.status === 401 || response.status === 403) {
      throw new CredentialsError(
        credentials
          ? `${server} rejected the credentials from ${credentials.source} for ${registry} (${describeAnswer(response.status, response.body)}): log in again or fix them`
          : `${server} gives no anonymous access to ${registry} (${describeAnswer(response.status, response.body)}): run docker login ${registry}, or pass --username and --password-stdin`,
      );
    }
    if (response.status < 200 || response.status >= 300) {
      throw new RegistryError(
        `${server}: a token for ${registry} failed: ${describeAnswer(response.status, response.body)}`,
        response.status,
      );
    }
    return parseToken(response.body, started, `${server} (for ${registry})`);
  }

  private tokenRequest(
    realm: URL,
    service: string | undefined,
    credentials: Credentials | undefined,
  ): HttpRequest {
    const url = new URL(realm);
    if (service) url.searchParams.set("service", service);
    for (const scope of this.options.scopes) url.searchParams.append("scope", scope);
    if (credentials?.kind === "basic") url.searchParams.set("account", credentials.username);
    const headers: Record<string, string> = {};
    if (credentials?.kind === "basic") {
      headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
    }
    return { method: "GET", url, headers };
  }

  private refreshRequest(realm: URL, service: string | undefined, refreshToken: string): HttpRequest {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: CLIENT_ID,
    });
    if (service) form.set("service", service);
    form.set("scope", this.options.scopes.join(" "));
    return {
      method: "POST",
      url: realm,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: Buffer.from(form.toString()),
    };
  }
}

/**
 * Reads a token answer: `token` or `access_token`, living `expires_in` seconds (60 when absent
 * or shorter) from `issued_at`. The local time of the request counts instead of `issued_at` when
 * the two clocks disagree so much that the token would already look expired or not yet issued.
 */
export function parseToken(body: Uint8Array, requestedAt: number, from: string): Token {
  let answer: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
  try {
    answer = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new RegistryError(`${from} answered with something that is not JSON`);
  }
  const token =
    typeof answer.access_token === "string" && answer.access_token ? answer.access_token : answer.token;
  if (typeof token !== "string" || token === "") throw new RegistryError(`${from} answered without a token`);
  const seconds =
    typeof answer.expires_in === "number" && answer.expires_in > MIN_LIFETIME_S
      ? answer.expires_in
      : MIN_LIFETIME_S;
  const lifetime = seconds * 1000;
  const issued = typeof answer.issued_at === "string" ? Date.parse(answer.issued_at) : Number.NaN;
  const start = issued <= requestedAt + 1000 && requestedAt - issued < lifetime ? issued : requestedAt;
  return { header: `Bearer ${token}`, expiresAt: start + lifetime };
}
