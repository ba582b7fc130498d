import { describe, expect, it } from "vitest";

import { ApiError } from "../api";
import { dataFromRun, expectationOf, failedTests, resultSummary, schemaOfValue, startingText } from "./stepTests";

describe("the Save as test form", () => {
  it("prefills equals with the output and a schema with one the output is valid against", () => {
    expect(JSON.parse(startingText("equals", { total: 42 }))).toEqual({ total: 42 });
    expect(JSON.parse(startingText("schema", { total: 42, tags: ["a"], note: null }))).toEqual({
      type: "object",
      required: ["total", "tags", "note"],
      properties: { total: { type: "integer" }, tags: { type: "array", items: { type: "string" } }, note: { type: "null" } },
    });
    expect(schemaOfValue(1.5)).toEqual({ type: "number" });
  });

  it("turns the text into an expectation, or says why it cannot", () => {
    expect(expectationOf("equals", "null")).toEqual({ expectation: { kind: "equals", value: null }, error: null });
    expect(expectationOf("schema", '{"type": "object"}').expectation).toEqual({ kind: "schema", schema: { type: "object" } });
    expect(expectationOf("schema", "[1]").error).toBe("a JSON Schema is an object");
    expect(expectationOf("equals", "{nope").error).toBeTruthy();
    expect(expectationOf("expression", "  output.ok  ").expectation).toEqual({ kind: "expression", expression: "output.ok" });
    expect(expectationOf("expression", " ").expectation).toBeNull();
  });

  it("saves the outputs the steps above had in the test run, without the trigger or steps that did not succeed", () => {
    const steps = [
      { node: "start", status: "succeeded", output: {} },
      { node: "fetch", status: "succeeded", output: { a: 1 } },
      { node: "other", status: "skipped", output: null },
      { node: "shape", status: "succeeded", output: { total: 2 } },
    ];
    expect(dataFromRun(steps, ["fetch", "other", "start"], new Set(["start"]))).toEqual({ fetch: { a: 1 } });
  });
});

describe("results", () => {
  const result = (name: string, passed: boolean) => ({ name, node: "n", passed, failures: [], run: 1, duration_ms: 3 });

  it("summarises a run of the tests", () => {
    expect(resultSummary({ passed: true, results: [result("a", true), result("b", true)] })).toBe("All 2 passed");
    expect(resultSummary({ passed: false, results: [result("a", true), result("b", false)] })).toBe("1 of 2 passed");
    expect(resultSummary({ passed: true, results: [] })).toBe("No tests ran");
  });

  it("reads the results out of a save refused for failing tests, and only that 409", () => {
    const refused = new ApiError(409, [{ node: "n", edge: null, field: null, code: "tests_failed", message: "x" }], {
      results: [result("b", false)],
    });
    const stale = new ApiError(409, [{ node: null, edge: null, field: "base_version", code: "stale_version", message: "x" }], {
      latest_version: 3,
    });
    expect(failedTests(refused)?.results.map((r) => r.name)).toEqual(["b"]);
    expect(failedTests(stale)).toBeNull();
    expect(failedTests(new Error("x"))).toBeNull();
  });
});
