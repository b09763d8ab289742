// The access options of speck.config: Basic auth rules, IP allow/deny rules, trusted proxies and
// reverse-proxy rules (docs/access.md). Each check's error text is the accepted form, as in
// schema.ts; checks across rules (a rule that an earlier one shadows) name both rules.

import { z } from "zod";
import { type Cidr, cidrCovers, formatCidr, parseCidr } from "../access/cidr.ts";
import { parsePasswordHash } from "../access/password.ts";
import { prefixProblem } from "../access/paths.ts";
import { canonicalPrefix, underPrefix } from "../access/rules.ts";
import { parseUpstream } from "../access/upstream.ts";

const PREFIX = 'a path prefix starting with "/", e.g. "/admin/"';
const CIDR_FORM = 'an IPv4 or IPv6 address or CIDR, e.g. "10.0.0.0/8", "2001:db8::/32" or "all"';
const ENTRY_FORM = '"allow" or "deny" and an address or CIDR, e.g. "allow 10.0.0.0/8" or "deny all"';

const prefix = () =>
  z
    .string({ error: PREFIX })
    .superRefine((path, ctx) => {
      const problem = prefixProblem(path);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .describe('Path prefix: "/admin" covers /admin and everything under /admin/.');

const cidr = () =>
  z.string({ error: CIDR_FORM }).superRefine((text, ctx) => {
    const parsed = parseCidr(text);
    if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: `${CIDR_FORM} (${parsed})` });
  });

const ipEntry = () =>
  z.string({ error: ENTRY_FORM }).superRefine((text, ctx) => {
    const match = /^(allow|deny) +(\S+)$/.exec(text);
    const parsed = match ? parseCidr(match[2]!) : undefined;
    if (parsed === undefined) ctx.addIssue({ code: "custom", message: ENTRY_FORM });
    else if (typeof parsed === "string")
      ctx.addIssue({ code: "custom", message: `${ENTRY_FORM} (${parsed})` });
  });

const ms = (what: string, fallback: number) =>
  z
    .number({ error: "a whole number of milliseconds from 1 to 3600000" })
    .int({ error: "a whole number of milliseconds from 1 to 3600000" })
    .min(1, { error: "a whole number of milliseconds from 1 to 3600000" })
    .max(3_600_000, { error: "a whole number of milliseconds from 1 to 3600000" })
    .default(fallback)
    .describe(what);

export const userSourceSchema = z.union(
  [
    z
      .object({
        env: z
          .string({ error: 'an environment variable name, e.g. "ADMIN_USERS"' })
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'an environment variable name, e.g. "ADMIN_USERS"' })
          .describe('Environment variable holding "user:hash" lines, read when the server starts.'),
      })
      .strict(),
    z
      .object({
        file: z
          .string({ error: 'an absolute file path, e.g. "/run/secrets/speck-auth"' })
          .regex(/^\/[^\0]*$/, { error: 'an absolute file path, e.g. "/run/secrets/speck-auth"' })
          .describe(
            'File of "user:hash" lines read when the server starts (SPECK_AUTH_FILE, when set, names another).',
          ),
      })
      .strict(),
  ],
  { error: '{ "env": "VARIABLE" } or { "file": "/run/secrets/FILE" }' },
);

