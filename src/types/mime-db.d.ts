// mime-db ships no types: a JSON map of media type to { compressible?, extensions?, ... }.
declare module "mime-db" {
  const db: Record<
    string,
    { compressible?: boolean; extensions?: string[]; charset?: string; source?: string }
  >;
  export default db;
}
