// A token server for tests of registry token auth (https://distribution.github.io/distribution/spec/auth/token/):
// the registry trusts a self-signed certificate made with openssl; the server checks Basic
// credentials (GET) or an identity token (the OAuth2 POST with grant_type=refresh_token) and
// answers a JWT signed RS256 with that certificate in `x5c`, granting the requested actions to
// known users and nothing to anonymous ones. It records every request, never its secrets.

import { execFileSync } from "node:child_process";
import { createPrivateKey, randomUUID, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TokenServerOptions {
  /** user → password. */
  readonly users: Readonly<Record<string, string>>;
  /** identity token → user. */
  readonly identityTokens?: Readonly<Record<string, string>>;
  /** Users granted pull only, whatever they ask for. */
  readonly pullOnly?: readonly string[];
}

export interface TokenRequestRecord {
  readonly method: string;
  readonly user: string | undefined;
  readonly scopes: readonly string[];
  readonly grantType?: string;
}

export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly certFile: string;
  readonly requests: TokenRequestRecord[];
  /** The next `count` tokens name the wrong audience, so the registry answers 401 to them. */
  spoil(count: number): void;
  stop(): Promise<void>;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Grants the actions asked on `repository:NAME:actions` scopes to a known user (pull only, if so). */
function access(scopes: readonly string[], user: string | undefined, pullOnly: boolean) {
  if (!user) return [];
  return scopes.flatMap((scope) => {
    const match = /^repository:([^:]+):(.+)$/.exec(scope);
    if (!match) return [];
    const actions = match[2]!.split(",").filter((action) => !pullOnly || action === "pull");
    return [{ type: "repository", name: match[1], actions }];
  });
}

/** Makes a key and certificate with openssl and starts the server on a free port of 127.0.0.1. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), "speck-token-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      "/CN=speck-test-token",
    ],
    { stdio: "ignore" },
  );
  const key = createPrivateKey(readFileSync(keyFile));
  const certificate = readFileSync(certFile, "utf8")
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, "")
    .replace(/\s+/g, "");
  const service = "speck-test-registry";
  const issuer = "speck-test-issuer";
  const requests: TokenRequestRecord[] = [];
  let spoiled = 0;

  const token = (user: string | undefined, scopes: readonly string[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [certificate] };
    const claims = {
      iss: issuer,
      sub: user ?? "",
      aud: spoiled-- > 0 ? "someone-else" : service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access: access(scopes, user, user !== undefined && (options.pullOnly ?? []).includes(user)),
    };
    const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    return `${signed}.${base64url(sign("sha256", Buffer.from(signed), key))}`;
  };

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://token");
    const reply = (status: number, answer: unknown) => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(answer));
    };
    if (request.method === "POST") {
      const form = new URLSearchParams(await body(request));
      const scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
      const user = options.identityTokens?.[form.get("refresh_token") ?? ""];
      requests.push({ method: "POST", user, scopes, grantType: form.get("grant_type") ?? "" });
      if (form.get("grant_type") !== "refresh_token" || !user || form.get("service") !== service) {
        return reply(401, { error: "invalid_grant" });
      }
      return reply(200, {
        access_token: token(user, scopes),
        expires_in: 300,
        issued_at: new Date().toISOString(),
      });
    }
    const scopes = url.searchParams.getAll("scope");
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    let user: string | undefined;
    if (basic) {
      const [name = "", ...rest] = Buffer.from(basic, "base64").toString("utf8").split(":");
      if (options.users[name] !== rest.join(":")) {
        requests.push({ method: "GET", user: undefined, scopes });
        return reply(401, { errors: [{ code: "UNAUTHORIZED", message: "wrong user or password" }] });
      }
      user = name;
    }
    requests.push({ method: "GET", user, scopes });
    reply(200, { token: token(user, scopes), expires_in: 300, issued_at: new Date().toISOString() });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    spoil: (count) => {
      spoiled = count;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
