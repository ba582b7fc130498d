import { describe, expect, it } from "vitest";

import {
  type ComparedStep,
  changedParts,
  comparePair,
  comparePath,
  differs,
  edgeLabel,
  onlyIn,
  parseComparePath,
  summary,
} from "./model";
import { diffHtml } from "./jsonDiff";

const side = { status: "succeeded", attempts: 1, duration_ms: 10, started_at: null, finished_at: null, input: {}, output: 1, error: null };
const same = { status: false, attempts: false, input: false, output: false, error: false };

function step(node: string, changes: Partial<typeof same> = {}, a: typeof side | null = side, b: typeof side | null = side): ComparedStep {
  return { node, type: "code.function", a, b, changed: { ...same, ...changes } };
}

describe("the compare page's address", () => {
  it("goes there and back", () => {
    expect(comparePath(3, 41)).toBe("/runs/compare/3/41");
    expect(parseComparePath("compare/3/41")).toEqual({ a: 3, b: 41 });
    expect(parseComparePath("compare/3/41/")).toEqual({ a: 3, b: 41 });
  });

  it("refuses what is not two ids", () => {
    for (const rest of ["compare/3", "compare/x/4", "compare/3/4/5", "3", "compare//4"]) {
      expect(parseComparePath(rest)).toBeNull();
    }
  });
});

describe("comparePair", () => {
  it("puts the older run first", () => {
    expect(comparePair([41, 3])).toEqual([3, 41]);
  });

  it("needs exactly two runs", () => {
    expect(comparePair([1])).toBeNull();
    expect(comparePair([1, 2, 3])).toBeNull();
  });
});

describe("what differs", () => {
  it("lists the changed parts in the table's order", () => {
    const s = step("calc", { output: true, status: true });
    expect(changedParts(s)).toEqual(["status", "output"]);
    expect(differs(s)).toBe(true);
    expect(differs(step("same"))).toBe(false);
  });

  it("says which run alone has a step", () => {
    const added = step("new", { status: true, output: true }, null, side);
    expect(onlyIn(added)).toBe("b");
    expect(changedParts(added)).toEqual([]);
    expect(differs(added)).toBe(true);
    expect(onlyIn(step("both"))).toBeNull();
  });

  it("sums the steps up", () => {
    expect(summary([step("a"), step("b")])).toBe("No step differs (2 compared)");
    expect(summary([step("a", { output: true }), step("b")])).toBe("1 of 2 steps differs");
    expect(summary([step("a", { output: true }), step("b", { input: true }), step("c")])).toBe("2 of 3 steps differ");
  });

  it("names an edge by its ends and any handle but the default", () => {
    expect(edgeLabel({ source: "a", source_handle: "out", target: "b" })).toBe("a → b");
    expect(edgeLabel({ source: "a", source_handle: "error", target: "b" })).toBe("a (error) → b");
  });
});

describe("diffHtml", () => {
  it("is null for equal values", () => {
    expect(diffHtml({ a: [1, 2] }, { a: [1, 2] })).toBeNull();
    expect(diffHtml(undefined, null)).toBeNull();
  });

  it("marks the changed value with both sides", () => {
    const html = diffHtml({ total: 2, name: "x" }, { total: 3, name: "x" }) ?? "";
    expect(html).toContain("jsondiffpatch-modified");
    expect(html).toContain('data-key="total"');
    expect(html).toContain("jsondiffpatch-unchanged");
  });

  it("escapes what it shows", () => {
    const html = diffHtml({ v: "a" }, { v: "<img src=x onerror=alert(1)>" }) ?? "";
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img");
  });

  it("shows a value that appears from nothing", () => {
    expect(diffHtml(null, { ok: true })).toContain("ok");
  });
});
