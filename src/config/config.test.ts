import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { closestKey, keyPath } from "./errors.ts";
import { ConfigError, findConfigFile, loadConfig, validateConfig } from "./load.ts";
import { configSchema } from "./schema.ts";
import { SCHEMA_PATH, schemaText } from "./write-schema.ts";

const work = mkdtempSync(join(tmpdir(), "speck-config-"));
after(() => rmSync(work, { recursive: true, force: true }));

function error(input: unknown): string {
  try {
    validateConfig(input, "speck.config.json", "/site");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(input)}`);
}

/** The problem lines of an error message (after "invalid configuration in FILE:"). */
function lines(message: string): string[] {
  const [first, ...rest] = message.split("\n");
  assert.match(first!, /^invalid configuration in speck\.config\.json:/);
  return rest.length > 0
    ? rest.map((l) => l.trim())
    : [first!.replace(/^invalid configuration in [^:]+: /, "")];
}

test("validateConfig() applies the defaults to an empty configuration", () => {
  const config = validateConfig({}, "x", "/site");
  assert.deepEqual(config.index, ["index.html"]);
  assert.equal(config.trailingSlash, "auto");
  assert.equal(config.cleanUrls, false);
  assert.equal(config.etag, true);
  assert.deepEqual(config.include, ["**"]);
  assert.deepEqual(config.compression, { encodings: ["br", "gzip"], minSize: 256, minSaving: 0.05 });
  assert.equal(config.redirects.length, 0);
  assert.equal(config.root, "/site");
});

test("errors name the key path, the bad value and the accepted values", () => {
  const cases: [unknown, RegExp][] = [
    [
      { trailingSlash: "sometimes" },
      /^trailingSlash: "sometimes" is not accepted; use one of "auto", "always", "never"$/,
    ],
    [
      { redirects: [{ source: "/a", destination: "/b", status: 303 }] },
      /^redirects\[0\]\.status: 303 is not accepted; use one of 301, 302, 307, 308$/,
    ],
    [{ cleanUrls: "yes" }, /^cleanUrls: "yes" is not accepted; use true or false$/],
    [
      { compression: { minSaving: 1.5 } },
      /^compression\.minSaving: 1\.5 is not accepted; use a fraction below 1/,
    ],
    [
      { compression: { minSize: -1 } },
      /^compression\.minSize: -1 is not accepted; use a whole number of bytes/,
    ],
    [
      { compression: { encodings: ["zstd"] } },
      /^compression\.encodings\[0\]: "zstd" is not accepted; use one of "br", "gzip"$/,
    ],
    [
      { headers: [{ source: "assets/**", headers: {} }] },
      /^headers\[0\]\.source: "assets\/\*\*" is not accepted; use a glob/,
    ],
    [
      { headers: [{ source: "/a", headers: { X: 1 } }] },
      /^headers\[0\]\.headers\.X: 1 is not accepted; use a string/,
    ],
    [{ index: [] }, /^index: \[\] is not accepted; use a list of at least one file name/],
    [
      { index: ["a/index.html"] },
      /^index\[0\]: "a\/index\.html" is not accepted; use a file name without "\/"/,
    ],
    [
      { mimeTypes: { ".md": "text/markdown" } },
      /^mimeTypes\["\.md"\]: the key "\.md" is not accepted; use a file extension/,
    ],
    [
      { redirects: [{ destination: "/b" }] },
      /^redirects\[0\]\.source: missing; use a path starting with "\/"$/,
    ],
    [{ spa: 3 }, /^spa: 3 is not accepted; use a file path inside the site folder/],
    [[], /^the configuration: \[\] is not accepted; use an object of options/],
    [{ clenUrls: true }, /^clenUrls: unknown option "clenUrls"; did you mean "cleanUrls"\?$/],
    [
      { compression: { minsize: 1 } },
      /^compression\.minsize: unknown option "minsize"; did you mean "minSize"\?$/,
    ],
    [
      { redirects: [{ source: "/a", destination: "/b", code: 301 }] },
      /^redirects\[0\]\.code: unknown option "code"; known keys: source, destination, status$/,
    ],
  ];
  for (const [input, expected] of cases) {
    const found = lines(error(input));
    assert.equal(found.length, 1, `one problem, one line: ${found.join(" | ")}`);
    assert.match(found[0]!, expected);
  }
});

test("several problems give one line each", () => {
  const found = lines(error({ trailingSlash: 1, etag: "no", bogus: true }));
  assert.equal(found.length, 3);
  assert.ok(found.some((l) => l.startsWith("trailingSlash: 1 ")));
  assert.ok(found.some((l) => l.startsWith('etag: "no" ')));
  assert.ok(found.some((l) => l.startsWith('bogus: unknown option "bogus"')));
});

test("any wrong value of any option is one line naming the key, the value and what is accepted", () => {
  const keys = Object.keys(configSchema.shape).filter((k) => k !== "$schema");
  const wrong = fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.string(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
  );
  fc.assert(
    fc.property(fc.constantFrom(...keys), wrong, (key, value) => {
      if (configSchema.safeParse({ [key]: value }).success) return;
      for (const line of lines(error({ [key]: value }))) {
        assert.ok(line.startsWith(key), `names the key: ${line}`);
        assert.match(line, / is not accepted; use .+| missing; use .+|unknown option .+; /, line);
        assert.doesNotMatch(line, /Invalid input|expected \w+, received/, `zod's default wording: ${line}`);
      }
    }),
    { numRuns: 400 },
  );
});

