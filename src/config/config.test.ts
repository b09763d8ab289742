import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { ConfigError, loadConfig, validateConfig } from "./load.ts";
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
  assert.fail("expected a ConfigError");
}

test("defaults apply when the configuration is empty", () => {
  const config = validateConfig({}, "x", "/site");
  assert.deepEqual(config.index, ["index.html"]);
  assert.equal(config.trailingSlash, "auto");
  assert.equal(config.cleanUrls, false);
  assert.deepEqual(config.compression, { encodings: ["br", "gzip"], minSize: 256, minSaving: 0.05 });
});

test("errors name the key, the bad value and the accepted values", () => {
  assert.match(
    error({ trailingSlash: "sometimes" }),
    /trailingSlash: "sometimes" is not accepted; use one of "auto", "always", "never"/,
  );
  assert.match(
    error({ redirects: [{ source: "/a", destination: "/b", status: 303 }] }),
    /redirects\[0\]\.status: 303 is not accepted; use one of 301, 302, 307, 308/,
  );
  assert.match(error({ cleanUrls: "yes" }), /cleanUrls: "yes" is not accepted; expected boolean/);
  assert.match(error({ compression: { minSaving: 2 } }), /compression\.minSaving: 2 is not accepted/);
  assert.match(error({ clenUrls: true }), /clenUrls: unknown option; did you mean "cleanUrls"\?/);
  assert.match(
    error({ headers: [{ source: "assets/**", headers: {} }] }),
    /headers\[0\]\.source: "assets\/\*\*" is not accepted/,
  );
  assert.match(error({ spa: "index.html", trailingSlash: 1 }), /speck\.config\.json/);
});

test("any invalid trailingSlash value is refused with the accepted list", () => {
  fc.assert(
    fc.property(
      fc.string().filter((s) => !["auto", "always", "never"].includes(s)),
      (value) => {
        assert.match(error({ trailingSlash: value }), /use one of "auto", "always", "never"/);
      },
    ),
  );
});

test("the committed JSON Schema is what the zod schema generates", () => {
  assert.equal(
    readFileSync(SCHEMA_PATH, "utf8"),
    schemaText(),
    "run: node --import tsx src/config/write-schema.ts",
  );
});

test("loadConfig() reads speck.config.ts with jiti, finds it in the site folder, and lets flags win", async () => {
  const site = join(work, "ts-site");
  mkdirSync(site);
  writeFileSync(
    join(site, "speck.config.ts"),
    'const spa: string = "index.html";\nexport default { spa, cleanUrls: true, trailingSlash: "never" as const };\n',
  );
  const { config, file } = await loadConfig({
    folder: site,
    overrides: { trailingSlash: "always", cleanUrls: undefined },
  });
  assert.equal(file, join(site, "speck.config.ts"));
  assert.equal(config.spa, "index.html");
  assert.equal(config.cleanUrls, true);
  assert.equal(config.trailingSlash, "always");
  assert.equal(config.root, site);
});

test("loadConfig() names broken files and missing folders", async () => {
  const site = join(work, "json-site");
  mkdirSync(site);
  writeFileSync(join(site, "speck.config.json"), "{ not json");
  await assert.rejects(loadConfig({ folder: site }), /cannot read .*speck\.config\.json/);
  await assert.rejects(loadConfig({ folder: join(work, "missing") }), /site folder .*missing does not exist/);
  await assert.rejects(
    loadConfig({ folder: site, configFile: join(work, "nope.json") }),
    /config file .*nope\.json does not exist/,
  );
});
