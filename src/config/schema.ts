// The speck.config schema (zod 4): every option, its default and its documentation. The JSON Schema
// for editors (schema/speck.config.schema.json) is generated from this one source.

import { z } from "zod";

const status = z.union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)]);

export const redirectSchema = z
  .object({
    source: z
      .string()
      .startsWith("/")
      .describe('Exact path ("/old") or prefix rule ending in "/*" ("/blog/*").'),
    destination: z
      .string()
      .min(1)
      .describe('Path or absolute URL; prefix rules end with ":splat" ("/news/:splat").'),
    status: status.default(308).describe("Redirect status."),
  })
  .strict();

export const headerRuleSchema = z
  .object({
    source: z.string().startsWith("/").describe('Glob over URL paths, e.g. "/assets/**" or "/**/*.html".'),
    headers: z
      .record(z.string(), z.string())
      .describe("Headers to add or override (a later rule overrides an earlier one)."),
  })
  .strict();

export const compressionSchema = z
  .object({
    encodings: z
      .array(z.enum(["br", "gzip"]))
      .default(["br", "gzip"])
      .describe("Precompressed variants to build."),
    minSize: z
      .number()
      .int()
      .min(0)
      .default(256)
      .describe("Files smaller than this many bytes are not compressed."),
    minSaving: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe("A variant is kept only when it is at least this fraction smaller than the original."),
  })
  .strict();

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    root: z.string().optional().describe("The site folder (relative to the config file)."),
    index: z
      .array(z.string().min(1))
      .min(1)
      .default(["index.html"])
      .describe("Directory index file names, in order."),
    cleanUrls: z
      .boolean()
      .default(false)
      .describe("Serve /about from about.html and redirect /about.html to /about."),
    trailingSlash: z
      .enum(["auto", "always", "never"])
      .default("auto")
      .describe(
        "auto: directories end with /, pages do not; always: every page URL ends with /; never: none do.",
      ),
    spa: z
      .string()
      .optional()
      .describe("Fallback file served with 200 for unknown paths without a file extension."),
    notFound: z.string().optional().describe("Page served with 404 (default: 404.html when present)."),
    redirects: z.array(redirectSchema).default([]),
    headers: z.array(headerRuleSchema).default([]),
    compression: compressionSchema.default({ encodings: ["br", "gzip"], minSize: 256, minSaving: 0.05 }),
    etag: z.boolean().default(true).describe("Send strong ETags computed from the content."),
    lastModified: z
      .boolean()
      .default(true)
      .describe("Send Last-Modified from file times or SOURCE_DATE_EPOCH."),
    exclude: z
      .array(z.string())
      .default([])
      .describe("Globs (relative to the site folder) of files to leave out."),
  })
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
