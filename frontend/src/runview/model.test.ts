import { describe, expect, it } from "vitest";

import type { Catalog, GraphDoc } from "../editor/graph";
import type { LiveEvent } from "../live";
import { STEP_STATUSES, statusLook, statusVar } from "../status";
import {
  type Run,
  type RunStep,
  RunFlowNodes,
  applyEvents,
  eventSummary,
  fitViewport,
  focusStep,
  formatDuration,
  idempotencyKey,
  labelMinZoom,
  logsChanged,
  mergeEvents,
  needsRead,
  nodeLabel,
  parseInput,
  positionsOverlap,
  runEdges,
  statusCounts,
} from "./model";

function step(node: string, status: string, started: string | null, finished: string | null, more: Partial<RunStep> = {}): RunStep {
  return { node, type: "code.function", status, attempt: 1, error: null, started_at: started, finished_at: finished, ...more };
}

const t0 = Date.parse("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

let nextId = 100;
function event(node: string, from: string, to: string, seconds: number, more: Partial<LiveEvent> = {}): LiveEvent {
  const type = node ? `step.${to === "running" ? "started" : to}` : `run.${to}`;
  return { id: nextId++, run: 5, node, type, old_status: from, new_status: to, attempt: node ? 1 : null, actor: null, created_at: at(seconds), data: {}, ...more };
}

describe("the status palette on the run graph", () => {
  it("gives every step status a look from the shared palette, in CSS variables", () => {
    for (const status of STEP_STATUSES) {
      expect(statusVar(status)).toBe(`var(--mantine-color-${statusLook(status).color}-filled)`);
    }
    // Failed and succeeded must never look alike.
    expect(statusLook("failed").color).not.toBe(statusLook("succeeded").color);
    expect(statusLook("running").active).toBe(true);
  });

  it("names a node by its status and attempt", () => {
    expect(nodeLabel("pay", "failed", 1)).toBe("Step pay: failed");
    expect(nodeLabel("pay", "succeeded", 2)).toBe("Step pay: succeeded, attempt 2");
    expect(nodeLabel("pay", "paused", 0)).toBe("Step pay: paused");
  });

  it("counts steps per status for the legend, pending for steps with no row yet", () => {
    const counts = statusCounts([step("a", "succeeded", null, null), step("b", "failed", null, null), step("c", "succeeded", null, null)], ["a", "b", "c", "d"]);
    expect(counts).toEqual([
      { status: "pending", count: 1 },
      { status: "succeeded", count: 2 },
      { status: "failed", count: 1 },
    ]);
  });
});

describe("live events on a cached run", () => {
  const run = (): Run => ({
    id: 5,
    workflow: 1,
    workflow_name: "Payout",
    version: 1,
    status: "running",
    trigger: "manual",
    actor: "alice",
    error: null,
    created_at: at(0),
    started_at: at(0),
    finished_at: null,
    children: [],
    last_event_id: 10,
    steps: [step("start", "succeeded", at(0), at(0)), step("pay", "queued", null, null, { attempt: 0 }), step("after", "pending", null, null, { attempt: 0 })],
  });

  it("moves steps and the run on, as far as the events say", () => {
    const events = [
      event("pay", "queued", "running", 1, { id: 11 }),
      event("pay", "running", "failed", 2, { id: 12, data: { error: { message: "boom" } } }),
      event("", "running", "failed", 2, { id: 13 }),
    ];
    const before = run();
    const after = applyEvents(before, events);
    const pay = after.steps!.find((s) => s.node === "pay")!;
    expect(pay).toMatchObject({ status: "failed", attempt: 1, started_at: at(1), finished_at: at(2), error: { message: "boom" } });
    expect(after).toMatchObject({ status: "failed", finished_at: at(2), last_event_id: 13 });
    // Steps the events do not name are the same objects (their nodes are not re-rendered).
    expect(after.steps![0]).toBe(before.steps![0]);
    expect(before.status).toBe("running"); // the cached object is not changed in place
  });

  it("ignores what the run already includes, and events of other runs", () => {
    const before = run();
    expect(applyEvents(before, [event("pay", "queued", "running", 1, { id: 9 })])).toBe(before);
    expect(applyEvents(before, [event("pay", "queued", "running", 1, { id: 11, run: 6 })])).toBe(before);
  });

  it("takes an operator's edited input and clears the error when a step is retried", () => {
    const failed = applyEvents(run(), [event("pay", "queued", "failed", 1, { id: 11, data: { error: { message: "x" } } })]);
    const retried = applyEvents(failed, [
      event("pay", "failed", "queued", 2, { id: 12, type: "step.retried", actor: "alice", data: { reason: "fixed", edited_input: { a: 2 } } }),
    ]);
    expect(retried.steps!.find((s) => s.node === "pay")).toMatchObject({ status: "queued", error: null, input: { a: 2 } });
  });

  it("keeps a wait's wake-up time and a child run", () => {
    const after = applyEvents(run(), [
      event("pay", "running", "waiting", 1, { id: 11, data: { reason: "delay", wake_at: at(60) } }),
      event("pay", "waiting", "waiting", 1, { id: 12, type: "step.child_started", data: { child_run: 8 } }),
    ]);
    expect(after.steps!.find((s) => s.node === "pay")!.wake_at).toBe(at(60));
    expect(after.children).toEqual([8]);
  });

  it("reads the run again only for what events do not carry", () => {
    expect(needsRead([event("pay", "pending", "queued", 1), event("pay", "queued", "running", 1)])).toBe(false);
    expect(needsRead([event("pay", "running", "succeeded", 1)])).toBe(true); // its output
    expect(needsRead([event("pay", "running", "waiting", 1)])).toBe(true); // its rendered input
    expect(needsRead([event("", "running", "succeeded", 1)])).toBe(true); // the run's output
    expect(needsRead([event("", "running", "cancelled", 1)])).toBe(false);
  });

  it("marks a step's logs stale when one of its attempts ended", () => {
    expect(logsChanged([event("a", "queued", "running", 1), event("b", "running", "failed", 1), event("b", "running", "retrying", 2)])).toEqual(["b"]);
  });
});

describe("durations", () => {
  it("formats durations", () => {
    expect(formatDuration(null)).toBe("still going");
    expect(formatDuration(12)).toBe("12 ms");
    expect(formatDuration(1500)).toBe("1.5 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(7_500_000)).toBe("2 h 5 min");
    expect(formatDuration((2 * 24 + 3) * 3_600_000 + 125_000)).toBe("2 d 3 h");
    expect(formatDuration(2 * 24 * 3_600_000)).toBe("2 d");
  });
});

describe("events", () => {
  it("summarises a change of status with its reason, error, edit and branch", () => {
    expect(eventSummary({ old_status: "running", new_status: "failed", attempt: 2, data: { error: { message: "boom" } } })).toBe(
      "running → failed; attempt 2; error: boom",
    );
    expect(eventSummary({ old_status: "failed", new_status: "queued", attempt: 1, data: { reason: "fixed", edited_input: { a: 1 } } })).toBe(
      'failed → queued; reason: fixed; edited input: {"a":1}',
    );
    expect(eventSummary({ old_status: "running", new_status: "succeeded", attempt: 1, data: { handle: "out", worker: "vm:1" } })).toBe("running → succeeded");
    expect(eventSummary({ old_status: "running", new_status: "succeeded", attempt: 1, data: { handle: "approved" } })).toBe(
      "running → succeeded; took approved",
    );
    expect(eventSummary({ old_status: "", new_status: "", attempt: null, data: { title: "Pay" } })).toBe('{"title":"Pay"}');
  });

  it("merges events in id order without duplicates", () => {
    const e = (id: number) => ({ id });
    expect(mergeEvents([e(1), e(3)], [e(3), e(2), e(4)]).map((x) => x.id)).toEqual([1, 2, 3, 4]);
  });
});

describe("fitting the graph", () => {
  it("never zooms labels below 10 px", () => {
    expect(labelMinZoom(14)).toBeCloseTo(10 / 14);
    expect(labelMinZoom(8)).toBe(1);
  });

  it("centres a graph that fits, at no more than zoom 1", () => {
    const view = fitViewport({ x: 0, y: 0, width: 400, height: 100 }, { width: 1000, height: 400 }, { minZoom: 0.7 });
    expect(view.zoom).toBe(1);
    expect(view.x).toBe(300);
    expect(view.y).toBe(150);
  });

  it("starts a graph too wide to fit readably at its trigger's side", () => {
    const view = fitViewport({ x: 0, y: 0, width: 4000, height: 100 }, { width: 1000, height: 400 }, { minZoom: 0.7, padding: 24 });
    expect(view.zoom).toBe(0.7);
    expect(view.x).toBe(24);
  });

  it("shows the step to focus on in the middle of a graph too wide to fit, its ends inside", () => {
    const bounds = { x: 0, y: 0, width: 4000, height: 100 };
    const box = { width: 1000, height: 400 };
    const middle = fitViewport(bounds, box, { minZoom: 0.5, focus: { x: 2000, y: 0, width: 200, height: 60 } });
    expect(middle.zoom).toBe(0.5);
    // The focus's centre (2100 at zoom 0.5: 1050) lands at the box's centre (500).
    expect(middle.x).toBe(500 - 1050);
    // Near the end, the graph's end stays at the right padding rather than leaving a gap.
    const end = fitViewport(bounds, box, { minZoom: 0.5, focus: { x: 3800, y: 0, width: 200, height: 60 } });
    expect(end.x).toBe(1000 - 24 - 4000 * 0.5);
    // Near the start, the graph's start stays at the left padding.
    const start = fitViewport(bounds, box, { minZoom: 0.5, focus: { x: 100, y: 0, width: 200, height: 60 } });
    expect(start.x).toBe(24);
    // A graph that fits is centred whatever the focus.
    const fits = fitViewport({ x: 0, y: 0, width: 400, height: 100 }, box, { minZoom: 0.7, focus: { x: 300, y: 0, width: 100, height: 60 } });
    expect(fits.x).toBe(300);
  });

  it("focuses on the failed step, else one that runs or waits", () => {
    const at = (node: string, status: string) => step(node, status, null, null);
    expect(focusStep([at("a", "succeeded"), at("b", "waiting"), at("c", "failed")])).toBe("c");
    expect(focusStep([at("a", "succeeded"), at("b", "waiting")])).toBe("b");
    expect(focusStep([at("a", "succeeded"), at("b", "pending")])).toBeNull();
  });

  it("lays the steps out again when saved positions would make cards overlap", () => {
    const card = { width: 240, height: 60 };
    expect(positionsOverlap([{ x: 0, y: 0 }, { x: 220, y: 0 }], card)).toBe(true);
    expect(positionsOverlap([{ x: 0, y: 0 }, { x: 300, y: 0 }, { x: 0, y: 100 }], card)).toBe(false);
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
    expect(first[0].data).toMatchObject({ title: "Function", category: "code", handles: ["out"] });
    expect(first[0].ariaLabel).toBe("Step a: running");
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

  it("draws edges in the status palette: running animated, taken in the succeeded colour", () => {
    const steps = new Map([
      ["a", step("a", "succeeded", null, null, { handle: "out" })],
      ["b", step("b", "running", null, null)],
    ]);
    const [edge] = runEdges(graph, steps);
    expect(edge.animated).toBe(true);
    expect(edge.className).toBe("edge-running");
    expect(edge.style?.stroke).toBe(statusVar("running"));
    const [after] = runEdges(graph, new Map([...steps, ["b", step("b", "succeeded", null, null)]]));
    expect(after.animated).toBe(false);
    expect(after.className).toBe("edge-taken");
    expect(after.style?.stroke).toBe(statusVar("succeeded"));
    const [idle] = runEdges(graph, new Map([["a", step("a", "running", null, null)]]));
    expect(idle.className).toBe("edge-idle");
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

describe("a waiting person's countdown, moved on by task events", () => {
  const task = { id: 7, due_at: at(3600), due_from: at(0), escalation_level: 0, escalated_to: [], breached_at: null };
  const waiting = (): Run => ({
    id: 5,
    workflow: 1,
    workflow_name: "wf",
    version: 1,
    status: "waiting",
    trigger: "api",
    actor: null,
    error: null,
    created_at: at(0),
    last_event_id: 1,
    steps: [step("ask", "waiting", at(0), null, { type: "human.approval", task })],
  });
  const taskEvent = (type: string, seconds: number, data: Record<string, unknown>): LiveEvent =>
    event("ask", "", "", seconds, { type, data: { task: 7, kind: "approval", status: "open", ...data } });

  it("takes the breach and then the escalation's new window and groups", () => {
    const run = applyEvents(waiting(), [
      taskEvent("task.overdue", 3600, { due_at: at(3600), level: 0, on_timeout: "escalate" }),
      taskEvent("task.escalated", 3600, { level: 1, groups: ["finance-leads"], due_at: at(10800), due_from: at(3600) }),
    ]);
    expect(run.steps?.[0].task).toEqual({
      id: 7,
      due_at: at(10800),
      due_from: at(3600),
      escalation_level: 1,
      escalated_to: ["finance-leads"],
      breached_at: at(3600),
    });
    expect(run.steps?.[0].status).toBe("waiting");
  });

  it("drops the task when it closes, and ignores events of another task", () => {
    const other = applyEvents(waiting(), [event("ask", "", "", 5, { type: "task.closed", data: { task: 99 } })]);
    expect(other.steps?.[0].task).toEqual(task);
    const closed = applyEvents(waiting(), [taskEvent("task.closed", 5, { reason: "decided" })]);
    expect(closed.steps?.[0].task).toBeNull();
  });

  it("starts a countdown from a new task's creation", () => {
    const base = waiting();
    base.steps = [step("ask", "waiting", at(0), null, { type: "human.approval", task: null })];
    const run = applyEvents(base, [taskEvent("task.created", 10, { due_at: at(70), title: "Pay" })]);
    expect(run.steps?.[0].task).toMatchObject({ id: 7, due_at: at(70), due_from: at(10), escalated_to: [] });
  });
});
