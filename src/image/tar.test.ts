import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { requireCommands } from "../../test/support/tools.ts";
import { collect } from "./blob.ts";
import { entryHeader, planTar, type TarEntry, tarSize, tarStream, USTAR_MAX_NUMBER } from "./tar.ts";
import { listTar } from "./tar-read.ts";

const MTIME = 1_700_000_000;
const bytes = (text: string) => new TextEncoder().encode(text);
const longName = `deep/${"a".repeat(60)}/${"b".repeat(60)}/file.txt`;
const unicodeName = "café/ünïcode-名前.html";

const entries: TarEntry[] = [
  { type: "file", path: "speck", mode: 0o555, content: bytes("#!server") },
  { type: "file", path: "b/z.txt", content: [bytes("chunk one,"), bytes(" chunk two")] },
  { type: "file", path: "b/a.txt", content: bytes("") },
  { type: "file", path: longName, content: bytes("long") },
  { type: "file", path: unicodeName, content: bytes("unicode") },
  { type: "directory", path: "empty" },
];

test("planTar() sorts bytewise and adds every parent directory once", () => {
  const names = planTar(entries).map((entry) => entry.name);
  assert.deepEqual(
    names,
    [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
  );
  for (const dir of ["b/", "café/", "deep/", `deep/${"a".repeat(60)}/`, "empty/"])
    assert.ok(names.includes(dir), dir);
  assert.equal(new Set(names).size, names.length);
});

test("planTar() rejects unsafe, duplicate and conflicting paths", () => {
  for (const path of ["", "../x", "a/../b", "a//b", "./a"]) {
    assert.throws(() => planTar([{ type: "directory", path }]), /invalid tar path/, path);
  }
  assert.throws(
    () =>
      planTar([
        { type: "file", path: "a", content: bytes("") },
        { type: "file", path: "/a", content: bytes("") },
      ]),
    /duplicate/,
  );
  assert.throws(
    () =>
      planTar([
        { type: "file", path: "a", content: bytes("") },
        { type: "file", path: "a/b", content: bytes("") },
      ]),
    /both a file and a directory/,
  );
});

test("tarStream() writes owners 0, empty names, fixed modes and the given mtime; listTar reads them back", async () => {
  const tar = await collect(tarStream(entries, MTIME));
  assert.equal(tar.byteLength, tarSize(entries));
  assert.equal(tar.byteLength % 512, 0);
  assert.ok(
    tar.subarray(-1024).every((b) => b === 0),
    "two zero blocks at the end",
  );
  const listed = listTar(tar);
  assert.deepEqual(
    listed.map((e) => e.name),
    planTar(entries).map((e) => e.name),
  );
  for (const entry of listed) {
    assert.equal(entry.uid, 0);
    assert.equal(entry.gid, 0);
    assert.equal(entry.uname, "");
    assert.equal(entry.gname, "");
    assert.equal(entry.mtime, MTIME);
    const expectedMode = entry.name === "speck" ? 0o555 : entry.type === "5" ? 0o755 : 0o644;
    assert.equal(entry.mode, expectedMode, entry.name);
  }
  const zText = listed.find((e) => e.name === "b/z.txt")!;
  assert.equal(
    Buffer.from(tar.subarray(zText.offset, zText.offset + zText.size)).toString(),
    "chunk one, chunk two",
  );
  assert.ok(listed.some((e) => e.name === longName && e.size === 4));
  assert.ok(listed.some((e) => e.name === unicodeName && e.size === 7));
});

test("tarStream() is the same for the same entries, whatever their order", async () => {
  const a = await collect(tarStream(entries, MTIME));
  const b = await collect(tarStream([...entries].reverse(), MTIME));
  assert.deepEqual(a, b);
});

test("entryHeader() moves sizes of 8 GiB and more into a PAX record", () => {
  const size = USTAR_MAX_NUMBER + 1;
  const header = entryHeader({ name: "site.pack", type: "file", mode: 0o444, size }, MTIME);
  assert.equal(header.byteLength, 3 * 512);
  // listTar needs the content to follow; give it a fake tar holding just the header and an end.
  const [entry] = listTar(Buffer.concat([header, new Uint8Array(1024)]));
  assert.equal(entry!.size, size);
  assert.equal(entry!.name, "site.pack");
});

test("tarStream() rejects an mtime that a ustar field cannot hold", async () => {
  await assert.rejects(collect(tarStream(entries, -1)), /invalid tar mtime/);
  await assert.rejects(collect(tarStream(entries, 1.5)), /invalid tar mtime/);
});

test("tarStream() streams file content and notices a file that changed size", async () => {
  const dir = mkdtempSync(join(tmpdir(), "speck-tar-"));
  try {
    const file = join(dir, "pack");
    writeFileSync(file, "x".repeat(3000));
    const tar = await collect(tarStream([{ type: "file", path: "site.pack", content: { file } }], MTIME));
    const [entry] = listTar(tar);
    assert.equal(entry!.size, 3000);
    const stream = tarStream([{ type: "file", path: "site.pack", content: { file } }], MTIME);
    await stream.next(); // the header is written from the size seen now
    writeFileSync(file, "x".repeat(10));
    await assert.rejects(collect(stream), /changed while it was being archived/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("GNU tar lists and extracts what tarStream() writes", async (t) => {
  if (!requireCommands(t, ["tar"], "apt-get install tar")) return;
  const dir = mkdtempSync(join(tmpdir(), "speck-tar-"));
  try {
    const file = join(dir, "layer.tar");
    writeFileSync(file, await collect(tarStream(entries, MTIME)));
    const listing = execFileSync("tar", ["--utc", "--numeric-owner", "-tvf", file], { encoding: "utf8" });
    const lines = listing.trim().split("\n");
    assert.equal(lines.length, planTar(entries).length);
    assert.match(listing, /^-r-xr-xr-x 0\/0\s+8 2023-11-14 22:13 speck$/m);
    assert.match(listing, /^drwxr-xr-x 0\/0\s+0 2023-11-14 22:13 b\/$/m);
    assert.match(listing, /^-rw-r--r-- 0\/0\s+20 2023-11-14 22:13 b\/z.txt$/m);
    assert.ok(
      lines.some((line) => line.endsWith(` ${longName}`)),
      "long name through PAX",
    );
    const out = join(dir, "out");
    execFileSync("mkdir", [out]);
    execFileSync("tar", ["-xf", file, "-C", out]);
    assert.equal(readFileSync(join(out, longName), "utf8"), "long");
    assert.equal(readFileSync(join(out, unicodeName), "utf8"), "unicode");
    assert.equal(readFileSync(join(out, "b/z.txt"), "utf8"), "chunk one, chunk two");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
