import { describe, expect, it } from "vitest";

import {
  COMPENSATE_HANDLE,
  type GraphDoc,
  compensationOf,
  compensations,
  connectableTargets,
  connectionProblem,
  copySelection,
  edgeKind,
  handlesOf,
  isCompensateEdge,
  liveProblems,
  newNodeId,
  nodeProblem,
  prepareClip,
} from "./graph";
import { CATALOG } from "./testCatalog";

function graph(): GraphDoc {
  return {
    format: 1,
    nodes: [
      { id: "start", type: "trigger.manual", config: {}, position: { x: 0, y: 0 } },
      { id: "check", type: "logic.condition", config: { expression: "true" }, position: { x: 200, y: 0 } },
      { id: "shape", type: "data.transform", config: { value: 1 }, position: { x: 400, y: 0 } },
    ],
    edges: [
      { id: "e1", source: "start", target: "check" },
      { id: "e2", source: "check", source_handle: "true", target: "shape" },
    ],
  };
}

describe("handles", () => {
  it("come from the catalog, error included", () => {
    expect(handlesOf(graph().nodes[1], CATALOG)).toEqual(["true", "false", "error"]);
  });

  it("come from the config for a switch, then default and error", () => {
    const node = { id: "s", type: "logic.switch", config: { cases: [{ name: "big" }, { name: "small" }] } };
    expect(handlesOf(node, CATALOG)).toEqual(["big", "small", "default", "error"]);
  });
});

describe("connection rules", () => {
  it("allow a new edge from a named handle", () => {
    expect(connectionProblem(graph(), CATALOG, { source: "check", target: "shape", sourceHandle: "false" })).toBeNull();
  });

  it("allow the error handle of any step", () => {
    expect(connectionProblem(graph(), CATALOG, { source: "shape", target: "check", sourceHandle: "error" })).toMatch(/cycle/);
    const g = graph();
    g.nodes.push({ id: "oops", type: "data.transform", config: {} });
    expect(connectionProblem(g, CATALOG, { source: "shape", target: "oops", sourceHandle: "error" })).toBeNull();
  });

  it("refuse a cycle, with the reason", () => {
    expect(connectionProblem(graph(), CATALOG, { source: "shape", target: "start" })).toMatch(/trigger/);
    expect(connectionProblem(graph(), CATALOG, { source: "shape", target: "check" })).toMatch(/cycle/);
  });

  it("refuse an unknown handle, a loop on itself and a duplicate", () => {
    expect(connectionProblem(graph(), CATALOG, { source: "check", target: "shape", sourceHandle: "maybe" })).toMatch(
      /no output "maybe"/,
    );
    expect(connectionProblem(graph(), CATALOG, { source: "shape", target: "shape" })).toMatch(/itself/);
    expect(connectionProblem(graph(), CATALOG, { source: "check", target: "shape", sourceHandle: "true" })).toMatch(
      /already connected/,
    );
  });

  it("refuse a second trigger", () => {
    expect(nodeProblem(graph(), CATALOG, "trigger.manual")).toMatch(/exactly one trigger/);
    expect(nodeProblem(graph(), CATALOG, "data.transform")).toBeNull();
    expect(nodeProblem(graph(), CATALOG, "nope.nope")).toMatch(/unknown/);
  });
});

describe("ids", () => {
  it("are made from the type and never collide", () => {
    expect(newNodeId("logic.condition", [])).toBe("condition");
    expect(newNodeId("logic.condition", ["condition", "condition_2"])).toBe("condition_3");
  });
});

describe("paste", () => {
  it("gives fresh ids, keeps the edges between pasted steps, and drops the others", () => {
    const g = graph();
    const clip = copySelection(g, new Set(["check", "shape"]));

    const pasted = prepareClip(g, CATALOG, clip, { x: 10, y: 20 });

    expect(pasted.nodes.map((n) => n.id)).toEqual(["check_2", "shape_2"]);
    expect(pasted.nodes[0].position).toEqual({ x: 210, y: 20 });
    expect(pasted.edges).toEqual([{ id: "e3", source: "check_2", source_handle: "true", target: "shape_2" }]);
    expect(g.nodes[1].config).toEqual({ expression: "true" }); // the original is untouched
  });

  it("never pastes a second trigger", () => {
    const g = graph();
    const pasted = prepareClip(g, CATALOG, copySelection(g, new Set(["start", "check"])), { x: 0, y: 0 });
    expect(pasted.nodes.map((n) => n.type)).toEqual(["logic.condition"]);
    expect(pasted.edges).toEqual([]);
  });
});

describe("connectableTargets", () => {
  it("allows exactly what connectionProblem allows, for every step and handle", () => {
    const g = graph();
    g.nodes.push({ id: "late", type: "data.transform", config: {}, position: { x: 0, y: 0 } });
    g.edges.push({ id: "e3", source: "shape", target: "late" });
    for (const source of g.nodes) {
      for (const handle of handlesOf(source, CATALOG)) {
        const allowed = connectableTargets(g, CATALOG, source.id, handle).map((n) => n.id);
        const expected = g.nodes
          .filter((t) => connectionProblem(g, CATALOG, { source: source.id, target: t.id, sourceHandle: handle }) === null)
          .map((n) => n.id);
        expect(allowed).toEqual(expected);
      }
    }
    expect(connectableTargets(g, CATALOG, "late", "out")).toEqual([]);
    expect(connectableTargets(g, CATALOG, "start", "out").map((n) => n.id)).toEqual(["shape", "late"]);
  });
});

