// The reverse proxy across containers: a user-defined Docker network holds an upstream (BusyBox
// httpd from Debian's busybox-static in a FROM scratch image, built here without a registry) and a
// `speck build` image that proxies /api to it by its service name, resolved by Docker's embedded
// DNS (127.0.0.11) from the front's /etc/resolv.conf. Requests come from the host through the
// published port: files, a CGI script that shows what the upstream received (X-Forwarded-*, the
// body's length), a body rechunked from BusyBox's close-delimited CGI output, and a 502 once the
// upstream is gone. Networks, containers and images are removed afterwards.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { waitForPort } from "../support/native.ts";
import { requireCommands } from "../support/tools.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** What `sh` says `command -v` is, or undefined. */
function which(command: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

// BusyBox passes a CGI script's header lines through as written: they must end in CRLF
/** POSTs `body` with a Host of our own (fetch cannot set one): status, Transfer-Encoding, text. */
function post(
  port: number,
  path: string,
  host: string,
  body: string,
): Promise<{ status: number; te?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "POST", headers: { host, "content-length": body.length } },
      (res) => {
        let text = "";
        res.setEncoding("latin1");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, te: res.headers["transfer-encoding"], text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const CGI = `#!/bin/busybox sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "uri=$REQUEST_URI"
echo "host=$HTTP_HOST"
echo "xff=$HTTP_X_FORWARDED_FOR"
echo "xfh=$HTTP_X_FORWARDED_HOST"
echo "method=$REQUEST_METHOD"
echo "length=$CONTENT_LENGTH"
/bin/busybox wc -c
`;

test("a speck image proxies /api to another container by its service name on a user-defined network", async (t) => {
  if (
    !requireCommands(t, ["docker", "busybox"], "apt-get install docker.io busybox-static (and start dockerd)")
  )
    return;
  const id = `${process.pid}-${Date.now()}`;
  const work = mkdtempSync(join(tmpdir(), "speck-proxy-docker-"));
  const network = `speck-e2e-proxy-${id}`;
  const upstreamImage = `speck-e2e/proxy-upstream:${id}`;
  const frontImage = `speck-e2e/proxy-front:${id}`;
  const upstream = `speck-e2e-api-${id}`;
  const front = `speck-e2e-front-${id}`;
  try {
    // the upstream: BusyBox httpd serving files and a CGI script, in an image of its own
    const context = join(work, "upstream");
    mkdirSync(join(context, "www", "v1"), { recursive: true });
    mkdirSync(join(context, "www", "cgi-bin"), { recursive: true });
    copyFileSync(which("busybox")!, join(context, "busybox"));
    writeFileSync(join(context, "www", "v1", "hello.txt"), "hello from busybox\n");
    writeFileSync(join(context, "www", "cgi-bin", "env"), CGI, { mode: 0o755 });
    writeFileSync(
      join(context, "Dockerfile"),
      'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nENTRYPOINT ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n',
    );
    run("docker", ["build", "-q", "-t", upstreamImage, context]);
    run("docker", ["network", "create", network]);
    run("docker", [
      "run",
      "-d",
      "--name",
      upstream,
      "--network",
      network,
      "--network-alias",
      "api",
      upstreamImage,
    ]);

    // the front: a speck site whose /api goes to http://api:8080
    const site = join(work, "site");
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, "index.html"), "<h1>front</h1>\n");
    writeFileSync(
      join(work, "speck.config.json"),
      JSON.stringify({
        root: "site",
        proxy: [{ path: "/api", upstream: "http://api:8080", connectTimeout: 2000 }],
      }),
    );
    const tarball = join(work, "front.tar");
    run(process.execPath, [
      SPECK,
      "build",
      "--config",
      join(work, "speck.config.json"),
      "-o",
      tarball,
      "-t",
      frontImage,
      "--platform",
      "linux/amd64",
    ]);
    run("docker", ["load", "-i", tarball]);
    const hardened = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"];
    // one worker: one resolver cache, so what follows the upstream's removal is deterministic
    const env = ["-e", "SPECK_WORKERS=1"];
    run("docker", [
      "run",
      "-d",
      "--name",
      front,
      "--network",
      network,
      "-p",
      "127.0.0.1::8080",
      ...env,
      ...hardened,
      frontImage,
    ]);
    const port = Number(/:(\d+)$/.exec(run("docker", ["port", front, "8080/tcp"]).split("\n")[0]!)![1]);
    await waitForPort(port);
    const url = `http://127.0.0.1:${port}`;

    assert.equal(await (await fetch(`${url}/`)).text(), "<h1>front</h1>\n", "the site answers the rest");
    const hello = await fetch(`${url}/api/v1/hello.txt`);
    assert.equal(hello.status, 200);
    assert.equal(await hello.text(), "hello from busybox\n");

    const body = "x".repeat(100_000);
    const cgi = await post(port, "/api/cgi-bin/env?q=1", "front.example", body);
    assert.equal(cgi.status, 200, cgi.text);
    assert.equal(cgi.te, "chunked", "BusyBox's close-delimited output, rechunked");
    const seen = Object.fromEntries(
      cgi.text
        .trim()
        .split("\n")
        .map((line) =>
          line.includes("=")
            ? [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]
            : ["wc", line.trim()],
        ),
    );
    assert.equal(seen.uri, "/cgi-bin/env?q=1");
    assert.equal(seen.host, "front.example");
    assert.equal(seen.xfh, "front.example");
    assert.match(seen.xff, /^\d+\.\d+\.\d+\.\d+$/, "the front's peer, as a dotted quad");
    assert.equal(seen.method, "POST");
    assert.equal(seen.length, "100000");
    assert.equal(seen.wc, "100000", "the whole body reached the script");

    // gone: the cached address does not connect (within 1 s the name is resolved again, and Docker's
    // DNS no longer knows it), then the name alone answers: 502 without a wait
    run("docker", ["rm", "-f", upstream]);
    const gone = await fetch(`${url}/api/v1/hello.txt`);
    assert.equal(gone.status, 502, "the upstream is gone: its name no longer resolves");
    assert.match(await gone.text(), /502/);
    assert.equal((await fetch(`${url}/api/v1/hello.txt`)).status, 502);
    assert.equal((await fetch(`${url}/`)).status, 200, "the site still answers");
  } finally {
    for (const container of [front, upstream])
      spawnSync("docker", ["rm", "-f", container], { stdio: "ignore" });
    spawnSync("docker", ["network", "rm", network], { stdio: "ignore" });
    spawnSync("docker", ["rmi", "-f", frontImage, upstreamImage], { stdio: "ignore" });
    rmSync(work, { recursive: true, force: true });
  }
});
