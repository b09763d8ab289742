import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePlatform, parsePlatforms, platformName } from "./platform.ts";

test("parsePlatform() accepts linux/amd64, linux/arm64 and linux/arm64/v8", () => {
  assert.deepEqual(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" });
  assert.equal(platformName(parsePlatform("linux/arm64/v8")), "linux/arm64/v8");
});

test("parsePlatform() rejects anything else with the list of what works", () => {
  for (const text of [
    "",
    "linux",
    "linux/arm",
    "linux/arm64/v7",
    "windows/amd64",
    "linux/amd64/v3",
    "amd64",
  ]) {
    assert.throws(
      () => parsePlatform(text),
      /unsupported platform .*use linux\/amd64, linux\/arm64 or linux\/arm64\/v8/,
      text,
    );
  }
});

test("parsePlatforms() drops repeats and sorts", () => {
  assert.deepEqual(parsePlatforms("linux/arm64/v8,linux/amd64,linux/arm64").map(platformName), [
    "linux/amd64",
    "linux/arm64/v8",
  ]);
  assert.throws(() => parsePlatforms(","), /no platform given/);
  assert.throws(() => parsePlatforms("linux/amd64,linux/s390x"), /linux\/s390x/);
});
