// Keeps docs/benchmarks.md as sections that each benchmark replaces on its own, so several
// benchmarks can publish into one document without clobbering each other.

const HEADER = `# Benchmarks

Every figure here comes from a script in \`bench/\`, run on the machine described in its section,
comparing speck with real peers in the same run. Re-run a section's command to reproduce it.
`;

/** Returns \`document\` with the \`## title\` section replaced (or appended) by \`body\`. */
export function replaceSection(document: string, title: string, body: string): string {
  const text = document.trim() ? document : HEADER;
  const heading = `## ${title}`;
  const start = text.indexOf(`\n${heading}\n`);
  const section = `\n${heading}\n\n${body.trim()}\n`;
  if (start < 0) return `${text.trimEnd()}\n${section}`;
  const next = text.indexOf("\n## ", start + heading.length + 1);
  return `${text.slice(0, start)}${section}${next < 0 ? "" : text.slice(next)}`;
}
