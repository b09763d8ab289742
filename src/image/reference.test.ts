import assert from "node:assert/strict";
import { test } from "node:test";
import { familiarName, fullName, parseReference, parseTag } from "./reference.ts";

const valid: [string, string, string][] = [
  ["site", "docker.io/library/site", "site"],
  ["site:1.4", "docker.io/library/site:1.4", "site:1.4"],
  ["acme/site", "docker.io/acme/site", "acme/site"],
  ["ghcr.io/acme/site:1.4", "ghcr.io/acme/site:1.4", "ghcr.io/acme/site:1.4"],
  ["localhost:5000/site:v1_2-rc.3", "localhost:5000/site:v1_2-rc.3", "localhost:5000/site:v1_2-rc.3"],
  ["localhost/site", "localhost/site", "localhost/site"],
  ["127.0.0.1:5000/a/b/c:latest", "127.0.0.1:5000/a/b/c:latest", "127.0.0.1:5000/a/b/c:latest"],
  ["[::1]:5000/site", "[::1]:5000/site", "[::1]:5000/site"],
  [
    "my-registry.example.com/a__b/c--d.e",
    "my-registry.example.com/a__b/c--d.e",
    "my-registry.example.com/a__b/c--d.e",
  ],
  [
    `site@sha256:${"a".repeat(64)}`,
    `docker.io/library/site@sha256:${"a".repeat(64)}`,
    `site@sha256:${"a".repeat(64)}`,
  ],
];

test("parseReference() accepts the reference grammar and normalises like docker", () => {
  for (const [text, full, familiar] of valid) {
    const reference = parseReference(text);
    assert.equal(fullName(reference), full, text);
    assert.equal(familiarName(reference), familiar, text);
  }
});

test("parseReference() rejects what registries reject, naming the faulty part", () => {
  const invalid: [string, RegExp][] = [
    ["", /empty/],
    ["Site", /lowercase/],
    ["acme/Site:1", /lowercase/],
    ["Acme/site", /repository name must be lowercase/],
    ["site:", /tag ""/],
    ["site:-x", /tag "-x"/],
    [`site:${"x".repeat(129)}`, /tag/],
    ["site:a/b", /"site:a" is not a registry host/],
    ["a..b/site", /not a registry/],
    ["ghcr.io/", /missing/],
    ["-site", /must be lowercase letters/],
    ["si_-te", /must be lowercase letters/],
    ["site@sha256:abc", /not a digest/],
    [`${"a".repeat(256)}`, /longer than 255/],
    ["ghcr.io/acme site", /must be lowercase letters/],
  ];
  for (const [text, pattern] of invalid) {
    assert.throws(() => parseReference(text), pattern, text);
    assert.throws(() => parseReference(text), /^ImageError: invalid image reference .*expected e\.g\./, text);
  }
});

test("parseTag() defaults the tag to latest and refuses digests", () => {
  assert.equal(parseTag("ghcr.io/acme/site").tag, "latest");
  assert.throws(() => parseTag(`site@sha256:${"a".repeat(64)}`), /not a digest; drop/);
});
