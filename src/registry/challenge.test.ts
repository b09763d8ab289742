import assert from "node:assert/strict";
import { test } from "node:test";
import { parseChallenges, pickChallenge } from "./challenge.ts";

test("parseChallenges() reads the challenges registries send", () => {
  const cases: [string, ReturnType<typeof parseChallenges>][] = [
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:samalba/my-app:pull,push",
          },
        },
      ],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: "basic", params: { realm: "Registry Realm" } }]],
    [
      'Bearer realm="https://r/token",error="insufficient_scope",scope="repository:a:pull repository:b:push"',
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://r/token",
            error: "insufficient_scope",
            scope: "repository:a:pull repository:b:push",
          },
        },
      ],
    ],
    // two headers joined by Node with ", ", bare tokens, escapes and odd spacing
    [
      'Basic realm="a \\"quoted\\" realm" , BEARER Realm=https://t/token, service = reg',
      [
        { scheme: "basic", params: { realm: 'a "quoted" realm' } },
        { scheme: "bearer", params: { realm: "https://t/token", service: "reg" } },
      ],
    ],
    ["", []],
    ["Negotiate", [{ scheme: "negotiate", params: {} }]],
  ];
  for (const [header, expected] of cases) assert.deepEqual(parseChallenges(header), expected, header);
});

test("pickChallenge() prefers Bearer, then Basic, and ignores schemes speck does not speak", () => {
  const both = parseChallenges('Basic realm="b", Bearer realm="t"');
  assert.equal(pickChallenge(both)?.scheme, "bearer");
  assert.equal(pickChallenge(parseChallenges('Negotiate, Basic realm="b"'))?.scheme, "basic");
  assert.equal(pickChallenge(parseChallenges("Negotiate")), undefined);
});
