// The package as npm delivers it: `npm pack` compiles dist/ (prepack), a fresh project installs the
// tarball with its production dependencies only, and there `npx speck build`, a speck.config.ts
// typed by `defineConfig` from "speck", and the library give what the source checkout gives.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildServer } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import { requireCommands } from "../support/tools.ts";

const ROOT = join(import.meta.dirname, "../..");
const SPECK = join(ROOT, "bin/speck.js");
const work = mkdtempSync(join(tmpdir(), "speck-package-"));
after(() => rmSync(work, { recursive: true, force: true }));

const project = join(work, "project");
const installed = join(project, "node_modules/speck");
let tarball = "";
let entries: string[] = [];

const CONFIG = `import { defineConfig } from "speck";

export default defineConfig({
  spa: "index.html",
  headers: [{ source: "/**", headers: { "X-Frame-Options": "DENY" } }],
});
`;

/** What `npm pack` needs from a checkout: the package's files and what compiles dist/. */
function copySources(to: string): void {
  const files = [
    "package.json",
    "README.md",
    "LICENSE",
    "tsconfig.json",
    "tsconfig.build.json",
    "bin",
    "src",
    "schema",
    "docs",
  ];
  for (const name of files) cpSync(join(ROOT, name), join(to, name), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(to, "node_modules"));
}

before(() => {
  if (!spawnSync("npm", ["--version"]).stdout) return;
  const sources = join(work, "sources");
  const packed = join(work, "packed");
  mkdirSync(sources);
  mkdirSync(packed);
  copySources(sources);
  execFileSync("npm", ["pack", "--pack-destination", packed], { cwd: sources, stdio: "ignore" });
  [tarball] = readdirSync(packed).map((name) => join(packed, name));
  entries = execFileSync("tar", ["-tzf", tarball!], { encoding: "utf8" }).trim().split("\n").sort();
  mkdirSync(join(project, "site"), { recursive: true });
  writeFileSync(join(project, "package.json"), '{ "name": "site", "private": true, "type": "module" }\n');
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball!], {
    cwd: project,
    stdio: "ignore",
  });
  cpSync(join(ROOT, "examples/hello"), join(project, "site"), { recursive: true });
  writeFileSync(join(project, "site/speck.config.ts"), CONFIG);
});

test("npm pack ships the compiled CLI and library, their types, the schema and the licence, and no tests or sources", (t) => {
  if (!requireCommands(t, ["npm", "tar"], "npm and tar (apt-get install npm tar)")) return;
  for (const file of [
    "dist/cli/main.js",
    "dist/index.js",
    "dist/index.d.ts",
    "bin/speck.js",
    "schema/speck.config.schema.json",
    "LICENSE",
  ])
    assert.ok(entries.includes(`package/${file}`), `${file} is missing from ${entries.length} entries`);
  const unwanted = entries.filter((e) => /\.test\.|\.map$|^package\/(src|test|bench)\//.test(e));
  assert.deepEqual(unwanted, []);
});

test("the installed package runs without the checkout's dev dependencies", (t) => {
  if (!requireCommands(t, ["npm"], "npm (apt-get install npm)")) return;
  for (const dev of ["tsx", "typescript", "@biomejs/biome"])
    assert.equal(existsSync(join(project, "node_modules", dev)), false, `${dev} was installed`);
  const version = spawnSync(join(project, "node_modules/.bin/speck"), ["--version"], {
    cwd: project,
    encoding: "utf8",
  });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
});

test("npx speck build from the package writes the same image as the checkout, with its speck.config.ts", (t) => {
  if (!requireCommands(t, ["npm"], "npm (apt-get install npm)")) return;
  const env = { ...process.env, SOURCE_DATE_EPOCH: "1767225600" };
  const build = (cli: string[], output: string) => {
    const result = spawnSync(
      cli[0]!,
      [...cli.slice(1), "build", "site", "-o", output, "-t", "site:1", "--json"],
      {
        cwd: project,
        env,
        encoding: "utf8",
      },
    );
    assert.equal(result.status, 0, result.stderr);
    return readFileSync(join(project, output));
  };
  const fromPackage = build(["npx", "--no-install", "speck"], "package.tar");
  const fromCheckout = build([process.execPath, SPECK], "checkout.tar");
  assert.ok(fromPackage.equals(fromCheckout), "the two image archives differ");
  const packed = spawnSync("npx", ["--no-install", "speck", "pack", "site", "-o", "site.pack"], {
    cwd: project,
    encoding: "utf8",
  });
  assert.equal(packed.status, 0, packed.stderr);
  assert.ok(
    readFileSync(join(project, "site.pack")).includes("X-Frame-Options: DENY"),
    "speck.config.ts was not applied",
  );
});

test("import from \"speck\": the library's server is the checkout's, and its types check a config", (t) => {
  if (!requireCommands(t, ["npm"], "npm (apt-get install npm)")) return;
  const script =
    'import { buildServer, TARGETS } from "speck"; process.stdout.write(String(buildServer(TARGETS.a64).elf.length));';
  const length = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: project,
    encoding: "utf8",
  });
  assert.equal(Number(length), buildServer(TARGETS.a64).elf.length);
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  const flags = [
    "--noEmit",
    "--strict",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--skipLibCheck",
  ];
  const types = ["--typeRoots", join(ROOT, "node_modules/@types"), "--types", "node"];
  const checked = spawnSync(process.execPath, [tsc, ...flags, ...types, "site/speck.config.ts"], {
    cwd: project,
    encoding: "utf8",
  });
  assert.equal(checked.status, 0, checked.stdout);
  writeFileSync(join(project, "site/bad.config.ts"), CONFIG.replace('spa: "index.html"', "spa: 42"));
  const wrong = spawnSync(process.execPath, [tsc, ...flags, ...types, "site/bad.config.ts"], {
    cwd: project,
    encoding: "utf8",
  });
  assert.notEqual(wrong.status, 0, "a number for spa type-checked");
  assert.match(wrong.stdout, /bad\.config\.ts\(4,\d+\): error TS2322/);
  assert.ok(existsSync(join(installed, "dist/index.d.ts")));
});
