import assert from "node:assert/strict";
import { test } from "node:test";
import { answerError, describeAnswer, registryErrors } from "./errors.ts";

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

test("describeAnswer() names the status and the registry's own codes and messages, on one line", () => {
  const digest = body({
    errors: [
      { code: "DIGEST_INVALID", message: "provided digest did not\nmatch uploaded content", detail: {} },
    ],
  });
  assert.equal(
    describeAnswer(400, digest),
    "HTTP 400 (DIGEST_INVALID: provided digest did not match uploaded content)",
  );
  assert.equal(
    describeAnswer(
      404,
      body({
        errors: [{ code: "BLOB_UNKNOWN" }, { code: "NAME_UNKNOWN", message: "repository name not known" }],
      }),
    ),
    "HTTP 404 (BLOB_UNKNOWN; NAME_UNKNOWN: repository name not known)",
  );
  assert.equal(describeAnswer(503, Buffer.from("<html>busy</html>")), "HTTP 503");
  assert.equal(describeAnswer(500, new Uint8Array()), "HTTP 500");
  assert.deepEqual(registryErrors(body({ errors: [{ message: "no code" }, "x", { code: "DENIED" }] })), [
    { code: "DENIED" },
  ]);
});

test("answerError() keeps the status and first code, and says how many tries were made", () => {
  const error = answerError(
    "r.example/acme/site",
    "uploading blob sha256:1a2b",
    503,
    body({ errors: [{ code: "UNAVAILABLE", message: "busy" }] }),
    8,
  );
  assert.equal(
    error.message,
    "r.example/acme/site: uploading blob sha256:1a2b failed after 8 tries: HTTP 503 (UNAVAILABLE: busy)",
  );
  assert.equal(error.status, 503);
  assert.equal(error.code, "UNAVAILABLE");
  assert.equal(answerError("r/a", "x", 400, new Uint8Array()).message, "r/a: x failed: HTTP 400");
});
