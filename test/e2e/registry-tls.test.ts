// HTTPS, plain HTTP and --insecure against real registries (Debian's docker-registry) on an
// address of this machine that is not loopback, where speck speaks HTTPS by default: a registry
// with a self-signed certificate is refused with one line that suggests --insecure, and accepted
// with it; a plain-HTTP registry is reached with --insecure only, after HTTPS fails.

import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readLayout } from "../../src/image/index.ts";
import { startRegistry } from "../support/registry.ts";
import { requireCommands } from "../support/tools.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const HELLO = join(import.meta.dirname, "../../examples/hello");
const work = mkdtempSync(join(tmpdir(), "speck-registry-tls-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** This machine's first IPv4 address that is not loopback. */
const address = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry && entry.family === "IPv4" && !entry.internal)?.address;

function speck(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SPECK, ...args], { encoding: "utf8" }, (error, stdout, stderr) =>
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test("HTTPS with a self-signed certificate needs --insecure, and plain HTTP off loopback needs it too", async (t) => {
  if (!requireCommands(t, ["docker-registry", "openssl"], "apt-get install docker-registry openssl")) return;
  if (!address) {
    t.skip("this machine has no IPv4 address besides loopback");
    return;
  }
  const layout = join(work, "hello-oci");
  execFileSync(process.execPath, [SPECK, "build", HELLO, "-o", layout, "-t", "acme/hello:1"], {
    stdio: "ignore",
  });
  const digest = readLayout(layout).root.digest;
  const certFile = join(work, "cert.pem");
  const keyFile = join(work, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      `/CN=${address}`,
    ],
    {
      stdio: "ignore",
    },
  );
  const tls = await startRegistry(undefined, { address, tls: { certFile, keyFile } });
  const plain = await startRegistry(undefined, { address });
  try {
    const refused = await speck(["push", layout, `${tls.host}/acme/tls:1`]);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `^speck: failed: ${tls.host}/acme/tls: GET https://${tls.host}/v2/ failed: [A-Z_]*(CERT|SIGNED)[A-Z_]*: pass --insecure to accept its certificate, or trust its CA with NODE_EXTRA_CA_CERTS\\n$`,
      ),
    );
    const insecure = await speck(["push", layout, `${tls.host}/acme/tls:1`, "--insecure"]);
    assert.equal(insecure.status, 0, insecure.stderr);
    assert.match(insecure.stdout, new RegExp(`digest +${digest}`));

    const noTls = await speck(["push", layout, `${plain.host}/acme/plain:1`]);
    assert.equal(noTls.status, 1);
    assert.match(
      noTls.stderr,
      new RegExp(
        `^speck: failed: ${plain.host}/acme/plain: GET https://${plain.host}/v2/ failed: .*pass --insecure`,
      ),
    );
    const fallback = await speck(["push", layout, `${plain.host}/acme/plain:1`, "--insecure"]);
    assert.equal(fallback.status, 0, fallback.stderr);
    assert.match(fallback.stdout, new RegExp(`digest +${digest}`));
  } finally {
    await tls.stop();
    await plain.stop();
  }
});
