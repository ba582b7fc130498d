import { describe, expect, it } from "vitest";

import { diffGraphs, overlayGraph } from "./diff";
import type { GraphDoc } from "./graph";

function v1(): GraphDoc {
  return {
    format: 1,
    nodes: [
      { id: "start", type: "trigger.manual", config: {}, position: { x: 0, y: 0 } },
      { id: "a", type: "data.transform", config: { value: 1 }, position: { x: 200, y: 0 } },
      { id: "b", type: "data.transform", config: { value: 2 }, position: { x: 400, y: 0 } },
      { id: "c", type: "data.transform", config: { value: 3 }, position: { x: 600, y: 0 } },
    ],
    edges: [
      { id: "e1", source: "start", target: "a" },
      { id: "e2", source: "a", target: "b" },
      { id: "e3", source: "b", target: "c" },
    ],
  };
}

describe("diffGraphs", () => {
  it("finds nothing between equal graphs", () => {
    const diff = diffGraphs(v1(), v1());
    expect(diff.nodes.size).toBe(0);
    expect(diff.edges).toEqual({ added: [], removed: [] });
    expect(diff.other).toEqual([]);
  });

  it("tells added, removed, changed and moved nodes, and the changed fields", () => {
    const v2 = v1();
    v2.nodes = v2.nodes.filter((n) => n.id !== "c");
    v2.nodes[1] = { ...v2.nodes[1], config: { value: 10 }, label: "A" };
    v2.nodes[2] = { ...v2.nodes[2], position: { x: 420, y: 40 } };
    v2.nodes.push({ id: "d", type: "flow.fail", config: {} });
    v2.edges = [
      { id: "e1", source: "start", target: "a" },
      { id: "e2", source: "a", target: "b" },
      { id: "e9", source: "b", target: "d" },
    ];
    v2.input_schema = { type: "object" };
    const diff = diffGraphs(v1(), v2);
    expect(Object.fromEntries(diff.nodes)).toEqual({ a: "changed", b: "moved", c: "removed", d: "added" });
    expect(diff.fields.get("a")).toEqual(["label", "config.value"]);
    expect(diff.edges.added.map((e) => e.id)).toEqual(["e9"]);
    expect(diff.edges.removed.map((e) => e.id)).toEqual(["e3"]);
    expect(diff.other).toEqual(["input_schema"]);
  });

  it("matches edges by what they connect, not by id", () => {
    const v2 = v1();
    v2.edges = v2.edges.map((e, i) => ({ ...e, id: `x${i}` }));
    expect(diffGraphs(v1(), v2).edges).toEqual({ added: [], removed: [] });
    v2.edges[1] = { ...v2.edges[1], source_handle: "error" };
    const diff = diffGraphs(v1(), v2);
    expect(diff.edges.added.map((e) => e.id)).toEqual(["x1"]);
    expect(diff.edges.removed.map((e) => e.id)).toEqual(["e2"]);
  });

  it("overlays the removed nodes and edges on the newer graph with ids of their own", () => {
    const v2 = v1();
    v2.nodes.pop();
    v2.edges = [{ id: "e1", source: "start", target: "a" }, { id: "removed_e3", source: "a", target: "b" }];
    const overlay = overlayGraph(v1(), v2, diffGraphs(v1(), v2));
    expect(overlay.nodes.map((n) => n.id)).toEqual(["start", "a", "b", "c"]);
    const ids = overlay.edges.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(overlay.edges.filter((e) => e.target === "c")).toHaveLength(1);
  });
});
