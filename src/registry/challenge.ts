// Parses `WWW-Authenticate` (RFC 9110 §11.6.1): one or more challenges, each a scheme and
// parameters, e.g. `Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull,push"`.
// Values may be quoted (with backslash escapes and commas inside) or bare; several
// headers arrive joined with ", ", so a bare token not followed by "=" starts a new challenge.

/** One challenge: the scheme in lower case and its parameters (names in lower case). */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
/** A bare value, read leniently up to the next comma or space (some servers send unquoted URLs). */
const BARE = /[^\s,]+/y;

/** The challenges of a `WWW-Authenticate` value, in order; unparsable tails are ignored. */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let at = 0;
  const skip = (chars: RegExp) => {
    while (at < header.length && chars.test(header[at]!)) at++;
  };
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at;
    const found = pattern.exec(header);
    if (!found) return undefined;
    at = pattern.lastIndex;
    return found[0];
  };
  const quoted = (): string => {
    let value = "";
    at++; // the opening quote
    while (at < header.length && header[at] !== '"') {
      if (header[at] === "\\" && at + 1 < header.length) at++;
      value += header[at];
      at++;
    }
    at++; // the closing quote
    return value;
  };
  while (at < header.length) {
    skip(/[\s,]/);
    const name = match(TOKEN);
    if (name === undefined) break;
    skip(/\s/);
    const current = challenges.at(-1);
    if (header[at] === "=" && current) {
      at++;
      skip(/\s/);
      const value = header[at] === '"' ? quoted() : (match(BARE) ?? "");
      current.params[name.toLowerCase()] = value;
      continue;
    }
    challenges.push({ scheme: name.toLowerCase(), params: {} });
  }
  return challenges;
}

/** The challenge speck answers: Bearer when offered, else Basic, else none. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return (
    challenges.find((challenge) => challenge.scheme === "bearer") ??
    challenges.find((challenge) => challenge.scheme === "basic")
  );
}
