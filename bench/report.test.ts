import assert from "node:assert/strict";
import { test } from "node:test";
import { replaceSection } from "./report.ts";

test("replaceSection() appends a new section and replaces an existing one in place", () => {
  const one = replaceSection("", "Build time", "first");
  assert.match(one, /^# Benchmarks\n[\s\S]*\n## Build time\n\nfirst\n$/);
  const two = replaceSection(one, "Push", "push numbers");
  const three = replaceSection(two, "Build time", "second");
  assert.ok(three.indexOf("second") < three.indexOf("## Push"));
  assert.doesNotMatch(three, /first/);
  assert.match(three, /## Push\n\npush numbers\n$/);
});
