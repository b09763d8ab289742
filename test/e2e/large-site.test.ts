// A site too large to hold in memory: a video just over 2 GiB (a sparse file, so its zeros take no
// disk) and a 3 MiB clip. `speck pack` streams both from their files into the pack, the native
// server answers ranges past 2 GiB with the file's bytes, and `speck build` streams the same pack
// into its layer, which umoci unpacks to the bytes `speck pack` wrote. `speck serve`, which holds
// the pack in memory, refuses a site over 4 GiB with what to do instead.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  createReadStream,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const SPECK = join(import.meta.dirname, "../../bin/speck.js");
const work = mkdtempSync(join(tmpdir(), "speck-large-"));
after(() => rmSync(work, { recursive: true, force: true }));

const VIDEO_SIZE = 2 ** 31 + 2 ** 20;
/** Distinct bytes at the start, past 2 GiB and at the end of the video; zeros elsewhere. */
const MARKS = [0, 2 ** 31 + 1000, VIDEO_SIZE - 16].map((at) => ({ at, bytes: randomBytes(16) }));
const clip = randomBytes(3 << 20);

function writeSite(root: string): void {
  mkdirSync(root, { recursive: true });
  const fd = openSync(join(root, "video.mp4"), "w");
  try {
    ftruncateSync(fd, VIDEO_SIZE);
    for (const { at, bytes } of MARKS) writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(root, "clip.webm"), clip);
  writeFileSync(join(root, "index.html"), "<!doctype html><video src=/video.mp4></video>");
}

function speck(args: string[]): string {
  const r = spawnSync(process.execPath, [SPECK, ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, `speck ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return hash.digest("hex");
}

const site = join(work, "site");
writeSite(site);
const packed = join(work, "packed");

test("speck pack streams a file over 2 GiB into the pack; the native server serves ranges past 2 GiB", async (t) => {
  speck(["pack", site, "-o", packed]);
  const pack = join(packed, "site.pack");
  assert.ok(statSync(pack).size > VIDEO_SIZE + clip.length);
  const port = await freePort();
  const server = spawn(join(packed, "speck"), [pack], {
    env: { PORT: String(port), SPECK_WORKERS: "1" },
    stdio: "ignore",
  });
  t.after(() => server.kill("SIGTERM"));
  await waitForPort(port);
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  const head = await fetch(url("/video.mp4"), { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(VIDEO_SIZE));
  assert.equal(head.headers.get("content-type"), "video/mp4");
  for (const { at, bytes } of MARKS) {
    const range = await fetch(url("/video.mp4"), { headers: { Range: `bytes=${at}-${at + 15}` } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get("content-range"), `bytes ${at}-${at + 15}/${VIDEO_SIZE}`);
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), bytes, `the 16 bytes at ${at}`);
  }
  const inspect = spawnSync(process.execPath, [SPECK, "inspect", pack], { encoding: "utf8" });
  assert.equal(inspect.status, 2);
  assert.match(
    inspect.stderr,
    /^speck: .*site\.pack is over 2 GiB, more than speck inspect reads; speck build prints/,
  );
  assert.doesNotMatch(inspect.stderr, /\n\s+at /, "no stack trace");
  const whole = await fetch(url("/clip.webm"));
  assert.equal(whole.headers.get("content-type"), "video/webm");
  assert.deepEqual(Buffer.from(await whole.arrayBuffer()), clip);
});

test("speck build streams the same pack into its layer: umoci unpacks the bytes speck pack wrote", async (t) => {
  if (!requireCommands(t, ["umoci"], "apt-get install umoci")) return;
  const layout = join(work, "oci");
  const summary = JSON.parse(speck(["build", site, "-o", layout, "--platform", "linux/amd64", "--json"]));
  const pack = join(packed, "site.pack");
  assert.equal(summary.pack.bytes, statSync(pack).size);
  assert.ok(summary.pack.identity > VIDEO_SIZE + clip.length, "the bodies are counted");
  const bundle = join(work, "bundle");
  const unpacked = spawnSync("umoci", ["unpack", "--rootless", "--image", `${layout}:latest`, bundle], {
    encoding: "utf8",
  });
  assert.equal(unpacked.status, 0, unpacked.stderr);
  assert.equal(await sha256(join(bundle, "rootfs", "site.pack")), await sha256(pack));
});

test("speck serve refuses a site over 4 GiB in one line, saying what to do instead", () => {
  const root = join(work, "over-4-gib");
  mkdirSync(root);
  for (const name of ["a.mp4", "b.mp4"]) {
    const fd = openSync(join(root, name), "w");
    try {
      ftruncateSync(fd, VIDEO_SIZE);
      writeSync(fd, name); // distinct bodies, or they would be stored once
    } finally {
      closeSync(fd);
    }
  }
  const r = spawnSync(process.execPath, [SPECK, "serve", root, "--port", "0"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /^speck: the site's pack takes \d+ bytes; speck serve holds it in memory, up to 4294967295: preview a smaller part of the site \(--exclude\), or run its image \(speck build\)\n$/,
  );
});
