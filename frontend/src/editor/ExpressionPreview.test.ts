import { describe, expect, it } from "vitest";

import { needsPreview, previewSource, shownValue } from "./ExpressionPreview";

describe("the value shown under an expression field", () => {
  it("is asked for an expression, or a template with a placeholder or a tag", () => {
    expect(needsPreview("input.amount > 10", "expression")).toBe(true);
    expect(needsPreview("Hello {{ input.name }}", "template")).toBe(true);
    expect(needsPreview("{% if input.a %}yes{% endif %}", "template")).toBe(true);
    expect(needsPreview("plain text", "template")).toBe(false);
    expect(needsPreview("   ", "expression")).toBe(false);
    // A map's per-item field: item and index exist only while a run maps a list.
    expect(needsPreview("{{ item.sku }}", "template", true)).toBe(false);
  });

  it("is one line of JSON, cut when long", () => {
    expect(shownValue({ a: [1, "x"] })).toBe('{"a":[1,"x"]}');
    expect(shownValue(null)).toBe("null");
    expect(shownValue("x".repeat(10), 5)).toBe('"xxxx…');
  });
});

describe("what a preview was computed with", () => {
  it("names the run and the pins over it", () => {
    expect(previewSource(12, 0)).toBe("In run 12");
    expect(previewSource(12, 2)).toBe("In run 12 with pins");
    expect(previewSource(null, 1)).toBe("With pins");
  });
});