describe("compensation (issue 20)", () => {
  function saga(): GraphDoc {
    const g = graph();
    g.nodes.push(
      { id: "refund", type: "data.transform", config: {} },
      { id: "alarm", type: "data.transform", config: {} },
      { id: "stop", type: "flow.fail", config: {} },
    );
    return g;
  }
  const undo = (source: string, target: string) => ({ source, target, sourceHandle: COMPENSATE_HANDLE });

  it("classifies edges by their handle", () => {
    expect(edgeKind({ source_handle: "compensate" })).toBe("compensate");
    expect(edgeKind({ source_handle: "error" })).toBe("error");
    expect(edgeKind({ source_handle: "true" })).toBe("normal");
    expect(edgeKind({})).toBe("normal");
    expect(isCompensateEdge({ source_handle: "compensate" })).toBe(true);
    expect(isCompensateEdge({ source_handle: "out" })).toBe(false);
  });

  it("lets any step name a free step as its compensation", () => {
    expect(connectionProblem(saga(), CATALOG, undo("shape", "refund"))).toBeNull();
    // The handle is every node's, not the catalog's: a trigger has one too.
    expect(connectionProblem(saga(), CATALOG, undo("start", "refund"))).toBeNull();
  });

  it("finds the compensation of a step and the step a compensation undoes", () => {
    const g = saga();
    g.edges.push({ id: "c1", source: "shape", source_handle: "compensate", target: "refund" });
    expect(compensationOf(g.edges, "shape")).toBe("refund");
    expect(compensationOf(g.edges, "check")).toBeNull();
    expect([...compensations(g.edges)]).toEqual([["refund", "shape"]]);
  });

  it("refuses what the server refuses", () => {
    const g = saga();
    expect(connectionProblem(g, CATALOG, undo("shape", "stop"))).toMatch(/cannot undo/); // compensation_type
    expect(connectionProblem(g, CATALOG, undo("shape", "start"))).toMatch(/cannot undo/);
    expect(connectionProblem(g, CATALOG, undo("check", "shape"))).toMatch(/reached by the flow/); // compensation_reachable
    expect(connectionProblem(g, CATALOG, undo("shape", "shape"))).toMatch(/itself/);
    g.edges.push({ id: "c1", source: "shape", source_handle: "compensate", target: "refund" });
    expect(connectionProblem(g, CATALOG, undo("check", "refund"))).toMatch(/already undoes shape/); // compensation_shared
    expect(connectionProblem(g, CATALOG, undo("refund", "alarm"))).toMatch(/no compensation of its own/); // compensation_nested
    expect(connectionProblem(g, CATALOG, undo("shape", "alarm"))).toMatch(/already undone by refund/);
    // A normal edge into a compensation, or on from it (only error may lead on).
    expect(connectionProblem(g, CATALOG, { source: "check", target: "refund", sourceHandle: "false" })).toMatch(/only its compensate/);
    expect(connectionProblem(g, CATALOG, { source: "refund", target: "alarm" })).toMatch(/only its error output/); // compensation_has_edges
    expect(connectionProblem(g, CATALOG, { source: "refund", target: "alarm", sourceHandle: "error" })).toBeNull();
  });

  it("refuses a step that leads on as a compensation, but not one with an error path", () => {
    const g = saga();
    g.edges.push({ id: "e9", source: "alarm", target: "stop" });
    expect(connectionProblem(g, CATALOG, undo("shape", "alarm"))).toMatch(/leads on/);
    g.edges = g.edges.filter((e) => e.id !== "e9");
    g.edges.push({ id: "e9", source: "alarm", source_handle: "error", target: "stop" });
    expect(connectionProblem(g, CATALOG, undo("shape", "alarm"))).toBeNull();
  });

  it("offers as compensations only the steps allowed, and no normal edge into one", () => {
    const g = saga();
    expect(connectableTargets(g, CATALOG, "shape", COMPENSATE_HANDLE).map((n) => n.id)).toEqual(["refund", "alarm"]);
    g.edges.push({ id: "c1", source: "shape", source_handle: "compensate", target: "refund" });
    expect(connectableTargets(g, CATALOG, "check", "false").map((n) => n.id)).not.toContain("refund");
    expect(connectableTargets(g, CATALOG, "refund", "out")).toEqual([]);
    expect(connectableTargets(g, CATALOG, "refund", "error").map((n) => n.id)).toContain("alarm");
  });

  it("does not report a compensate edge as an unknown output, nor its target as unreachable", () => {
    const g = saga();
    g.nodes = g.nodes.filter((n) => n.id !== "alarm" && n.id !== "stop");
    g.edges.push({ id: "c1", source: "shape", source_handle: "compensate", target: "refund" });
    expect(liveProblems(g, CATALOG)).toEqual([]);
  });
});
