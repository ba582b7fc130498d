import { describe, expect, it } from "vitest";

import { countdown, span } from "./countdown";

const FROM = "2026-12-06T10:00:00Z";
const DUE = "2026-12-06T20:00:00Z"; // a ten-hour window
const at = (iso: string) => Date.parse(iso);

describe("a countdown", () => {
  it("is plain while more than a fifth of its window is left", () => {
    const info = countdown(DUE, FROM, at("2026-12-06T11:54:30Z"));
    expect(info).toMatchObject({ tone: "normal", text: "8 h 5 min left", tickMs: 10_000 });
  });

  it("turns amber in the last 20 % of its window", () => {
    expect(countdown(DUE, FROM, at("2026-12-06T17:59:59Z"))?.tone).toBe("normal");
    const info = countdown(DUE, FROM, at("2026-12-06T18:00:00Z"));
    expect(info).toMatchObject({ tone: "soon", text: "2 h left" });
    // Within the hour it ticks every second, and within ten minutes it shows them.
    expect(countdown(DUE, FROM, at("2026-12-06T19:55:48Z"))).toMatchObject({
      tone: "soon",
      text: "4 min 12 s left",
      tickMs: 1000,
    });
    expect(countdown(DUE, FROM, at("2026-12-06T19:59:59.400Z"))?.text).toBe("1 s left");
  });

  it("turns red once overdue and says by how much", () => {
    expect(countdown(DUE, FROM, at(DUE))).toMatchObject({ tone: "overdue", text: "overdue 0 s" });
    expect(countdown(DUE, FROM, at("2026-12-06T20:05:00Z"))).toMatchObject({
      tone: "overdue",
      text: "overdue 5 min",
      left: -300_000,
    });
    expect(countdown(DUE, FROM, at("2026-12-08T23:00:00Z"))?.text).toBe("overdue 2 d 3 h");
  });

  it("names the groups after an escalation, on the escalation's own window", () => {
    // Escalated at 20:00 with two more hours: half of them left is not amber yet.
    const escalated = countdown("2026-12-06T22:00:00Z", "2026-12-06T20:00:00Z", at("2026-12-06T21:00:00Z"), [
      "finance-leads",
    ]);
    expect(escalated).toMatchObject({ tone: "normal", text: "escalated to finance-leads · 1 h left" });
    const late = countdown("2026-12-06T22:00:00Z", "2026-12-06T20:00:00Z", at("2026-12-06T22:00:30Z"), [
      "finance-leads",
    ]);
    expect(late).toMatchObject({ tone: "overdue", text: "escalated to finance-leads · overdue 30 s" });
  });

  it("draws nothing without a due time, and no amber without a window", () => {
    expect(countdown(null, FROM, 0)).toBeNull();
    expect(countdown("not a time", FROM, 0)).toBeNull();
    expect(countdown(DUE, null, at("2026-12-06T19:59:00Z"))?.tone).toBe("normal");
  });

  it("says spans as people do", () => {
    expect([59, 60, 61, 599, 600, 3599, 3600, 7260, 86400, 90000].map(span)).toEqual([
      "59 s",
      "1 min",
      "1 min 1 s",
      "9 min 59 s",
      "10 min",
      "59 min",
      "1 h",
      "2 h 1 min",
      "1 d",
      "1 d 1 h",
    ]);
  });
});
