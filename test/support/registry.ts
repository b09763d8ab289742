// A real registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1 (or another
// address of this machine) and a free port, its storage and config in a temporary folder, with no
// auth, htpasswd Basic auth, or token auth against a token server the test runs, and optionally
// TLS. stop() ends it and removes the folder.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
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

/** Where and how it listens. */
export interface ListenOptions {
  /** An address of this machine (default 127.0.0.1). */
  readonly address?: string;
  /** Serve HTTPS with this certificate and key (PEM files). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export interface TestRegistry {
  /** `ADDRESS:PORT`, the registry part of image references. */
  readonly host: string;
  readonly port: number;
  /** The folder of its config and storage (`data/`). */
  readonly root: string;
  stop(): Promise<void>;
}

function config(dir: string, port: number, auth: RegistryAuth | undefined, listen: ListenOptions): string {
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
    `  addr: ${listen.address ?? "127.0.0.1"}:${port}`,
    "  secret: speck-test-secret",
  ];
  if (listen.tls)
    lines.push("  tls:", `    certificate: ${listen.tls.certFile}`, `    key: ${listen.tls.keyFile}`);
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

/** True once something accepts connections on `address:port`. */
function listening(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** Starts a registry and waits until it accepts connections. */
export async function startRegistry(auth?: RegistryAuth, listen: ListenOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "speck-registry-"));
  const port = await freePort();
  const address = listen.address ?? "127.0.0.1";
  writeFileSync(join(dir, "config.yml"), config(dir, port, auth, listen));
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
    if (await listening(address, port)) return { host: `${address}:${port}`, port, root: dir, stop };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`docker-registry did not start on port ${port}: ${stderr}`);
}
