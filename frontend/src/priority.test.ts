import { describe, expect, it } from "vitest";

import { PRIORITIES, priorityLabel, priorityOf, storedPriority } from "./priority";

describe("priorities", () => {
  it("reads a graph's priority, normal when it has none or an unknown one", () => {
    expect(priorityOf({})).toBe("normal");
    expect(priorityOf({ priority: "urgent" })).toBe("urgent");
    expect(priorityOf({ priority: "asap" })).toBe("normal");
  });

  it("stores nothing for normal, the default", () => {
    expect(storedPriority("normal")).toBeUndefined();
    expect(storedPriority("high")).toBe("high");
  });

  it("labels only what is not normal", () => {
    expect(priorityLabel("normal")).toBeNull();
    expect(priorityLabel(undefined)).toBeNull();
    expect(priorityLabel("low")).toBe("low priority");
    expect(PRIORITIES.map(priorityLabel)).toEqual(["low priority", null, "high priority", "urgent priority"]);
  });
});
