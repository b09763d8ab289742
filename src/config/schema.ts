// The speck.config schema (zod 4): every option, its default and its documentation. The JSON Schema
// for editors (schema/speck.config.schema.json) is generated from this one source. Each check's
// error text is the accepted form ("true or false", "a path starting with /"), which errors.ts
// puts after the key and the bad value.

import { z } from "zod";
import { accessKeys } from "./access-schema.ts";

const PATH = 'a path starting with "/"';
const FILE = 'a file path inside the site folder, e.g. "index.html"';
const GLOBS = 'a list of globs, e.g. ["**/*.map"]';
const bool = () => z.boolean({ error: "true or false" });
const nonEmpty = (accepted: string) => z.string({ error: accepted }).min(1, { error: accepted });

export const redirectSchema = z
  .object(
    {
      source: z
        .string({ error: PATH })
        .regex(/^\//, { error: PATH })
        .describe('Exact path ("/old") or prefix rule ending in "/*" ("/blog/*"), decoded.'),
      destination: nonEmpty('a path starting with "/" or an http(s):// URL').describe(
        'Path or absolute URL; prefix rules end with ":splat" ("/news/:splat").',
      ),
      status: z
        .literal([301, 302, 307, 308])
        .default(308)
        .describe("Redirect status: 301 or 308 permanent, 302 or 307 temporary."),
    },
    { error: 'a rule { "source": "/old", "destination": "/new" }' },
  )
  .strict();

export const headerRuleSchema = z
  .object(
    {
      source: z
        .string({ error: `a glob over URL paths (${PATH}), e.g. "/assets/**"` })
        .regex(/^\//, { error: `a glob over URL paths (${PATH}), e.g. "/assets/**"` })
        .describe('Glob over URL paths, e.g. "/assets/**" or "/**/*.html".'),
      headers: z
        .record(z.string(), z.string({ error: "a string header value" }), {
          error: 'an object of header names to values, e.g. { "X-Frame-Options": "DENY" }',
        })
        .describe("Headers to add or replace; a later rule replaces what an earlier one set."),
    },
    { error: 'a rule { "source": "/assets/**", "headers": { ... } }' },
  )
  .strict();

export const compressionSchema = z
  .object(
    {
      encodings: z
        .array(z.enum(["br", "gzip"]), { error: 'a list of encodings, e.g. ["br", "gzip"] (or [] for none)' })
        .default(["br", "gzip"])
        .describe("Precompressed variants to build."),
      minSize: z
        .number({ error: "a whole number of bytes, 0 or more" })
        .int({ error: "a whole number of bytes, 0 or more" })
        .min(0, { error: "a whole number of bytes, 0 or more" })
        .default(256)
        .describe("Files smaller than this many bytes are not compressed."),
      minSaving: z
        .number({ error: "a fraction below 1 (0.05 = 5%) or a whole number of bytes" })
        .min(0, { error: "a fraction below 1 (0.05 = 5%) or a whole number of bytes" })
        .refine((n) => n < 1 || Number.isInteger(n), {
          error: "a fraction below 1 (0.05 = 5%) or a whole number of bytes",
        })
        .default(0.05)
        .describe(
          "A variant is kept only when it saves at least this much: a fraction of the original below 1 (0.05 = 5%), or a whole number of bytes from 1 up.",
        ),
    },
    { error: 'an object { "encodings", "minSize", "minSaving" }' },
  )
  .strict();

export const configSchema = z
  .object(
    {
      $schema: z.string({ error: "the URL or path of the JSON Schema" }).optional(),
      root: nonEmpty("a folder path").optional().describe("The site folder, relative to the config file."),
      index: z
        .array(
          z
            .string({ error: 'a file name without "/", e.g. "index.html"' })
            .regex(/^[^/]+$/, { error: 'a file name without "/", e.g. "index.html"' }),
          { error: 'a list of file names, e.g. ["index.html"]' },
        )
        .min(1, { error: 'a list of at least one file name, e.g. ["index.html"]' })
        .default(["index.html"])
        .describe("Directory index file names, in order of preference."),
      cleanUrls: bool()
        .default(false)
        .describe("Serve /about from about.html and redirect /about.html to /about."),
      trailingSlash: z
        .enum(["auto", "always", "never"])
        .default("auto")
        .describe(
          "auto: folders end with /, pages and files do not; always: folders and clean pages end with /; never: no page URL ends with /.",
        ),
      spa: nonEmpty(FILE)
        .optional()
        .describe('Fallback file served with 200 for unknown paths without a "." in their last segment.'),
      notFound: nonEmpty(FILE).optional().describe("Page served with 404 (default: 404.html when present)."),
      redirects: z
        .array(redirectSchema, { error: "a list of { source, destination, status } rules" })
        .default([])
        .describe('Redirect rules, exact or prefix ("/old/*" to "/new/:splat").'),
      headers: z
        .array(headerRuleSchema, { error: "a list of { source, headers } rules" })
        .default([])
        .describe("Header rules, applied in order to every route whose URL matches."),
      compression: compressionSchema
        .default({ encodings: ["br", "gzip"], minSize: 256, minSaving: 0.05 })
        .describe("Precompressed gzip and brotli variants."),
      etag: bool().default(true).describe("Send strong ETags computed from the content."),
      lastModified: bool().default(true).describe("Send Last-Modified from file times or SOURCE_DATE_EPOCH."),
      include: z
        .array(nonEmpty("a glob"), { error: GLOBS })
        .default(["**"])
        .describe(
          "Globs (relative to the site folder) of files to serve; dotfiles other than .well-known/ never are.",
        ),
      exclude: z
        .array(nonEmpty("a glob"), { error: GLOBS })
        .default([])
        .describe("Globs (relative to the site folder) of files to leave out, applied after include."),
      precompressed: bool()
        .default(false)
        .describe(
          "Use a file's .gz and .br siblings (a.js.gz, a.js.br) as its variants instead of compressing it, and do not serve them as files.",
        ),
      mimeTypes: z
        .record(
          z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, { error: 'a file extension without the dot, e.g. "md"' }),
          z.string({ error: 'a media type, e.g. "text/markdown"' }).regex(/^[\x21-\x7e]+\/[\x20-\x7e]+$/, {
            error: 'a media type, e.g. "text/markdown"',
          }),
          { error: 'an object of extensions to media types, e.g. { "md": "text/markdown" }' },
        )
        .default({})
        .describe(
          'Content-Type by file extension (without the dot), over mime-db: { "md": "text/markdown" }.',
        ),
      ...accessKeys,
    },
    { error: 'an object of options, e.g. { "spa": "index.html" }' },
  )
  .strict();

/** What users write (every option optional). */
export type SpeckConfigInput = z.input<typeof configSchema>;
/** The validated configuration with defaults applied. */
export type SpeckConfig = z.output<typeof configSchema> & { root: string };

/** Types a speck.config.ts: `export default defineConfig({ spa: "index.html" })`. */
export function defineConfig(config: SpeckConfigInput): SpeckConfigInput {
  return config;
}

/** The JSON Schema editors use for speck.config.json. */
export function jsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: "input" });
}
