// A docker credential helper for tests, speaking the real protocol
// (https://github.com/docker/docker-credential-helpers): `store` reads {"ServerURL","Username",
// "Secret"} on stdin, `get` reads a server URL and answers that JSON (or "credentials not found in
// native keychain" and exit 1), `erase` forgets, `list` maps servers to users. It keeps its store
// in a JSON file and logs each call's action and server, never the secret.

import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Writes `docker-credential-NAME` into `binDir`; returns the path of its log. */
export function writeCredentialHelper(binDir: string, name: string, storeFile: string): string {
  const log = join(binDir, `${name}.log`);
  const script = `#!${process.execPath}
const fs = require("node:fs");
const store = ${JSON.stringify(storeFile)};
const read = () => { try { return JSON.parse(fs.readFileSync(store, "utf8")); } catch { return {}; } };
const input = fs.readFileSync(0, "utf8").trim();
const action = process.argv[2];
const entries = read();
if (action === "store") {
  const entry = JSON.parse(input);
  entries[entry.ServerURL] = entry;
  fs.writeFileSync(store, JSON.stringify(entries));
  fs.appendFileSync(${JSON.stringify(log)}, "store " + entry.ServerURL + "\\n");
} else if (action === "get") {
  fs.appendFileSync(${JSON.stringify(log)}, "get " + input + "\\n");
  if (!entries[input]) { process.stdout.write("credentials not found in native keychain\\n"); process.exit(1); }
  process.stdout.write(JSON.stringify(entries[input]));
} else if (action === "erase") {
  delete entries[input];
  fs.writeFileSync(store, JSON.stringify(entries));
} else if (action === "list") {
  process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.Username]))));
} else {
  process.stderr.write("unknown action " + action + "\\n");
  process.exit(1);
}
`;
  const file = join(binDir, `docker-credential-${name}`);
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  return log;
}
