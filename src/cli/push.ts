// `speck push <layout-or-tarball> REF`: pushes an OCI layout folder or a tarball written by
// `speck build` (or skopeo, buildx, docker save) to a registry, with no Docker daemon. The
// registry options here are shared with `speck build --push`.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { type ImageSource, parseTag, readLayout } from "../image/index.ts";
import { givenCredentials, type PushSummary, pushImage } from "../registry/index.ts";
import { UsageError } from "./errors.ts";
import { formatBytes, PushProgress } from "./push-progress.ts";
import { writeFileAtomic } from "./write-file.ts";

/** The flags of a push. */
export interface PushFlags {
  username?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  digestFile?: string;
  mountFrom?: string[];
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds the registry options to `command`. */
export function addPushOptions(command: Command): Command {
  return command
    .option("-u, --username <name>", "log in as this user (the password comes from --password-stdin)")
    .option("--password-stdin", "read the password (or token) from standard input")
    .option("--insecure", "accept any TLS certificate, and plain HTTP, from the registry")
    .option("--digest-file <file>", "write the pushed digest to this file")
    .option(
      "--mount-from <repo>",
      "mount blobs from this repository of the same registry (repeatable)",
      collect,
    );
}

function readPassword(): string {
  if (process.stdin.isTTY) {
    throw new UsageError('--password-stdin reads the password from a pipe: printf %s "$TOKEN" | speck ...');
  }
  let text: string;
  try {
    text = readFileSync(0, "utf8");
  } catch {
    throw new UsageError("--password-stdin could not read standard input");
  }
  const password = text.replace(/\r?\n$/, "");
  if (password === "") throw new UsageError("--password-stdin read an empty password");
  return password;
}

/** Pushes `source` to `ref` with the options of `flags`, showing progress unless `quiet`. */
export async function pushFromFlags(
  source: ImageSource,
  ref: string,
  flags: PushFlags,
  quiet: boolean,
): Promise<PushSummary> {
  if (flags.passwordStdin && !flags.username) throw new UsageError("--password-stdin needs --username");
  if (flags.username && !flags.passwordStdin) {
    throw new UsageError(
      "--username needs --password-stdin (a password on the command line would show in ps)",
    );
  }
  const credentials = flags.username ? givenCredentials(flags.username, readPassword()) : undefined;
  const progress = quiet ? undefined : new PushProgress();
  try {
    const summary = await pushImage(source, ref, {
      ...(credentials ? { credentials } : {}),
      ...(flags.insecure ? { insecure: true } : {}),
      ...(flags.mountFrom ? { mountFrom: flags.mountFrom } : {}),
      ...(progress ? { onEvent: progress.handle } : {}),
    });
    if (flags.digestFile) writeFileAtomic(resolve(flags.digestFile), Buffer.from(summary.digest));
    return summary;
  } finally {
    progress?.stop();
  }
}

/** The summary lines of a push: what was uploaded, mounted or skipped, and the digest. */
export function pushLines(summary: PushSummary): string[] {
  const count = (outcome: string) => summary.blobs.filter((blob) => blob.outcome === outcome);
  const uploaded = count("uploaded");
  const mounted = count("mounted");
  const bytes = uploaded.reduce((sum, blob) => sum + blob.size, 0);
  const froms = [...new Set(mounted.map((blob) => blob.from))].sort().join(", ");
  const name = summary.reference.slice(0, summary.reference.lastIndexOf(":"));
  return [
    `speck: pushed ${summary.reference} in ${summary.milliseconds} ms`,
    `  digest   ${summary.digest}`,
    `  blobs    ${uploaded.length} uploaded (${formatBytes(bytes)}), ${mounted.length} mounted${froms ? ` from ${froms}` : ""}, ${count("skipped").length} skipped (already there)`,
    `  pull     ${name}@${summary.digest}`,
  ];
}

export function pushCommand(cli: Command): void {
  addPushOptions(
    cli
      .command("push")
      .argument("<image>", "an OCI layout folder or a tarball (speck build -o)")
      .argument("<ref>", "where to push, e.g. ghcr.io/acme/site:1.4 (the tag defaults to latest)")
      .description("push an image to a registry, without Docker")
      .option("--image <name>", "which image of a layout that holds several (its tag or full name)")
      .option("--json", "print the summary as JSON"),
  ).action(async (path: string, ref: string, flags: PushFlags & { image?: string; json?: boolean }) => {
    parseTag(ref); // a wrong reference is reported before the image is read
    const source = readLayout(path, flags.image);
    const summary = await pushFromFlags(source, ref, flags, Boolean(flags.json));
    const text = flags.json ? JSON.stringify(summary, null, 2) : pushLines(summary).join("\n");
    process.stdout.write(`${text}\n`);
  });
}
