import { describe, expect, it } from "vitest";

import { parseJsonValue, showJsonValue } from "./jsonValue";

describe("JSON value fields", () => {
  it("read JSON as JSON and anything else as a string", () => {
    expect(parseJsonValue('{"a": [1, true]}')).toEqual({ a: [1, true] });
    expect(parseJsonValue("42")).toBe(42);
    expect(parseJsonValue("{{ input.amount }}")).toBe("{{ input.amount }}");
    expect(parseJsonValue("Hello {{ input.name }}")).toBe("Hello {{ input.name }}");
    expect(parseJsonValue("  ")).toBeUndefined();
  });

  it("show every value so that it reads back the same", () => {
    for (const value of [{ a: 1 }, [1, "x"], 3, true, null, "plain", "42", "true", '"quoted"', "{{ x }}"]) {
      expect(parseJsonValue(showJsonValue(value))).toEqual(value);
    }
    expect(showJsonValue("plain")).toBe("plain");
    expect(showJsonValue("42")).toBe('"42"');
  });
});
