// Regenerates schema/speck.config.schema.json: `node --import tsx src/config/write-schema.ts`.

import { writeFileSync } from "node:fs";
import { jsonSchema } from "./schema.ts";

export const SCHEMA_PATH = new URL("../../schema/speck.config.schema.json", import.meta.url);

export function schemaText(): string {
  return `${JSON.stringify(jsonSchema(), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) writeFileSync(SCHEMA_PATH, schemaText());
