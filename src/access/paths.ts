// Checks a rule's path prefix: rules are matched against normalised request paths, so a prefix
// with dot segments, empty segments, a query or a fragment could never match.

/** Undefined when `path` is a usable rule prefix, otherwise what is accepted. */
export function prefixProblem(path: string): string | undefined {
  const accepted = 'a path prefix starting with "/", e.g. "/admin/"';
  if (!path.startsWith("/")) return accepted;
  if (/[?#]/.test(path)) return `${accepted}, without "?" or "#" (rules match paths only)`;
  const segments = path.slice(1).replace(/\/$/, "").split("/");
  if (path !== "/" && segments.some((s) => s === "" || s === "." || s === ".."))
    return `${accepted}, without "//", "." or ".." segments (request paths are normalised before rules apply)`;
  return undefined;
}
