import { describe, expect, it } from "vitest";

import type { Catalog, GraphDoc } from "../editor/graph";
import {
  type RunStep,
  RunFlowNodes,
  STEP_STATUSES,
  eventSummary,
  formatDuration,
  idempotencyKey,
  mergeEvents,
  parseInput,
  runEdges,
  statusStyle,
  timeline,
} from "./model";

function step(node: string, status: string, started: string | null, finished: string | null, more: Partial<RunStep> = {}): RunStep {
  return { node, type: "code.function", status, attempt: 1, error: null, started_at: started, finished_at: finished, ...more };
}

describe("statusStyle", () => {
  it("gives every step status its own tone and colours", () => {
    const tones = new Set(STEP_STATUSES.map((s) => statusStyle(s).tone));
    expect(tones.size).toBe(9);
    const fills = new Set(STEP_STATUSES.map((s) => statusStyle(s).fill));
    expect(fills.size).toBe(9);
    expect(statusStyle("failed")).toMatchObject({ tone: "failed", label: "failed", active: false });
    expect(statusStyle("running").active).toBe(true);
  });

  it("shows an unknown status as pending, under its own name", () => {
    expect(statusStyle("paused")).toMatchObject({ tone: "pending", label: "paused" });
    expect(statusStyle(undefined).label).toBe("not started");
  });
});

describe("timeline", () => {
  const t0 = "2026-01-01T00:00:00Z";
  const at = (s: number) => new Date(Date.parse(t0) + s * 1000).toISOString();

  it("places bars on one scale from the first start to the last end", () => {
    const chart = timeline(
      [step("a", "succeeded", at(0), at(2)), step("b", "succeeded", at(2), at(10)), step("c", "pending", null, null)],
      Date.parse(at(100)),
    );
    expect(chart).not.toBeNull();
    expect(chart!.bars.map((b) => b.node)).toEqual(["a", "b"]);
    expect(chart!.bars[0]).toMatchObject({ left: 0, width: 20, duration: 2000, open: false });
    expect(chart!.bars[1]).toMatchObject({ left: 20, width: 80, duration: 8000 });
  });

  it("runs an open step to now, and gives an instant step a visible width", () => {
    const chart = timeline([step("a", "succeeded", at(0), at(0)), step("b", "running", at(0), null)], Date.parse(at(4)));
    expect(chart!.bars.find((b) => b.node === "b")).toMatchObject({ left: 0, width: 100, duration: null, open: true });
    expect(chart!.bars.find((b) => b.node === "a")!.width).toBe(0.5);
  });

  it("keeps a waiting step's wake-up time", () => {
    const chart = timeline([step("wait", "waiting", at(0), null, { wake_at: at(60) })], Date.parse(at(5)));
    expect(chart!.bars[0]).toMatchObject({ open: true, wakeAt: at(60), width: 100 });
  });

  it("is null before any step started", () => {
    expect(timeline([step("a", "queued", null, null)], 0)).toBeNull();
  });

  it("formats durations", () => {
    expect(formatDuration(null)).toBe("still going");
    expect(formatDuration(12)).toBe("12 ms");
    expect(formatDuration(1500)).toBe("1.5 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
  });
});

describe("events", () => {
  it("summarises a change of status with its reason, error and edit", () => {
    expect(eventSummary({ old_status: "running", new_status: "failed", attempt: 2, data: { error: { message: "boom" } } })).toBe(
      "running → failed; attempt 2; error: boom",
    );
    expect(eventSummary({ old_status: "failed", new_status: "queued", attempt: 1, data: { reason: "fixed", input: { a: 1 } } })).toBe(
      'failed → queued; reason: fixed; edited input: {"a":1}',
    );
    expect(eventSummary({ old_status: "", new_status: "", attempt: null, data: { handle: "out" } })).toBe('{"handle":"out"}');
  });

  it("merges events in id order without duplicates", () => {
    const e = (id: number) => ({ id });
    expect(mergeEvents([e(1), e(3)], [e(3), e(2), e(4)]).map((x) => x.id)).toEqual([1, 2, 3, 4]);
  });
});

describe("the run graph", () => {
  const catalog: Catalog = {
    "code.function": { type: "code.function", title: "Function", category: "code", handles: ["out", "error"] },
  } as unknown as Catalog;
  const graph: GraphDoc = {
    format: 1,
    nodes: [
      { id: "a", type: "code.function", config: {} },
      { id: "b", type: "code.function", config: {} },
    ],
    edges: [{ id: "e0", source: "a", target: "b" }],
  };
  const positions = { a: { x: 0, y: 0 }, b: { x: 300, y: 0 } };

  it("reuses a node object while its step is unchanged", () => {
    const flow = new RunFlowNodes();
    const first = flow.build(
      graph,
      catalog,
      new Map([
        ["a", step("a", "running", null, null)],
        ["b", step("b", "pending", null, null)],
      ]),
      positions,
      null,
    );
    expect(first.map((n) => n.data.status)).toEqual(["running", "pending"]);
    const second = flow.build(
      graph,
      catalog,
      new Map([
        ["a", step("a", "succeeded", null, null)],
        ["b", step("b", "pending", null, null)],
      ]),
      positions,
      null,
    );
    expect(second[0]).not.toBe(first[0]);
    expect(second[0].data.status).toBe("succeeded");
    expect(second[1]).toBe(first[1]);
  });

  it("animates an edge into a running step", () => {
    const steps = new Map([
      ["a", step("a", "succeeded", null, null, { handle: "out" })],
      ["b", step("b", "running", null, null)],
    ]);
    const [edge] = runEdges(graph, steps);
    expect(edge.animated).toBe(true);
    expect(edge.className).toBe("edge-running");
    const [after] = runEdges(graph, new Map([...steps, ["b", step("b", "succeeded", null, null)]]));
    expect(after.animated).toBe(false);
    expect(after.className).toBe("edge-taken");
  });
});

describe("helpers", () => {
  it("writes the idempotency key as run:node:attempt", () => {
    expect(idempotencyKey(7, "fetch", 2)).toBe("7:fetch:2");
  });

  it("accepts only a JSON object as edited input", () => {
    expect(parseInput('{"a": 1}')).toEqual({ value: { a: 1 } });
    expect(parseInput("[1]")).toEqual({ error: "the input must be a JSON object" });
    expect("error" in parseInput("{a")).toBe(true);
  });
});
