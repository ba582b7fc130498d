import { describe, expect, it } from "vitest";

import type { Catalog, GraphDoc } from "../editor/graph";
import type { LiveEvent } from "../live";
import { sortRuns } from "../runslist/model";
import { ACTIVE_RUN_STATUSES, COMPENSATION_COLOR, RUN_STATUSES, statusLook, statusVar } from "../status";
import { compensationBarColours, compensationLinks, compensationVar, isCompensation } from "./compensation";
import { type Run, type RunStep, RunFlowNodes, applyEvents, eventSummary, needsRead, runEdges } from "./model";

function step(node: string, status: string, more: Partial<RunStep> = {}): RunStep {
  return { node, type: "code.function", status, attempt: 1, error: null, started_at: null, finished_at: null, ...more };
}

// pay -> ship; pay is undone by refund, ship by recall (issue 20's saga).
const graph: GraphDoc = {
  format: 1,
  nodes: [
    { id: "pay", type: "code.function", label: "Pay", config: {} },
    { id: "ship", type: "code.function", label: "Ship", config: {} },
    { id: "refund", type: "code.function", label: "Refund", config: {} },
    { id: "recall", type: "code.function", config: {} },
  ],
  edges: [
    { id: "e1", source: "pay", target: "ship" },
    { id: "c1", source: "pay", source_handle: "compensate", target: "refund" },
    { id: "c2", source: "ship", source_handle: "compensate", target: "recall" },
  ],
};
const catalog = {
  "code.function": { type: "code.function", title: "Function", category: "code", handles: ["out", "error"] },
} as unknown as Catalog;

describe("the run status compensating", () => {
  it("is orange and active, a run status the runs list filters and counts as in progress", () => {
    expect(statusLook("compensating")).toEqual({ color: "orange", label: "compensating", active: true });
    expect(COMPENSATION_COLOR).toBe("orange");
    expect(statusVar("compensating")).toBe("var(--mantine-color-orange-filled)");
    expect(RUN_STATUSES).toContain("compensating");
    expect(ACTIVE_RUN_STATUSES).toContain("compensating");
  });

  it("sorts among the unfinished runs, before the failed", () => {
    const row = (id: number, status: string) =>
      ({ id, status, workflow_name: "w", created_at: "2026-01-01T00:00:00Z", started_at: null, finished_at: null }) as never;
    const sorted = sortRuns([row(1, "failed"), row(2, "compensating"), row(3, "running")], { columnAccessor: "status", direction: "asc" });
    expect(sorted.map((r: { id: number }) => r.id)).toEqual([3, 2, 1]);
  });

  it("moves a cached run on from a run event, and asks for a read of its new steps", () => {
    const run = { id: 5, status: "running", steps: [], last_event_id: 1 } as unknown as Run;
    const moved: LiveEvent = {
      id: 2, run: 5, node: "", type: "run.compensating", old_status: "running", new_status: "compensating",
      attempt: null, actor: null, created_at: "2026-01-01T00:00:01Z", data: { steps: ["pay"] },
    };
    expect(applyEvents(run, [moved]).status).toBe("compensating");
    expect(eventSummary(moved)).toBe("running → compensating; to undo: pay");
    expect(needsRead([moved])).toBe(true);
    expect(needsRead([{ ...moved, id: 3, node: "refund", type: "compensation.started", old_status: "", new_status: "" }])).toBe(true);
  });
});

