import { describe, expect, it } from "vitest";

import { JSON_VALUE_MARK, formSchemaOf, mergeUiSchemas } from "./formSchema";

const TEMPLATE = { type: "string", pattern: "^\\s*\\{\\{[\\s\\S]*\\}\\}\\s*$" };

describe("the form's schema", () => {
  it("drops an anyOf that only constrains, and makes a choice of strings one string", () => {
    const { schema, uiSchema } = formSchemaOf({
      type: "object",
      properties: {
        assignees: {
          type: "object",
          title: "Assignees",
          properties: {
            users: { type: "array", items: { anyOf: [{ type: "string", pattern: "^\\w+$" }, TEMPLATE] } },
            groups: { type: "array", items: { type: "string" } },
          },
          anyOf: [{ required: ["users"] }, { required: ["groups"] }],
        },
      },
    });
    expect(schema.properties).toEqual({
      assignees: {
        type: "object",
        title: "Assignees",
        properties: {
          users: { type: "array", items: { type: "string" } },
          groups: { type: "array", items: { type: "string" } },
        },
      },
    });
    expect(uiSchema).toEqual({});
  });

  it("gives a value-or-template and an untyped value the JSON value field, at their path", () => {
    const { schema, uiSchema } = formSchemaOf({
      type: "object",
      properties: {
        due_in_s: { title: "Due", anyOf: [{ type: "integer", minimum: 1 }, TEMPLATE] },
        body: { title: "Body" },
        escalate_to: { type: "object", properties: { due_in_s: { anyOf: [{ type: "integer" }, TEMPLATE] } } },
        url: { type: "string" },
      },
    });
    expect(uiSchema).toEqual({
      due_in_s: { "ui:field": "jsonValue" },
      body: { "ui:field": "jsonValue" },
      escalate_to: { due_in_s: { "ui:field": "jsonValue" } },
    });
    expect((schema.properties as Record<string, unknown>).due_in_s).toEqual({ title: "Due", [JSON_VALUE_MARK]: true });
    expect((schema.properties as Record<string, unknown>).url).toEqual({ type: "string" });
  });
});

describe("mergeUiSchemas", () => {
  it("merges nested entries and lets the second win on a conflict", () => {
    expect(
      mergeUiSchemas(
        { a: { "ui:widget": "expression" }, b: { c: { "ui:widget": "x" } } },
        { a: { "ui:field": "jsonValue" }, b: { d: 1 }, e: 2 },
      ),
    ).toEqual({ a: { "ui:widget": "expression", "ui:field": "jsonValue" }, b: { c: { "ui:widget": "x" }, d: 1 }, e: 2 });
  });
});
