import { describe, expect, it } from "vitest";

import { type Stats, chartColor, chartVar, isEmpty, sortRecords, sparkline, successRate, worthDrawing } from "./kpi";

const bucket = (t: string, started: number, succeeded: number, failed: number, cancelled = 0) => ({
  t,
  started,
  succeeded,
  failed,
  cancelled,
});

const NO_TASKS = {
  opened: 0, closed: 0, open: 0, approved: 0, rejected: 0, submitted: 0, timed_out: 0, cancelled: 0,
  escalated: 0, with_due: 0, breached: 0, breach_rate: null, wait_p50_s: null, wait_p95_s: null,
  open_age_p50_s: null, open_oldest_s: null,
};

function stats(over: Partial<Stats> = {}): Stats {
  return {
    window: { since: "", until: "", hours: 24 },
    interval: "1h",
    workflow: null,
    series: [bucket("2026-12-06T10:00:00Z", 0, 0, 0), bucket("2026-12-06T11:00:00Z", 0, 0, 0)],
    totals: { started: 0, succeeded: 0, failed: 0, cancelled: 0 },
    failure_rate: null,
    duration_s: { count: 0, avg: null, p50: null, p95: null },
    retries: { step_runs: 0, extra_attempts: 0, rate: null },
    queue: { depth: 0, oldest_age_s: null },
    tasks: { waiting: 0, overdue: 0 },
    busiest_steps: [],
    slowest_steps: [],
    failing_workflows: [],
    human: { totals: NO_TASKS, steps: [], assignees: [], groups: [] },
    ...over,
  };
}

describe("the key figures", () => {
  it("rate success among finished runs, none when nothing finished", () => {
    expect(successRate({ succeeded: 3, failed: 1, cancelled: 0 })).toBe(0.75);
    expect(successRate({ succeeded: 0, failed: 0, cancelled: 0 })).toBeNull();
  });

  it("give one point per bucket for the sparklines", () => {
    const series = [bucket("a", 4, 3, 1), bucket("b", 2, 0, 0), bucket("c", 1, 1, 0)];
    expect(sparkline(series, "started")).toEqual([4, 2, 1]);
    expect(sparkline(series, "failed")).toEqual([1, 0, 0]);
    expect(sparkline(series, "success_rate")).toEqual([0.75, null, 1]);
  });

  it("draw a sparkline only when it shows a change", () => {
    expect(worthDrawing([0, 0, 0])).toBe(false);
    expect(worthDrawing([null, 3, null])).toBe(false);
    expect(worthDrawing([0, 3])).toBe(true);
  });

  it("know a fresh install from a quiet window", () => {
    expect(isEmpty(stats())).toBe(true);
    expect(isEmpty(stats({ tasks: { waiting: 1, overdue: 0 } }))).toBe(false);
    expect(isEmpty(stats({ totals: { started: 1, succeeded: 0, failed: 0, cancelled: 0 } }))).toBe(false);
  });
});

describe("the charts", () => {
  it("take their colours from the status palette, cancelled grey so that it shows on dark", () => {
    expect(chartColor("succeeded")).toBe("teal");
    expect(chartColor("failed")).toBe("red");
    expect(chartColor("cancelled")).toBe("gray.6");
    expect(chartVar("failed")).toBe("var(--mantine-color-red-filled)");
    expect(chartVar("cancelled")).toBe("var(--mantine-color-gray-6)");
  });
});

describe("the tables", () => {
  it("sort numbers as numbers and text by the locale, empty values last", () => {
    const rows = [
      { node: "b", mean_s: 10, p95_s: null as number | null },
      { node: "a", mean_s: 9, p95_s: 3 },
      { node: "C", mean_s: 100, p95_s: 1 },
    ];
    expect(sortRecords(rows, { columnAccessor: "mean_s", direction: "desc" }).map((r) => r.node)).toEqual(["C", "b", "a"]);
    expect(sortRecords(rows, { columnAccessor: "node", direction: "asc" }).map((r) => r.node)).toEqual(["a", "b", "C"]);
    expect(sortRecords(rows, { columnAccessor: "p95_s", direction: "asc" }).map((r) => r.node)).toEqual(["C", "a", "b"]);
    expect(rows[0].node).toBe("b"); // not sorted in place
  });
});
