import { describe, expect, it } from "vitest";

import { fieldNameProblem, fieldsOf, schemaOf } from "./inputSchema";

const INVOICE = {
  type: "object",
  required: ["invoice", "amount"],
  properties: {
    invoice: { type: "string", title: "Invoice number" },
    amount: { type: "number", minimum: 0, title: "Amount (EUR)" },
    supplier: { type: "string" },
  },
};

describe("input fields", () => {
  it("reads the fields of a schema", () => {
    expect(fieldsOf(INVOICE)).toEqual([
      { name: "invoice", type: "string", title: "Invoice number", required: true },
      { name: "amount", type: "number", title: "Amount (EUR)", required: true },
      { name: "supplier", type: "string", title: "", required: false },
    ]);
    expect(fieldsOf(undefined)).toEqual([]);
  });

  it("writes them back unchanged, keeping keywords it does not show", () => {
    expect(schemaOf(fieldsOf(INVOICE), INVOICE)).toEqual(INVOICE);
  });

  it("drops the keywords of a field whose type changed, and the schema when no field is left", () => {
    const fields = fieldsOf(INVOICE).map((f) => (f.name === "amount" ? { ...f, type: "string" as const, required: false } : f));
    const schema = schemaOf(fields, INVOICE) as typeof INVOICE;
    expect(schema.properties.amount).toEqual({ type: "string", title: "Amount (EUR)" });
    expect(schema.required).toEqual(["invoice"]);
    expect(schemaOf([], INVOICE)).toBeUndefined();
  });

  it("refuses names that expressions could not reach", () => {
    expect(fieldNameProblem("amount", ["invoice"])).toBeNull();
    expect(fieldNameProblem("1st", [])).toMatch(/letters/);
    expect(fieldNameProblem("a b", [])).toMatch(/letters/);
    expect(fieldNameProblem("invoice", ["invoice"])).toMatch(/already/);
  });
});