test("unknown keys suggest the closest known key only when it is close", () => {
  assert.equal(closestKey("trailingSlahs", ["trailingSlash", "spa"]), "trailingSlash");
  assert.equal(closestKey("SPA", ["trailingSlash", "spa"]), "spa");
  assert.equal(closestKey("banana", ["trailingSlash", "spa", "index"]), undefined);
  fc.assert(
    fc.property(fc.constantFrom(...Object.keys(configSchema.shape)), fc.nat(), (key, at) => {
      const typo = key.length > 3 ? key.slice(0, at % key.length) + key.slice((at % key.length) + 1) : key;
      if (key.length > 3) assert.equal(closestKey(typo, Object.keys(configSchema.shape)), key);
    }),
  );
  assert.equal(keyPath(["headers", 0, "headers", "X-A"]), 'headers[0].headers["X-A"]');
});

test("minSaving accepts a fraction below 1 or a whole number of bytes", () => {
  assert.equal(validateConfig({ compression: { minSaving: 0.2 } }, "x", "/").compression.minSaving, 0.2);
  assert.equal(validateConfig({ compression: { minSaving: 100 } }, "x", "/").compression.minSaving, 100);
  assert.match(error({ compression: { minSaving: 2.5 } }), /minSaving: 2\.5 is not accepted/);
});

test("the committed JSON Schema is what the zod schema generates", () => {
  assert.equal(
    readFileSync(SCHEMA_PATH, "utf8"),
    schemaText(),
    "schema/speck.config.schema.json is stale; run: node --import tsx src/config/write-schema.ts",
  );
  const schema = JSON.parse(schemaText());
  assert.equal(schema.additionalProperties, false, "editors flag unknown keys");
  assert.deepEqual(schema.properties.trailingSlash.enum, ["auto", "always", "never"]);
});

test("loadConfig() reads speck.config.ts with jiti, finds it in the site folder, and lets flags win", async () => {
  const site = join(work, "ts-site");
  mkdirSync(site);
  writeFileSync(
    join(site, "speck.config.ts"),
    'const spa: string = "index.html";\nexport default { spa, cleanUrls: true, trailingSlash: "never" as const, compression: { minSize: 10 } };\n',
  );
  const { config, file } = await loadConfig({
    folder: site,
    overrides: { trailingSlash: "always", cleanUrls: undefined, compression: { encodings: [] } },
  });
  assert.equal(file, join(site, "speck.config.ts"));
  assert.equal(config.spa, "index.html");
  assert.equal(config.cleanUrls, true);
  assert.equal(config.trailingSlash, "always");
  assert.deepEqual(
    config.compression,
    { encodings: [], minSize: 10, minSaving: 0.05 },
    "nested options merge",
  );
  assert.equal(config.root, site);
});

