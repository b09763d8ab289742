// Reads a proxy rule's upstream, "http://host:port/base", into its parts, or says what is wrong.

/** The parts of an upstream URL: host (a name or an IP literal without brackets), port, base path. */
export interface Upstream {
  host: string;
  port: number;
  /** "" or "/base" without a trailing slash. */
  base: string;
}

const FORM = 'an upstream URL "http://host:port/base"';

/** Longest upstream URL: the native server builds each forwarded head in a fixed area. */
export const UPSTREAM_MAX = 2048;

/** Parses `text`; a string result says what is wrong and what is accepted. */
export function parseUpstream(text: string): Upstream | string {
  if (text.length > UPSTREAM_MAX) return `${FORM} of at most ${UPSTREAM_MAX} characters`;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (!scheme) return FORM;
  if (scheme[1]!.toLowerCase() !== "http")
    return `${FORM}; the scheme "${scheme[1]}" is not supported (only http: the upstream is on the same host or network)`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return FORM;
  }
  if (url.username || url.password)
    return `${FORM} without user:password@ (credentials would be in the image)`;
  if (url.search || url.hash || text.includes("?") || text.includes("#"))
    return `${FORM} without a query or fragment`;
  if (!url.hostname) return `${FORM} with a host`;
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port ? Number(url.port) : 80, base: url.pathname.replace(/\/+$/, "") };
}
