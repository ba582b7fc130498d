import { describe, expect, it } from "vitest";

import type { LiveEvent } from "../live";
import type { RunStep } from "./model";
import { type Axis, assigneesText, compressGaps, cssX, mergeIntervals, place, segmentLabel, spansOf, timeSummary, timeline } from "./timeline";

function step(node: string, status: string, started: string | null, finished: string | null, more: Partial<RunStep> = {}): RunStep {
  return { node, type: "code.function", status, attempt: 1, error: null, started_at: started, finished_at: finished, ...more };
}

const t0 = Date.parse("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
const DAY = 86_400;

let nextId = 100;
function event(node: string, from: string, to: string, seconds: number, more: Partial<LiveEvent> = {}): LiveEvent {
  const type = `step.${to === "running" ? "started" : to}`;
  return { id: nextId++, run: 5, node, type, old_status: from, new_status: to, attempt: 1, actor: null, created_at: at(seconds), data: {}, ...more };
}

function task(node: string, type: string, seconds: number, data: Record<string, unknown>): LiveEvent {
  return { id: nextId++, run: 5, node, type, old_status: "", new_status: "", attempt: 1, actor: null, created_at: at(seconds), data };
}

/** start (0.1 s) > pay (fails, 5 s backoff, succeeds) > ask (waits 2 d 3 h for finance) > done. */
function approvalRun() {
  const steps = [
    step("start", "succeeded", at(0), at(0.1)),
    step("pay", "succeeded", at(0.2), at(6.5), { attempt: 2 }),
    step("ask", "succeeded", at(6.6), at(6.7 + 2 * DAY + 3 * 3600), { type: "human.approval" }),
    step("done", "succeeded", at(6.8 + 2 * DAY + 3 * 3600), at(7 + 2 * DAY + 3 * 3600)),
  ];
  const late = 6.7 + 2 * DAY + 3 * 3600;
  const events = [
    event("start", "queued", "running", 0),
    event("start", "running", "succeeded", 0.1),
    event("pay", "queued", "running", 0.2),
    event("pay", "running", "retrying", 1, { data: { wake_at: at(6), error: { message: "503", code: "step_failed" } } }),
    event("pay", "retrying", "queued", 6),
    event("pay", "queued", "running", 6.1, { attempt: 2 }),
    event("pay", "running", "succeeded", 6.5, { attempt: 2 }),
    event("ask", "queued", "running", 6.6),
    event("ask", "running", "waiting", 6.7, { data: { reason: "approval", wake_at: at(DAY) } }),
    task("ask", "task.created", 6.7, { assignees: { groups: ["finance"], users: [] } }),
    task("ask", "task.decided", late, { decision: "approve" }),
    event("ask", "waiting", "succeeded", late),
    event("done", "queued", "running", late + 0.1),
    event("done", "running", "succeeded", late + 0.3),
  ];
  return { steps, events, late };
}

describe("a step's stretches from the event log", () => {
  it("shows every attempt, how it ended, and the backoff between them", () => {
    const { steps, events } = approvalRun();
    const spans = spansOf(steps[1], events.filter((e) => e.node === "pay"), t0);
    expect(spans.map((s) => [s.kind, s.status, s.attempt, s.wait, s.retried, s.to - s.from])).toEqual([
      ["attempt", "failed", 1, null, true, 800],
      ["retrying", "retrying", 1, "retry", false, 5000],
      ["attempt", "succeeded", 2, null, false, 400],
    ]);
  });

  it("marks an attempt that ran past its timeout", () => {
    const events = [
      event("slow", "queued", "running", 0),
      event("slow", "running", "retrying", 30, { data: { error: { code: "timeout", message: "took too long" } } }),
    ];
    const [attempt] = spansOf(step("slow", "retrying", at(0), null), events, t0 + 31_000);
    expect(attempt).toMatchObject({ status: "failed", timedOut: true, retried: true });
  });

  it("tells waits for people from timers and child runs, and who is waited for", () => {
    const { steps, events } = approvalRun();
    const [, wait] = spansOf(steps[2], events.filter((e) => e.node === "ask"), t0);
    expect(wait).toMatchObject({ kind: "waiting", wait: "people", waitingFor: "finance" });
    const delay = spansOf(step("d", "waiting", at(0), null, { type: "flow.delay" }), [event("d", "queued", "running", 0), event("d", "running", "waiting", 0.1, { data: { reason: "delay" } })], t0 + 1000);
    expect(delay[1]).toMatchObject({ wait: "timer", open: true, to: t0 + 1000 });
    const map = spansOf(step("m", "waiting", at(0), null, { type: "flow.map" }), [event("m", "queued", "running", 0), event("m", "running", "waiting", 0.1, { data: { reason: "children" } })], t0 + 1000);
    expect(map[1].wait).toBe("children");
  });

  it("follows a task escalated to another group", () => {
    const events = [
      event("ask", "queued", "running", 0),
      event("ask", "running", "waiting", 1, { data: { reason: "approval" } }),
      task("ask", "task.created", 1, { assignees: { groups: ["finance"], users: [] } }),
      task("ask", "task.escalated", 100, { assignees: { groups: ["finance", "board"], users: ["carol"] } }),
    ];
    const [, wait] = spansOf(step("ask", "waiting", at(0), null, { type: "human.approval" }), events, t0 + 200_000);
    expect(wait.waitingFor).toBe("finance, board and 1 more");
    expect(assigneesText({ groups: [], users: ["bob", "carol"] })).toBe("bob and carol");
    expect(assigneesText({ groups: [], users: [] })).toBeNull();
  });

  it("falls back to a step's own times when it has no events", () => {
    const [only] = spansOf(step("b", "failed", at(0), at(4)), [], t0 + 9000);
    expect(only).toMatchObject({ kind: "attempt", status: "failed", from: t0, to: t0 + 4000, open: false });
  });
});

describe("where the time went", () => {
  it("counts each instant once, work before waiting for people before timers", () => {
    const spans = [
      { kind: "attempt" as const, wait: null, from: 0, to: 10 },
      { kind: "waiting" as const, wait: "people" as const, from: 5, to: 100 },
      { kind: "retrying" as const, wait: "retry" as const, from: 50, to: 150 },
      { kind: "waiting" as const, wait: "children" as const, from: 160, to: 170 },
    ];
    expect(timeSummary(spans, 0, 200)).toEqual({ total: 200, working: 10, people: 90, timers: 50, children: 10, idle: 40 });
  });

  it("sums an approval run: seconds of work, days of waiting", () => {
    const { steps, events } = approvalRun();
    const chart = timeline(steps, events, t0)!;
    const s = chart.summary;
    expect(s.total).toBe(7_000 + (2 * DAY + 3 * 3600) * 1000);
    expect(s.people).toBe((2 * DAY + 3 * 3600) * 1000);
    expect(s.timers).toBe(5000);
    expect(s.working).toBeCloseTo(100 + 800 + 400 + 100 + 200, 0);
    expect(s.working + s.people + s.timers + s.children + s.idle).toBe(s.total);
  });
});

describe("waiting for people, apart from working time (issue 19)", () => {
  /** start > ask (an approval, 3 h 12 min until bob decides) > nap (a 10 min delay) > call (a
   * child run of 2 min that itself waits for an approval: its own run's wait, not this one's). */
  function mixedRun() {
    const ask = 1 + 3 * 3600 + 12 * 60;
    const steps = [
      step("start", "succeeded", at(0), at(1)),
      step("ask", "succeeded", at(1), at(ask), { type: "human.approval" }),
      step("nap", "succeeded", at(ask), at(ask + 600), { type: "flow.delay" }),
      step("call", "succeeded", at(ask + 600), at(ask + 720), { type: "flow.subworkflow" }),
    ];
    const events = [
      event("start", "queued", "running", 0),
      event("start", "running", "succeeded", 1),
      event("ask", "queued", "running", 1),
      event("ask", "running", "waiting", 1.1, { data: { reason: "approval" } }),
      task("ask", "task.created", 1.1, { assignees: { groups: [], users: ["bob"] } }),
      task("ask", "task.decided", ask, { decision: "approve" }),
      event("ask", "waiting", "succeeded", ask),
      event("nap", "queued", "running", ask),
      event("nap", "running", "waiting", ask + 1, { data: { reason: "delay" } }),
      event("nap", "waiting", "succeeded", ask + 600),
      event("call", "queued", "running", ask + 600),
      event("call", "running", "waiting", ask + 601, { data: { reason: "children" } }),
      event("call", "waiting", "succeeded", ask + 720),
    ];
    return { steps, events, ask };
  }

  it("classifies only the human step's wait, from waiting to decided, as people", () => {
    const { steps, events, ask } = mixedRun();
    const chart = timeline(steps, events, t0)!;
    const waits = chart.rows.flatMap((r) => r.segments.filter((s) => s.kind === "waiting").map((s) => [r.node, s.wait, s.from, s.to]));
    expect(waits).toEqual([
      ["ask", "people", t0 + 1100, t0 + ask * 1000],
      ["nap", "timer", t0 + (ask + 1) * 1000, t0 + (ask + 600) * 1000],
      ["call", "children", t0 + (ask + 601) * 1000, t0 + (ask + 720) * 1000],
    ]);
  });

  it("counts the run's working time apart from its wait for people", () => {
    const { steps, events } = mixedRun();
    const { summary } = timeline(steps, events, t0)!;
    // Work: start 1 s, ask 0.1 s, nap 1 s, call 1 s.
    expect(summary).toMatchObject({ working: 3100, people: (3 * 3600 + 12 * 60 - 0.1) * 1000, timers: 599_000, children: 119_000 });
  });
});

describe("the compressed axis", () => {
  it("merges overlapping work", () => {
    expect(mergeIntervals([{ from: 5, to: 8 }, { from: 0, to: 6 }, { from: 10, to: 11 }])).toEqual([{ from: 0, to: 8 }, { from: 10, to: 11 }]);
  });

  it("compresses a gap far longer than the work drawn to scale", () => {
    const work = [{ from: 0, to: 5_000 }, { from: 2 * DAY * 1000, to: 2 * DAY * 1000 + 1000 }];
    expect(compressGaps(work, 0, 2 * DAY * 1000 + 1000)).toEqual([{ from: 5_000, to: 2 * DAY * 1000 }]);
  });

  it("keeps short gaps, and gaps short next to the work, to scale", () => {
    // 20 s pause: under the 30 s floor.
    expect(compressGaps([{ from: 0, to: 1000 }, { from: 21_000, to: 22_000 }], 0, 22_000)).toEqual([]);
    // A minute's pause in an hour of work.
    expect(compressGaps([{ from: 0, to: 3_600_000 }, { from: 3_660_000, to: 7_200_000 }], 0, 7_200_000)).toEqual([]);
    // Of two gaps the long one is compressed; the other is short against what stays.
    const work = [{ from: 0, to: 60_000 }, { from: 120_000, to: 130_000 }, { from: 10 * 3_600_000, to: 10 * 3_600_000 + 1000 }];
    expect(compressGaps(work, 0, 10 * 3_600_000 + 1000)).toEqual([{ from: 130_000, to: 10 * 3_600_000 }]);
  });

  it("compresses a wait still going at the end", () => {
    expect(compressGaps([{ from: 0, to: 1000 }], 0, 3_600_000)).toEqual([{ from: 1000, to: 3_600_000 }]);
  });

  it("places times in the track's width less the fixed-width breaks", () => {
    const axis: Axis = { start: 0, end: 1100, breaks: [{ from: 100, to: 1000 }], breakPx: 80 };
    // 200 ms to scale: 100 before the break, 100 after.
    expect(place(axis, 0)).toEqual({ pct: 0, px: 0 });
    expect(place(axis, 100)).toEqual({ pct: 50, px: -40 });
    expect(place(axis, 550)).toEqual({ pct: 50, px: 0 });
    expect(place(axis, 1000)).toEqual({ pct: 50, px: 40 });
    expect(place(axis, 1100)).toEqual({ pct: 100, px: 0 });
    expect(place(axis, 5000)).toEqual({ pct: 100, px: 0 });
    expect(cssX({ pct: 50, px: -40 })).toBe("calc(50% - 40px)");
    expect(cssX({ pct: 12.5, px: 0 })).toBe("12.5%");
  });

  it("draws an approval run with one labelled break", () => {
    const { steps, events } = approvalRun();
    const chart = timeline(steps, events, t0, { breakPx: 80 })!;
    expect(chart.gaps).toHaveLength(1);
    expect(chart.gaps[0].label).toBe("2 d 3 h waiting for finance");
    const ask = chart.rows.find((r) => r.node === "ask")!;
    const [work, wait] = ask.segments;
    // The wait crosses the break: its width holds the break's 80 px.
    expect(wait.width.px).toBeGreaterThan(70);
    expect(work.width.px).toBeLessThan(1);
    expect(chart.rows.map((r) => r.node)).toEqual(["start", "pay", "ask", "done"]);
    // The last step ends at the track's end.
    const done = chart.rows[3].segments[0];
    expect(done.left.pct + done.width.pct).toBeCloseTo(100);
    expect(done.left.px + done.width.px).toBeCloseTo(0);
  });

  it("labels a break by what it waited for, else idle", () => {
    const steps = [step("a", "succeeded", at(0), at(1)), step("b", "succeeded", at(3600), at(3601))];
    const events = [event("a", "queued", "running", 0), event("a", "running", "succeeded", 1), event("b", "queued", "running", 3600), event("b", "running", "succeeded", 3601)];
    expect(timeline(steps, events, t0)!.gaps[0].label).toBe("59 min 59 s idle");
    const delayed = [event("w", "queued", "running", 0), event("w", "running", "waiting", 1, { data: { reason: "delay" } }), event("w", "waiting", "succeeded", 3600)];
    expect(timeline([step("w", "succeeded", at(0), at(3600), { type: "flow.delay" })], delayed, t0)!.gaps[0].what).toBe("waiting for a timer");
  });

  it("grows an open attempt live, and is null before any step started", () => {
    const steps = [step("a", "running", at(0), null)];
    const events = [event("a", "queued", "running", 0)];
    expect(timeline(steps, events, t0 + 1000)!.rows[0].segments[0]).toMatchObject({ open: true, to: t0 + 1000 });
    expect(timeline(steps, events, t0 + 5000)!.rows[0].segments[0]).toMatchObject({ open: true, to: t0 + 5000 });
    expect(timeline([step("a", "queued", null, null)], [], 0)).toBeNull();
  });
});

describe("bar labels", () => {
  it("name the step, the attempt, how it ended and how long it took", () => {
    const { steps, events } = approvalRun();
    const chart = timeline(steps, events, t0)!;
    const labels = chart.rows.flatMap((r) => r.segments.map((s) => segmentLabel(r.node, s, () => "12:00:00")));
    expect(labels).toEqual([
      "start: succeeded, attempt 1, 100 ms",
      "pay: failed, attempt 1, 800 ms, retried",
      "pay: retrying, backoff before attempt 2, 5.0 s",
      "pay: succeeded, attempt 2, 400 ms",
      "ask: succeeded, attempt 1, 100 ms",
      "ask: waiting for finance, attempt 1, 2 d 3 h",
      "done: succeeded, attempt 1, 200 ms",
    ]);
  });

  it("say what is still going, and when a timer or a backoff ends", () => {
    const wait = timeline([step("wait", "waiting", at(0), null)], [event("wait", "queued", "running", 0), event("wait", "running", "waiting", 1, { data: { wake_at: at(60), reason: "delay" } })], t0 + 5000)!.rows[0].segments;
    expect(segmentLabel("wait", wait[1], () => "00:01:00")).toBe("wait: waiting until 00:01:00");
    const running = timeline([step("a", "running", at(0), null)], [event("a", "queued", "running", 0)], t0 + 2000)!.rows[0].segments[0];
    expect(segmentLabel("a", running, () => "")).toBe("a: running, attempt 1, 2.0 s so far");
    const slow = timeline([step("s", "retrying", at(0), null)], [event("s", "queued", "running", 0), event("s", "running", "retrying", 30, { data: { error: { code: "timeout" }, wake_at: at(40) } })], t0 + 31_000)!.rows[0].segments;
    expect(segmentLabel("s", slow[0], () => "")).toBe("s: timed out, attempt 1, 30.0 s, retried");
    expect(segmentLabel("s", slow[1], () => "00:00:40")).toBe("s: retrying, backoff before attempt 2 until 00:00:40");
  });
});
