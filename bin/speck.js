#!/usr/bin/env node
// Runs the compiled CLI; in a source checkout without dist/, runs the TypeScript through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
let entry = compiled;
if (!existsSync(fileURLToPath(compiled))) {
  const { register } = await import("tsx/esm/api");
  register();
  entry = new URL("../src/cli/main.ts", import.meta.url);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