describe("which step undid which", () => {
  it("comes from the steps' fields, the graph naming compensations that have no row yet", () => {
    const links = compensationLinks(
      [step("pay", "succeeded", { compensated_by: "refund" }), step("refund", "running", { compensates: "pay" })],
      graph,
    );
    expect(links.get("refund")).toEqual({ undoes: "pay", undoneBy: null });
    expect(links.get("pay")).toEqual({ undoes: null, undoneBy: "refund" });
    // recall has no row: it is a compensation (drawn orange), ship is not yet undone by it.
    expect(links.get("recall")).toEqual({ undoes: "ship", undoneBy: null });
    expect(links.get("ship")).toBeUndefined();
    expect(isCompensation(links, "recall")).toBe(true);
    expect(isCompensation(links, "pay")).toBe(false);
  });

  it("works from the steps alone (the timeline has no graph)", () => {
    const links = compensationLinks([step("refund", "succeeded", { compensates: "pay" }), step("ship", "failed")], null);
    expect(links.get("pay")?.undoneBy).toBe("refund");
    expect(links.get("refund")?.undoes).toBe("pay");
    expect(links.has("ship")).toBe(false);
  });

  it("colours a compensation's bars orange, a failed attempt in the failure's colour", () => {
    expect(compensationBarColours("succeeded", statusVar)).toEqual({ bar: compensationVar(), light: compensationVar("light") });
    expect(compensationBarColours("running", statusVar).bar).toBe("var(--mantine-color-orange-filled)");
    expect(compensationBarColours("failed", statusVar)).toEqual({ bar: statusVar("failed"), light: statusVar("failed", "light") });
  });
});

describe("compensation on the run graph", () => {
  const positions = { pay: { x: 0, y: 0 }, ship: { x: 300, y: 0 }, refund: { x: 0, y: 120 }, recall: { x: 300, y: 120 } };

  it("draws compensate edges orange: dashed until the compensation runs, animated while it does", () => {
    const before = runEdges(graph, new Map([["pay", step("pay", "succeeded", { handle: "out" })]]));
    const c1 = before.find((e) => e.id === "c1")!;
    expect(c1).toMatchObject({ sourceHandle: "compensate", targetHandle: "compensation", label: "undo", className: "edge-compensate", animated: false });
    expect(c1.style).toMatchObject({ stroke: compensationVar(), strokeDasharray: "6 4" });
    expect(c1.ariaLabel).toBe("Compensation: refund undoes pay");
    // The flow never takes it: pay succeeded by "out", the compensate edge is not "taken".
    expect(before.find((e) => e.id === "e1")!.className).toBe("edge-idle");

    const running = runEdges(graph, new Map([["refund", step("refund", "running", { compensates: "pay" })]]));
    expect(running.find((e) => e.id === "c1")).toMatchObject({ animated: true, className: "edge-compensating" });
    const ran = runEdges(graph, new Map([["refund", step("refund", "succeeded", { compensates: "pay" })]]));
    const done = ran.find((e) => e.id === "c1")!;
    expect(done.className).toBe("edge-compensated");
    expect(done.style?.strokeDasharray).toBeUndefined();
    expect(done.ariaLabel).toBe("Compensation: refund undoes pay (ran)");
  });

  it("marks compensations and undone steps, and keeps the compensate handle apart from the outputs", () => {
    const flow = new RunFlowNodes();
    const steps = new Map([
      ["pay", step("pay", "succeeded", { compensated_by: "refund" })],
      ["ship", step("ship", "failed")],
      ["refund", step("refund", "running", { compensates: "pay" })],
    ]);
    const nodes = flow.build(graph, catalog, steps, positions, null);
    const byId = new Map(nodes.map((n) => [n.id, n.data]));
    expect(byId.get("pay")).toMatchObject({ handles: ["out"], compensable: true, undoes: null, undoneBy: "Refund" });
    expect(byId.get("refund")).toMatchObject({ handles: [], compensable: false, undoes: "Pay", undoneBy: null });
    expect(byId.get("recall")).toMatchObject({ undoes: "Ship" });
    expect(byId.get("ship")).toMatchObject({ compensable: true, undoes: null, undoneBy: null });
    // A node whose compensation links are unchanged is reused.
    const again = flow.build(graph, catalog, steps, positions, null);
    expect(again[0]).toBe(nodes[0]);
  });
});
