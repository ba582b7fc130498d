import { describe, expect, it } from "vitest";

import { duration, runsQuery } from "./RunsListPage";

describe("the runs list", () => {
  it("asks the API only for the filters that are set, times as ISO", () => {
    const none = runsQuery({ workflow: "", status: "", trigger: "", actor: " ", since: "", until: "" });
    expect(Object.fromEntries(none)).toEqual({ page_size: "50", top_level: "true" });
    const some = runsQuery({
      workflow: "3",
      status: "failed,cancelled",
      trigger: "schedule",
      actor: "bob",
      since: "2026-11-25T10:00",
      until: "",
    });
    expect(some.get("workflow")).toBe("3");
    expect(some.get("status")).toBe("failed,cancelled");
    expect(some.get("actor")).toBe("bob");
    expect(some.get("since")).toBe(new Date("2026-11-25T10:00").toISOString());
    expect(some.has("until")).toBe(false);
  });

  it("says how long a run took, or has taken so far", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
    expect(duration({ created_at: at(0), started_at: at(0), finished_at: at(0.85) })).toBe("850 ms");
    expect(duration({ created_at: at(0), started_at: at(1), finished_at: at(13.3) })).toBe("12.3 s");
    expect(duration({ created_at: at(0), started_at: null, finished_at: at(250) })).toBe("4 min 10 s");
    expect(duration({ created_at: at(0), started_at: at(0), finished_at: null }, Date.parse(at(7500)))).toBe("2 h 5 min");
  });
});
