// A real registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1 and a free
// port, its storage and config in a temporary folder, with no auth, htpasswd Basic auth, or token
// auth against a token server the test runs. stop() ends it and removes the folder.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./net.ts";

/** How the registry authenticates. */
export type RegistryAuth =
  | { readonly htpasswd: string }
  | {
      readonly token: {
        readonly realm: string;
        readonly service: string;
        readonly issuer: string;
        readonly certFile: string;
      };
    };

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry part of image references. */
  readonly host: string;
  readonly port: number;
  /** The folder of its config and storage (`data/`). */
  readonly root: string;
  stop(): Promise<void>;
}

function config(dir: string, port: number, auth: RegistryAuth | undefined): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "  secret: speck-test-secret",
  ];
  if (auth && "htpasswd" in auth) {
    writeFileSync(join(dir, "htpasswd"), auth.htpasswd);
    lines.push("auth:", "  htpasswd:", "    realm: speck-test", `    path: ${join(dir, "htpasswd")}`);
  } else if (auth) {
    const { realm, service, issuer, certFile } = auth.token;
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${realm}`,
      `    service: ${service}`,
      `    issuer: ${issuer}`,
      `    rootcertbundle: ${certFile}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

async function answers(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v2/`);
    await response.arrayBuffer();
    return response.status === 200 || response.status === 401;
  } catch {
    return false;
  }
}

/** Starts a registry and waits until it answers `GET /v2/`. */
export async function startRegistry(auth?: RegistryAuth): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "speck-registry-"));
  const port = await freePort();
  writeFileSync(join(dir, "config.yml"), config(dir, port, auth));
  const child: ChildProcess = spawn("docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (await answers(port)) return { host: `127.0.0.1:${port}`, port, root: dir, stop };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`docker-registry did not start on port ${port}: ${stderr}`);
}
