// The errors of the registry part, each with a one-line message ready to print: a RegistryError
// is a failure of the registry or the network that remained after the retries (exit 1); a
// CredentialsError is the user's to fix: missing or rejected credentials, a broken credential
// helper or config file (exit 2). Neither message ever holds a secret: messages are made of the
// registry's name, the operation, the HTTP status and the registry's own error code and message.

/** A failure of the registry or the network, after retries; names the registry's own error code. */
export class RegistryError extends Error {
  override name = "RegistryError";
  /** The HTTP status of the last answer, when there was one. */
  readonly status: number | undefined;
  /** The registry's first error code (`BLOB_UNKNOWN`, `DENIED`, ...), when it sent one. */
  readonly code: string | undefined;

  constructor(message: string, status?: number, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Missing, rejected or unreadable credentials: something the user fixes (log in, fix a file). */
export class CredentialsError extends Error {
  override name = "CredentialsError";
}

/** One entry of the distribution API's error body: `{"errors":[{"code","message","detail"}]}`. */
export interface RegistryErrorEntry {
  readonly code: string;
  readonly message?: string;
}

/** The error entries of a registry's answer body, or none when it is not the distribution form. */
export function registryErrors(body: Uint8Array): RegistryErrorEntry[] {
  if (body.byteLength === 0 || body.byteLength > 65536) return [];
  try {
    const parsed = JSON.parse(Buffer.from(body).toString("utf8")) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors
      .filter((entry): entry is { code: string; message?: unknown } => typeof entry?.code === "string")
      .map((entry) => ({
        code: entry.code,
        ...(typeof entry.message === "string" ? { message: entry.message } : {}),
      }));
  } catch {
    return [];
  }
}

/** `HTTP 400 (DIGEST_INVALID: provided digest did not match uploaded content)`, or `HTTP 503`. */
export function describeAnswer(status: number, body: Uint8Array): string {
  const entries = registryErrors(body);
  if (entries.length === 0) return `HTTP ${status}`;
  const codes = entries
    .map((entry) => (entry.message ? `${entry.code}: ${oneLine(entry.message)}` : entry.code))
    .join("; ");
  return `HTTP ${status} (${codes})`;
}

/** Collapses whitespace so a message stays on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 300);
}

/** A RegistryError for an unexpected answer: `what` failed (after `tries`) with the status and codes. */
export function answerError(
  where: string,
  what: string,
  status: number,
  body: Uint8Array,
  tries?: number,
): RegistryError {
  return new RegistryError(
    `${where}: ${what} failed${tries ? ` after ${tries} tries` : ""}: ${describeAnswer(status, body)}`,
    status,
    registryErrors(body)[0]?.code,
  );
}
