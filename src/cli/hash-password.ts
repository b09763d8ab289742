// `speck hash-password`: reads a password (from stdin, or typed at a terminal without echo) and
// prints its salted PBKDF2-SHA256 hash for the `auth` rules of speck.config (docs/access.md).

import type { Command } from "commander";
import { DEFAULT_ITERATIONS, hashPassword, MAX_ITERATIONS, MIN_ITERATIONS } from "../access/password.ts";
import { UsageError } from "./errors.ts";

interface HashFlags {
  iterations: string;
  user?: string;
}

/**
 * Reads the lines typed at the terminal without echoing them, one per prompt; Ctrl-C or Ctrl-D
 * gives up. Keystrokes typed ahead of a prompt are kept for it.
 */
function hiddenPrompts(): { ask: (prompt: string) => Promise<string>; close: () => void } {
  const input = process.stdin;
  let pending = "";
  let waiting: (() => void) | undefined;
  const onData = (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    waiting?.();
  };
  input.setRawMode(true);
  input.on("data", onData);
  const close = () => {
    input.off("data", onData);
    input.setRawMode(false);
    input.pause();
  };
  const ask = async (prompt: string): Promise<string> => {
    process.stderr.write(prompt);
    let typed = "";
    for (;;) {
      while (pending === "") await new Promise<void>((resolve) => (waiting = resolve));
      const char = String.fromCodePoint(pending.codePointAt(0)!);
      pending = pending.slice(char.length);
      if (char === "\r" || char === "\n") break;
      if (char === "\u0003" || char === "\u0004") {
        process.stderr.write("\n");
        throw new UsageError("no password given");
      }
      typed = char === "\u007f" || char === "\b" ? [...typed].slice(0, -1).join("") : typed + char;
    }
    process.stderr.write("\n");
    return typed;
  };
  return { ask, close };
}

/** The first line of stdin (without its line ending). */
async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0]!;
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readFirstLine();
  const terminal = hiddenPrompts();
  try {
    const first = await terminal.ask("Password: ");
    const again = await terminal.ask("Again: ");
    if (first !== again) throw new UsageError("the two passwords differ; nothing printed");
    return first;
  } finally {
    terminal.close();
  }
}

export function hashPasswordCommand(cli: Command): void {
  cli
    .command("hash-password")
    .description("print the salted hash of a password, for the auth rules of speck.config")
    .option(
      "-i, --iterations <count>",
      `PBKDF2 iterations, ${MIN_ITERATIONS} to ${MAX_ITERATIONS}`,
      String(DEFAULT_ITERATIONS),
    )
    .option("-u, --user <name>", 'print "name:hash", a line for a usersFrom file or variable')
    .addHelpText(
      "after",
      "\nThe password is read from stdin, or asked for twice without echo at a terminal:\n  printf '%s\\n' \"$PASSWORD\" | speck hash-password --user alice >> users",
    )
    .action(async (flags: HashFlags) => {
      const iterations = Number(flags.iterations);
      if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS)
        throw new UsageError(
          `--iterations ${flags.iterations} is not accepted; use a whole number from ${MIN_ITERATIONS} to ${MAX_ITERATIONS}`,
        );
      if (flags.user !== undefined && !/^[\x21-\x39\x3b-\x7e]{1,64}$/.test(flags.user))
        throw new UsageError(
          `--user ${JSON.stringify(flags.user)} is not accepted; use 1 to 64 printable characters without ":" or spaces`,
        );
      const password = await readPassword();
      if (password === "") throw new UsageError("the password is empty; nothing printed");
      const hash = hashPassword(password, iterations);
      process.stdout.write(flags.user === undefined ? `${hash}\n` : `${flags.user}:${hash}\n`);
    });
}
