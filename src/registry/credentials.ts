// Finds the credentials for a registry where docker, crane, skopeo and podman keep them: the file
// named by REGISTRY_AUTH_FILE, docker's config.json (DOCKER_CONFIG or ~/.docker), then podman's
// auth.json (${XDG_RUNTIME_DIR}/containers, ~/.config/containers). In each file `credHelpers`
// (per registry) comes first, then `credsStore`, then `auths`; the first file that knows the
// registry wins. Helpers are `docker-credential-NAME get`, given the server on stdin and answering
// `{"ServerURL","Username","Secret"}` on stdout; the user `<token>` means Secret is an identity
// token (an OAuth2 refresh token). No secret ever goes into a message.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CredentialsError, oneLine } from "./errors.ts";

/** What to log in with, and where it came from (for messages: never the secret itself). */
export type Credentials =
  | { readonly kind: "basic"; readonly username: string; readonly password: string; readonly source: string }
  | { readonly kind: "identity-token"; readonly token: string; readonly source: string };

/** Where credentials come from: config files and helpers, or the command line. */
export interface CredentialSource {
  /** Where it looks, for the message when it finds nothing. */
  readonly searched: string;
  /** The credentials for `registry` (host[:port]) and `repository`, or undefined. */
  find(registry: string, repository: string): Promise<Credentials | undefined>;
}

/** The key docker uses for Docker Hub in config files and helpers. */
export const DOCKER_HUB_KEY = "https://index.docker.io/v1/";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
const HELPER_TIMEOUT_MS = 60_000;

/** The config files to look in, in order, for this environment. */
export function credentialFiles(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  files.push(join(env.DOCKER_CONFIG ?? join(home, ".docker"), "config.json"));
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  files.push(join(home, ".config", "containers", "auth.json"));
  return [...new Set(files)];
}

/** The registry a config key names, `host[:port]` plus an optional repository path. */
function normaliseKey(key: string): string {
  let rest = key.replace(/^[a-z]+:\/\//i, "");
  const slash = rest.indexOf("/");
  let host = slash === -1 ? rest : rest.slice(0, slash);
  let path = slash === -1 ? "" : rest.slice(slash + 1).replace(/\/+$/, "");
  if (/^v[12]$/.test(path)) path = "";
  host = host.toLowerCase();
  if (DOCKER_HUB_ALIASES.has(host)) host = "docker.io";
  rest = path ? `${host}/${path}` : host;
  return rest;
}

/** The keys that may hold `registry`'s credentials, most specific first (`host/a/b`, `host/a`, `host`). */
function candidateKeys(registry: string, repository: string): string[] {
  const host = normaliseKey(registry);
  const parts = repository.split("/");
  const keys: string[] = [];
  for (let n = parts.length; n > 0; n--) keys.push(`${host}/${parts.slice(0, n).join("/")}`);
  keys.push(host);
  return keys;
}

/** The entry of `table` for the most specific key matching the registry, if any. */
function lookup<T>(table: unknown, keys: readonly string[]): T | undefined {
  if (typeof table !== "object" || table === null) return undefined;
  const normalised = new Map<string, T>();
  for (const [key, value] of Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!normalised.has(normaliseKey(key))) normalised.set(normaliseKey(key), value as T);
  }
  for (const key of keys) {
    const found = normalised.get(key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** What a credential helper is asked for: Docker Hub's historical key, else the host. */
export function helperServer(registry: string): string {
  return normaliseKey(registry) === "docker.io" ? DOCKER_HUB_KEY : registry;
}

/** Runs `docker-credential-NAME get` for `server`; undefined when it knows no credentials. */
export function runCredentialHelper(
  name: string,
  server: string,
  origin: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const source = `${program} (${origin})`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      ["get"],
      { env, timeout: HELPER_TIMEOUT_MS, maxBuffer: 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout} ${stderr}`;
          if ((error as NodeJS.ErrnoException).code === "ENOENT") {
            reject(
              new CredentialsError(
                `${program}, named by ${origin}, is not on PATH: install it or fix the file`,
              ),
            );
          } else if (/credentials not found/i.test(output)) {
            resolve(undefined);
          } else {
            const said = output.trim().startsWith("{") ? "" : `: ${oneLine(output).slice(0, 200)}`;
            reject(new CredentialsError(`${source} failed for ${server}${said}`));
          }
          return;
        }
        let answer: { Username?: unknown; Secret?: unknown };
        try {
          answer = JSON.parse(stdout);
        } catch {
          reject(new CredentialsError(`${source} answered for ${server} with something that is not JSON`));
          return;
        }
        if (typeof answer.Secret !== "string" || typeof answer.Username !== "string") {
          reject(new CredentialsError(`${source} answered for ${server} without Username and Secret`));
          return;
        }
        if (answer.Secret === "") resolve(undefined);
        else if (answer.Username === "<token>")
          resolve({ kind: "identity-token", token: answer.Secret, source });
        else resolve({ kind: "basic", username: answer.Username, password: answer.Secret, source });
      },
    );
    // a helper that exits without reading stdin is judged by its exit status, not by EPIPE
    child.stdin?.on("error", () => {});
    child.stdin?.end(server);
  });
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

function fromEntry(entry: AuthEntry, source: string): Credentials | undefined {
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
    return { kind: "identity-token", token: entry.identitytoken, source };
  }
  if (typeof entry.username === "string" && typeof entry.password === "string" && entry.username !== "") {
    return { kind: "basic", username: entry.username, password: entry.password, source };
  }
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw new CredentialsError(`${source}: the "auth" value is not base64 of user:password`);
    return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  return undefined;
}

function readConfig(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new CredentialsError(`cannot read ${file}: ${code ?? (error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch {
    throw new CredentialsError(`${file} is not valid JSON: fix it or move it away`);
  }
}

/** The credentials for `registry` in one config file, undefined when it has none. */
export async function credentialsInFile(
  file: string,
  registry: string,
  repository: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  const config = readConfig(file);
  if (!config) return undefined;
  const keys = candidateKeys(registry, repository);
  const server = helperServer(registry);
  const helper = lookup<unknown>(config.credHelpers, keys);
  if (typeof helper === "string" && helper !== "") {
    return runCredentialHelper(helper, server, `credHelpers in ${file}`, env);
  }
  if (typeof config.credsStore === "string" && config.credsStore !== "") {
    const found = await runCredentialHelper(config.credsStore, server, `credsStore in ${file}`, env);
    if (found) return found;
  }
  const entry = lookup<AuthEntry>(config.auths, keys);
  return entry ? fromEntry(entry, `auths in ${file}`) : undefined;
}

/** Looks in every credential file of `env` in turn (see credentialFiles). */
export function configCredentials(env: NodeJS.ProcessEnv = process.env, home = homedir()): CredentialSource {
  const files = credentialFiles(env, home);
  return {
    searched: files.join(", "),
    async find(registry, repository) {
      for (const file of files) {
        const found = await credentialsInFile(file, registry, repository, env);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** Credentials given on the command line (`--username`, `--password-stdin`). */
export function givenCredentials(
  username: string,
  password: string,
  source = "--username",
): CredentialSource {
  const credentials: Credentials =
    username === "<token>"
      ? { kind: "identity-token", token: password, source }
      : { kind: "basic", username, password, source };
  return { searched: source, find: async () => credentials };
}
