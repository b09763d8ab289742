// The complete responses for every status the server produces itself (ERROR_STATUSES, and
// ACCESS_ERROR_STATUSES for sites with access rules): small HTML pages, `Allow: GET, HEAD` on 405,
// and the site's own page for 404 when it has one.

import {
  ACCESS_ERROR_STATUSES,
  type AccessErrorStatus,
  ERROR_STATUSES,
  type ErrorStatus,
  type Header,
  type Resource,
} from "../pack/model.ts";
import { STATUS_TEXT } from "../pack/status.ts";

const BASE_HEADERS: Header[] = [
  ["Content-Type", "text/html; charset=utf-8"],
  ["Cache-Control", "no-cache"],
  ["X-Content-Type-Options", "nosniff"],
];

function generatedPage(status: ErrorStatus | AccessErrorStatus): Resource {
  const title = `${status} ${STATUS_TEXT[status]}`;
  // no <meta charset>: the Content-Type header says utf-8, and every image carries 11 to 15 of these
  const body = new TextEncoder().encode(`<!doctype html>\n<title>${title}</title>\n<h1>${title}</h1>\n`);
  const headers: Header[] = status === 405 ? [...BASE_HEADERS, ["Allow", "GET, HEAD"]] : [...BASE_HEADERS];
  return { kind: "resource", headers, variants: [{ encoding: "identity", body }] };
}

/** A page of the site as an error response: its headers and identity body, nothing else. */
function sitePage(page: Resource): Resource {
  return {
    kind: "resource",
    headers: page.headers,
    variants: [{ encoding: "identity", body: page.variants[0]!.body }],
  };
}

/**
 * Every error response; 404 is `notFound` (the site's page, with its headers) when given. Error
 * responses are served as they are (no variants, validators or ranges: docs/http-semantics.md).
 */
export function errorPages(notFound?: Resource): Record<ErrorStatus, Resource> {
  return Object.fromEntries(
    ERROR_STATUSES.map((status): [ErrorStatus, Resource] => [
      status,
      status === 404 && notFound ? sitePage(notFound) : generatedPage(status),
    ]),
  ) as Record<ErrorStatus, Resource>;
}

/** The responses of access refusals (401, 403) and proxy failures (502, 504): the site's `pages` where given. */
export function accessErrorPages(
  pages: Partial<Record<AccessErrorStatus, Resource>> = {},
): Record<AccessErrorStatus, Resource> {
  return Object.fromEntries(
    ACCESS_ERROR_STATUSES.map((status) => {
      const page = pages[status];
      return [status, page ? sitePage(page) : generatedPage(status)];
    }),
  ) as Record<AccessErrorStatus, Resource>;
}
