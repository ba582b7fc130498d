import { describe, expect, it } from "vitest";

import { percent, seconds, tick } from "./DashboardPage";

describe("dashboard figures", () => {
  it("are shown in units people read", () => {
    expect(seconds(null)).toBe("—");
    expect(seconds(0.25)).toBe("250 ms");
    expect(seconds(12.34)).toBe("12.3 s");
    expect(seconds(252)).toBe("4.2 min");
    expect(seconds(5400)).toBe("1.5 h");
    expect(percent(0.25)).toBe("25.0 %");
    expect(percent(null)).toBe("—");
  });

  it("label hourly points by time and daily ones by date", () => {
    const t = "2026-11-25T10:00:00Z";
    expect(tick(t, "1h")).toBe(new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }));
    expect(tick(t, "1d")).toBe(new Date(t).toLocaleDateString(undefined, { month: "short", day: "numeric" }));
  });
});
