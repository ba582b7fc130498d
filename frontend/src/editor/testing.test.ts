import { describe, expect, it } from "vitest";

import { ApiError } from "../api";
import type { GraphDoc } from "./graph";
import { type Pins, effectsToConfirm, parseJson, upstreamOf, upstreamSources } from "./testing";

// start > fetch > shape > notify, and start > audit (a side branch nothing below needs).
const graph: GraphDoc = {
  format: 1,
  nodes: ["start", "fetch", "shape", "notify", "audit"].map((id) => ({
    id,
    type: id === "start" ? "trigger.manual" : "data.transform",
    config: {},
  })),
  edges: [
    { id: "e1", source: "start", target: "fetch" },
    { id: "e2", source: "fetch", target: "shape" },
    { id: "e3", source: "shape", target: "notify" },
    { id: "e4", source: "start", target: "audit" },
  ],
};
const TRIGGERS = new Set(["start"]);
const pin = (output: unknown): Pins[string] => ({ output, handle: "", pinned_by: "alice", pinned_at: "" });

describe("where a test takes the outputs of the steps above", () => {
  it("lists the steps above, nearest first, and only those", () => {
    expect(upstreamOf(graph, "notify")).toEqual(["shape", "fetch", "start"]);
    expect(upstreamOf(graph, "start")).toEqual([]);
  });

  it("runs what has no output anywhere, with its parents", () => {
    expect(upstreamSources(graph, "notify", "step", {}, null, {}, TRIGGERS)).toEqual([
      { node: "shape", source: "runs" },
      { node: "fetch", source: "runs" },
      { node: "start", source: "runs" },
    ]);
  });

  it("takes typed data before pins before the newest run, and needs nothing above them", () => {
    const sample = { run: 7, outputs: { shape: 2 } };
    const sources = upstreamSources(graph, "notify", "step", { shape: pin(5) }, sample, {}, TRIGGERS);
    expect(sources).toEqual([
      { node: "shape", source: "pin" },
      { node: "fetch", source: "unneeded" },
      { node: "start", source: "unneeded" },
    ]);
    const typed = upstreamSources(graph, "notify", "step", { shape: pin(5) }, sample, { shape: 9 }, TRIGGERS);
    expect(typed[0]).toEqual({ node: "shape", source: "typed" });
    const withFetch = { run: 7, outputs: { fetch: { n: 1 } } };
    expect(upstreamSources(graph, "shape", "step", {}, withFetch, {}, TRIGGERS)[0]).toEqual({
      node: "fetch",
      source: "run",
      run: 7,
    });
  });

  it("runs up to here without the newest run's outputs, only pins", () => {
    const sample = { run: 7, outputs: { fetch: { n: 1 } } };
    expect(upstreamSources(graph, "shape", "upto", {}, sample, {}, TRIGGERS)).toEqual([
      { node: "fetch", source: "runs" },
      { node: "start", source: "runs" },
    ]);
  });
});

describe("a test refused for its effects outside", () => {
  it("names the steps to confirm from a 409, and nothing for other errors", () => {
    const item = { node: "pay", edge: null, field: "confirm_effects", code: "confirm_effects", message: "m" };
    expect(effectsToConfirm(new ApiError(409, [item], {}))).toEqual([item]);
    expect(effectsToConfirm(new ApiError(409, [{ ...item, code: "archived" }], {}))).toBeNull();
    expect(effectsToConfirm(new ApiError(400, [item], {}))).toBeNull();
    expect(effectsToConfirm(new Error("x"))).toBeNull();
  });

  it("parses typed JSON or says why not", () => {
    expect(parseJson('{"a": 1}')).toEqual({ value: { a: 1 }, error: null });
    expect(parseJson("{a").error).toBeTruthy();
  });
});
