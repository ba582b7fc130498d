/**
 * The form for a step's config is generated from its JSON Schema by rjsf; a few schema shapes
 * that validate well render badly, so the form gets a simplified copy (the server still
 * validates against the real one, and its errors appear on the fields):
 * - `anyOf` used as a constraint only ("users or groups"), with no type in any branch, is
 *   dropped: rjsf would show an "option 1 / option 2" picker and an unsupported field;
 * - a choice between strings (a username or a template) is one string field;
 * - a value or a template (`anyOf: [{type: integer}, {template string}]`), and any property
 *   with no type at all (a transform's value, a request body), become a JSON value field:
 *   text that is JSON is that value, anything else a string.
 */
type Schema = Record<string, unknown>;
type UiSchema = Record<string, unknown>;

const JSON_FIELD = { "ui:field": "jsonValue" };
/** Marks a property shown as a JSON value, so no later pass takes it for a plain string. */
export const JSON_VALUE_MARK = "x-flowdeck-json-value";
const SHAPING = ["type", "anyOf", "oneOf", "allOf", "$ref", "enum", "const", "properties", "items"];

function branches(schema: Schema): Schema[] | null {
  const list = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  return Array.isArray(list) ? list : null;
}

function withoutChoice(schema: Schema): Schema {
  const { anyOf: _a, oneOf: _o, ...rest } = schema;
  return rest;
}

/** The form's schema and uiSchema for one (sub)schema. */
function simplify(schema: Schema): { schema: Schema; ui: UiSchema | null } {
  const choice = branches(schema);
  if (choice) {
    if (choice.every((b) => !("type" in b))) return simplify(withoutChoice(schema));
    if (choice.every((b) => b.type === "string")) {
      return { schema: { ...withoutChoice(schema), type: "string" }, ui: null };
    }
    return { schema: { ...withoutChoice(schema), [JSON_VALUE_MARK]: true }, ui: JSON_FIELD };
  }
  if (!SHAPING.some((key) => key in schema)) return { schema: { ...schema, [JSON_VALUE_MARK]: true }, ui: JSON_FIELD };

  let ui: UiSchema | null = null;
  let out = schema;
  if (schema.properties && typeof schema.properties === "object") {
    const properties: Record<string, Schema> = {};
    for (const [name, sub] of Object.entries(schema.properties as Record<string, Schema>)) {
      const simple = simplify(sub);
      properties[name] = simple.schema;
      if (simple.ui) ui = { ...(ui ?? {}), [name]: simple.ui };
    }
    out = { ...out, properties };
  }
  if (schema.items && typeof schema.items === "object" && !Array.isArray(schema.items)) {
    const simple = simplify(schema.items as Schema);
    out = { ...out, items: simple.schema };
    if (simple.ui) ui = { ...(ui ?? {}), items: simple.ui };
  }
  return { schema: out, ui };
}

export function formSchemaOf(configSchema: Schema): { schema: Schema; uiSchema: UiSchema } {
  const { schema, ui } = simplify(configSchema);
  return { schema, uiSchema: ui ?? {} };
}

/** Two uiSchemas as one; where both set a key to a non-object, `b` wins. */
export function mergeUiSchemas(a: UiSchema, b: UiSchema): UiSchema {
  const out: UiSchema = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key];
    const both = [mine, value].every((v) => v && typeof v === "object" && !Array.isArray(v));
    out[key] = both ? mergeUiSchemas(mine as UiSchema, value as UiSchema) : value;
  }
  return out;
}
