// Turns errors into what a person should see: one line for their mistakes (exit 2), a short line
// for failures (exit 1), a stack trace only with SPECK_DEBUG=1.

import { styleText } from "node:util";
import { ConfigError } from "../config/errors.ts";
import { ImageError } from "../image/errors.ts";
import { PackError } from "../pack/read.ts";
import { CredentialsError } from "../registry/errors.ts";
import { SiteError } from "../site/errors.ts";

/** A mistake on the command line. */
export class UsageError extends Error {}

const USER_ERRORS = [UsageError, ConfigError, SiteError, PackError, ImageError, CredentialsError];

function paint(text: string): string {
  return process.stderr.isTTY ? styleText("red", text) : text;
}

/** Prints `error` for a person and returns the exit code. */
export function reportError(error: unknown): number {
  if (process.env.SPECK_DEBUG === "1") console.error(error);
  const message = error instanceof Error ? error.message : String(error);
  if (USER_ERRORS.some((kind) => error instanceof kind)) {
    process.stderr.write(`${paint("speck:")} ${message}\n`);
    return 2;
  }
  process.stderr.write(`${paint("speck: failed:")} ${message}\n`);
  return 1;
}