export const authRuleSchema = z
  .object(
    {
      path: prefix(),
      realm: z
        .string({ error: 'a realm name of printable characters without \\ or ", e.g. "Admin"' })
        .regex(/^[\x20-\x7e]{1,100}$/, {
          error: 'a realm name of printable characters without \\ or ", e.g. "Admin"',
        })
        .regex(/^[^"\\]*$/, { error: 'a realm name of printable characters without \\ or ", e.g. "Admin"' })
        .describe("Realm shown by browsers in the login prompt."),
      users: z
        .record(
          z.string().regex(/^[\x21-\x39\x3b-\x7e]{1,64}$/, {
            error: 'a user name of 1 to 64 printable characters without ":" or spaces',
          }),
          z.string({ error: "a hash from speck hash-password" }).superRefine((hash, ctx) => {
            const parsed = parsePasswordHash(hash);
            if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
          }),
          {
            error:
              'an object of user names to hashes from speck hash-password, e.g. { "alice": "$pbkdf2-sha256$..." }',
          },
        )
        .optional()
        .describe("User names and their hashes (speck hash-password), built into the pack."),
      usersFrom: userSourceSchema
        .optional()
        .describe("Users supplied when the server starts instead: an environment variable or a secret file."),
    },
    { error: 'a rule { "path": "/admin/", "realm": "Admin", "users": { ... } }' },
  )
  .strict()
  .superRefine((rule, ctx) => {
    const count = (rule.users === undefined ? 0 : 1) + (rule.usersFrom === undefined ? 0 : 1);
    if (count !== 1)
      ctx.addIssue({
        code: "custom",
        path: count === 0 ? ["users"] : ["usersFrom"],
        message: 'exactly one of "users" (hashes in the pack) or "usersFrom" (read at start)',
      });
    else if (rule.users && Object.keys(rule.users).length === 0)
      ctx.addIssue({ code: "custom", path: ["users"], message: "at least one user: nobody could log in" });
  });

export const ipRuleSchema = z
  .object(
    {
      path: prefix(),
      rules: z
        .array(ipEntry(), { error: `a list of ${ENTRY_FORM}` })
        .min(1, { error: `a list of at least one ${ENTRY_FORM}` })
        .describe("Entries tried in order; the first whose range holds the client decides; none: allowed."),
    },
    { error: 'a rule { "path": "/admin/", "rules": ["allow 10.0.0.0/8", "deny all"] }' },
  )
  .strict()
  .superRefine((rule, ctx) => {
    const ranges = rule.rules.map((entry) => parseCidr(entry.split(/ +/)[1] ?? ""));
    ranges.forEach((range, j) => {
      if (typeof range === "string") return;
      const earlier = ranges.findIndex(
        (r, i) => i < j && typeof r !== "string" && cidrCovers(r as Cidr, range),
      );
      if (earlier >= 0)
        ctx.addIssue({
          code: "custom",
          path: ["rules", j],
          message: `an entry that can match: rules[${earlier}] ("${rule.rules[earlier]}") comes first and covers ${formatCidr(range)}`,
        });
    });
  });

export const proxyRuleSchema = z
  .object(
    {
      path: prefix(),
      upstream: z
        .string({ error: 'an upstream URL "http://host:port/base"' })
        .superRefine((text, ctx) => {
          const parsed = parseUpstream(text);
          if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
        })
        .describe('Where requests go: "http://host:port/base"; /path/rest is forwarded as /base/rest.'),
      connectTimeout: ms("Milliseconds to connect to the upstream (502 after).", 5000),
      timeout: ms("Milliseconds the upstream may stay silent (504 before its response starts).", 30_000),
      maxBodySize: z
        .number({ error: "a whole number of bytes, 0 or more" })
        .int({ error: "a whole number of bytes, 0 or more" })
        .min(0, { error: "a whole number of bytes, 0 or more" })
        .default(10 * 1024 * 1024)
        .describe("Largest request body forwarded (413 above)."),
    },
    { error: 'a rule { "path": "/api/", "upstream": "http://127.0.0.1:3000" }' },
  )
  .strict();

/** Adds an issue for every rule of `rules` that an earlier rule's prefix covers: it can never match. */
function noShadowedRules(rules: readonly { path: string }[], ctx: z.RefinementCtx, key: string): void {
  rules.forEach((rule, j) => {
    if (typeof rule.path !== "string" || prefixProblem(rule.path)) return;
    const earlier = rules.findIndex(
      (r, i) =>
        i < j &&
        typeof r.path === "string" &&
        underPrefix(canonicalPrefix(r.path), canonicalPrefix(rule.path)),
    );
    if (earlier >= 0)
      ctx.addIssue({
        code: "custom",
        path: [j, "path"],
        message: `a path that can match: ${key}[${earlier}] ("${rules[earlier]!.path}") comes first and covers it; put the longer path first`,
      });
  });
}

const PAGE = 'a file path inside the site folder, e.g. "denied.html"';
const page = () => z.string({ error: PAGE }).min(1, { error: PAGE }).optional();

export const accessKeys = {
  errorPages: z
    .object(
      {
        "401": page().describe("Page sent with 401 (credentials missing or wrong)."),
        "403": page().describe("Page sent with 403 (refused by an IP rule)."),
        "502": page().describe("Page sent with 502 (the upstream of a proxy rule cannot be reached)."),
        "504": page().describe("Page sent with 504 (the upstream of a proxy rule is silent)."),
      },
      { error: 'an object of statuses to pages of the site, e.g. { "401": "denied.html" }' },
    )
    .strict()
    .default({})
    .describe("Pages of the site sent for access refusals and proxy failures (instead of speck's own)."),
  auth: z
    .array(authRuleSchema, { error: "a list of { path, realm, users } rules" })
    .default([])
    .superRefine((rules, ctx) => noShadowedRules(rules, ctx, "auth"))
    .describe("Basic auth rules; the first rule whose path covers the request applies."),
  ipRules: z
    .array(ipRuleSchema, { error: "a list of { path, rules } rules" })
    .default([])
    .superRefine((rules, ctx) => noShadowedRules(rules, ctx, "ipRules"))
    .describe(
      "IP allow/deny rules; the first rule whose path covers the request applies (403 when refused).",
    ),
  trustedProxies: z
    .array(cidr(), { error: `a list of ${CIDR_FORM}` })
    .default([])
    .describe("Peers whose X-Forwarded-For is believed when IP rules pick the client address."),
  proxy: z
    .array(proxyRuleSchema, { error: "a list of { path, upstream } rules" })
    .default([])
    .superRefine((rules, ctx) => noShadowedRules(rules, ctx, "proxy"))
    .describe("Reverse-proxy rules: requests under path go to the upstream instead of the site."),
};
