/**
 * The workflow's inputs as a list of fields, and back to the JSON Schema the contract keeps in
 * `input_schema` (CONTRACT §1). People declare fields; the schema is written for them. Keywords
 * the list does not show (minimum, enum, format...) are kept as they were.
 */

export const FIELD_TYPES = ["string", "number", "integer", "boolean", "object", "array"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export type InputField = { name: string; type: FieldType; title: string; required: boolean };

type Schema = {
  type?: string;
  properties?: Record<string, Record<string, unknown>>;
  required?: string[];
  [key: string]: unknown;
};

export function fieldsOf(schema: Record<string, unknown> | undefined): InputField[] {
  const s = (schema ?? {}) as Schema;
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties ?? {}).map(([name, property]) => ({
    name,
    type: (FIELD_TYPES as readonly string[]).includes(property.type as string) ? (property.type as FieldType) : "string",
    title: typeof property.title === "string" ? property.title : "",
    required: required.has(name),
  }));
}

/** `fields` as a JSON Schema, keeping what `previous` said beyond them; undefined for none. */
export function schemaOf(
  fields: InputField[],
  previous: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!fields.length) return undefined;
  const before = (previous ?? {}) as Schema;
  const properties: Record<string, Record<string, unknown>> = {};
  for (const field of fields) {
    const kept = { ...(before.properties?.[field.name] ?? {}) };
    if (kept.type !== field.type) {
      // Keywords of the old type (minimum, items...) may not fit the new one.
      for (const key of Object.keys(kept)) if (key !== "title" && key !== "description") delete kept[key];
    }
    delete kept.title;
    properties[field.name] = { type: field.type, ...(field.title ? { title: field.title } : {}), ...kept };
  }
  const required = fields.filter((f) => f.required).map((f) => f.name);
  const { properties: _p, required: _r, ...rest } = before;
  return { ...rest, type: "object", properties, ...(required.length ? { required } : {}) };
}

/** Why `name` cannot name a new or renamed field, or null. */
export function fieldNameProblem(name: string, taken: string[]): string | null {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return "a name is letters, digits and _, not starting with a digit";
  if (taken.includes(name)) return `${name} is already an input`;
  return null;
}
