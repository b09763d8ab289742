// Canonical JSON for image configs, manifests and indexes: compact, object keys sorted by their
// UTF-8 bytes at every level, so the bytes (and the digest) never depend on the order in which
// a caller happened to build an object.

const encoder = new TextEncoder();

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function write(value: unknown, out: string[]): void {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    out.push(JSON.stringify(value));
  } else if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot hold ${value}`);
    out.push(JSON.stringify(value));
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(",");
      write(item, out);
    });
    out.push("]");
  } else if (typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    const object = value as { readonly [key: string]: unknown };
    const keys = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort(compareUtf8);
    out.push("{");
    keys.forEach((key, i) => {
      if (i > 0) out.push(",");
      out.push(JSON.stringify(key), ":");
      write(object[key], out);
    });
    out.push("}");
  } else {
    throw new TypeError(`canonical JSON cannot hold ${typeof value} ${String(value)}`);
  }
}

/**
 * Serialises `value` (plain objects, arrays, strings, finite numbers, booleans, null) compactly
 * with sorted keys; `undefined` members are left out.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

/** The UTF-8 bytes of `canonicalJson(value)`. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}
