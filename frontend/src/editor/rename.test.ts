import { describe, expect, it } from "vitest";

import { type GraphDoc, countReferences, liveProblems, renameNode } from "./graph";
import { CATALOG } from "./testCatalog";

function graph(): GraphDoc {
  return {
    format: 1,
    nodes: [
      { id: "start", type: "trigger.manual", config: {} },
      { id: "fetch", type: "data.transform", config: { value: "{{ input.id }}" } },
      {
        id: "shape",
        type: "data.transform",
        config: {
          value: { a: "{{ steps.fetch.output.x }}", b: ["{{ steps['fetch'].output }}", "steps.fetcher"] },
          other: "{{ steps.fetch_2.output }}",
        },
      },
    ],
    edges: [
      { id: "e1", source: "start", target: "fetch" },
      { id: "e2", source: "fetch", target: "shape" },
    ],
    output: { result: "{{ steps.fetch.output }}" },
  };
}

describe("renameNode", () => {
  it("moves the edges and every steps.<id> reference, and no look-alike", () => {
    const renamed = renameNode(graph(), "fetch", "load") as GraphDoc;
    expect(renamed.nodes.map((n) => n.id)).toEqual(["start", "load", "shape"]);
    expect(renamed.edges).toEqual([
      { id: "e1", source: "start", target: "load" },
      { id: "e2", source: "load", target: "shape" },
    ]);
    expect(renamed.nodes[2].config).toEqual({
      value: { a: "{{ steps.load.output.x }}", b: ["{{ steps['load'].output }}", "steps.fetcher"] },
      other: "{{ steps.fetch_2.output }}",
    });
    expect(renamed.output).toEqual({ result: "{{ steps.load.output }}" });
  });

  it("refuses an id that is taken or malformed, and leaves the graph alone", () => {
    const before = graph();
    expect(renameNode(before, "fetch", "shape")).toMatch(/already the id/);
    expect(renameNode(before, "fetch", "Load")).toMatch(/lowercase/);
    expect(renameNode(before, "fetch", "")).toMatch(/lowercase/);
    expect(renameNode(before, "fetch", "fetch")).toBe(before);
    expect(before).toEqual(graph());
  });

  it("counts the references a rename would change", () => {
    const g = graph();
    expect(countReferences(g.nodes.map((n) => n.config), "fetch")).toBe(2);
    expect(countReferences(g.output, "fetch")).toBe(1);
    expect(countReferences(g.nodes.map((n) => n.config), "shape")).toBe(0);
  });
});

describe("liveProblems", () => {
  it("finds no problem in a connected graph", () => {
    expect(liveProblems(graph(), CATALOG)).toEqual([]);
  });

  it("names the missing trigger, an unreachable step and a vanished output", () => {
    const g = graph();
    g.nodes.push({ id: "lost", type: "data.transform", config: {} });
    g.nodes.push({ id: "check", type: "logic.condition", config: {} });
    g.edges.push({ id: "e3", source: "shape", target: "check" });
    g.edges.push({ id: "e4", source: "check", source_handle: "maybe", target: "lost" });
    const found = liveProblems(g, CATALOG).map((p) => [p.code, p.node, p.edge]);
    expect(found).toEqual([["unknown_handle", "check", "e4"]]);
    g.edges.pop();
    expect(liveProblems(g, CATALOG).map((p) => [p.code, p.node])).toEqual([["unreachable", "lost"]]);
    g.nodes.shift();
    expect(liveProblems(g, CATALOG).map((p) => p.code)).toContain("no_trigger");
  });

  it("names an empty required config field with its field path", () => {
    const catalog = {
      ...CATALOG,
      "logic.condition": { ...CATALOG["logic.condition"], config_schema: { required: ["expression"] } },
    };
    const g = graph();
    g.nodes.push({ id: "check", type: "logic.condition", config: { expression: "" } });
    g.edges.push({ id: "e3", source: "shape", target: "check" });
    expect(liveProblems(g, catalog)).toEqual([
      { code: "required", message: "expression is required", node: "check", edge: null, field: "config.expression" },
    ]);
  });
});
