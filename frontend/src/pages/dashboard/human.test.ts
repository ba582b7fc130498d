import { describe, expect, it } from "vitest";

import { type HumanStats, type HumanStep, noHumanWork, wait, waitBars, waitUnit } from "./human";

const none = {
  opened: 0, closed: 0, open: 0, approved: 0, rejected: 0, submitted: 0, timed_out: 0, cancelled: 0,
  escalated: 0, with_due: 0, breached: 0, breach_rate: null, wait_p50_s: null, wait_p95_s: null,
  open_age_p50_s: null, open_oldest_s: null,
};

function step(node: string, p50: number | null, p95: number | null): HumanStep {
  return { ...none, workflow: 1, workflow_name: "payments", node, kind: "approval", closed: p50 === null ? 0 : 1, wait_p50_s: p50, wait_p95_s: p95 };
}

describe("the human work figures", () => {
  it("show waits as people say them", () => {
    expect(wait(null)).toBe("—");
    expect(wait(45)).toBe("45.0 s");
    expect(wait(7200)).toBe("2 h 0 min");
    expect(wait(11_520)).toBe("3 h 12 min");
    expect(wait(100_800)).toBe("1 d 4 h");
  });

  it("are empty when nothing was asked and nothing is open", () => {
    const human: HumanStats = { totals: none, steps: [], assignees: [], groups: [] };
    expect(noHumanWork(human)).toBe(true);
    expect(noHumanWork({ ...human, totals: { ...none, open: 1 } })).toBe(false);
  });

  it("chart waits in one unit fit for the longest", () => {
    expect(waitUnit(90).label).toBe("seconds");
    expect(waitUnit(600).label).toBe("minutes");
    expect(waitUnit(100_800).label).toBe("hours");
    expect(waitUnit(3 * 86_400).label).toBe("days");
    const { unit, bars } = waitBars([step("approve", 7200, 100_800), step("never", null, null), step("form", 1200, 1200)]);
    expect(unit.label).toBe("hours");
    // The step with no closed task has no bar; the others in hours, one decimal.
    expect(bars).toEqual([
      { label: "payments · approve", p50: 2, p95: 28, p50_s: 7200, p95_s: 100_800 },
      { label: "payments · form", p50: 0.3, p95: 0.3, p50_s: 1200, p95_s: 1200 },
    ]);
  });
});