test("loadConfig() finds the config in the site folder's parent, and takes root from it when no folder is given", async () => {
  const project = join(work, "project");
  mkdirSync(join(project, "dist"), { recursive: true });
  writeFileSync(join(project, "speck.config.json"), JSON.stringify({ root: "dist", cleanUrls: true }));
  assert.equal(findConfigFile(join(project, "dist")), join(project, "speck.config.json"));
  const fromFolder = await loadConfig({ folder: join(project, "dist") });
  assert.equal(fromFolder.config.cleanUrls, true);
  const fromRoot = await loadConfig({ configFile: join(project, "speck.config.json") });
  assert.equal(fromRoot.config.root, join(project, "dist"));
});

test("loadConfig() reads a speck.config.ts written with defineConfig() and its imports", async () => {
  const site = join(work, "define-site");
  mkdirSync(site);
  const schema = join(import.meta.dirname, "schema.ts");
  writeFileSync(
    join(site, "speck.config.ts"),
    `import { defineConfig } from ${JSON.stringify(schema)};\nexport default defineConfig({ spa: "app.html", redirects: [{ source: "/a", destination: "/b" }] });\n`,
  );
  const { config } = await loadConfig({ folder: site });
  assert.equal(config.spa, "app.html");
  assert.deepEqual(config.redirects, [{ source: "/a", destination: "/b", status: 308 }]);
});

test("loadConfig() reads .mjs configs and refuses files without a default export", async () => {
  const site = join(work, "mjs-site");
  mkdirSync(site);
  writeFileSync(join(site, "speck.config.mjs"), "export default { cleanUrls: true };\n");
  assert.equal((await loadConfig({ folder: site })).config.cleanUrls, true);
  const named = join(work, "named-site");
  mkdirSync(named);
  writeFileSync(join(named, "speck.config.mjs"), "export const config = { cleanUrls: true };\n");
  await assert.rejects(
    loadConfig({ folder: named }),
    /has no default export; write: export default defineConfig/,
  );
});

test("loadConfig() names broken files, duplicates and missing folders", async () => {
  const site = join(work, "json-site");
  mkdirSync(site);
  writeFileSync(join(site, "speck.config.json"), '{\n  "spa": "index.html",\n  "cleanUrls": true,\n}\n');
  await assert.rejects(
    loadConfig({ folder: site }),
    /cannot read .*speck\.config\.json: .*line 4,? column 1\)$/,
  );
  await assert.rejects(loadConfig({ folder: join(work, "missing") }), /site folder .*missing does not exist/);
  await assert.rejects(
    loadConfig({ folder: site, configFile: join(work, "nope.json") }),
    /config file .*nope\.json does not exist/,
  );
  writeFileSync(join(site, "speck.config.ts"), "export default {}");
  await assert.rejects(
    loadConfig({ folder: site }),
    /speck\.config\.ts and speck\.config\.json are both in .*json-site; keep one, or choose with --config/,
  );
  const array = join(work, "array-site");
  mkdirSync(array);
  writeFileSync(join(array, "speck.config.json"), "[]");
  await assert.rejects(loadConfig({ folder: array }), /the configuration: \[\] is not accepted/);
  const bad = join(work, "bad-root");
  mkdirSync(bad);
  writeFileSync(join(bad, "speck.config.json"), JSON.stringify({ root: "nowhere" }));
  await assert.rejects(
    loadConfig({ configFile: join(bad, "speck.config.json") }),
    /site folder nowhere does not exist/,
  );
});
