import { describe, expect, it } from "vitest";

import type { GraphDoc } from "./graph";
import { autoLayout } from "./layout";
import { CATALOG } from "./testCatalog";

describe("autoLayout", () => {
  it("places every step left of the steps it leads to, and no two on one spot", async () => {
    const graph: GraphDoc = {
      format: 1,
      nodes: ["start", "check", "yes", "no", "end"].map((id, i) => ({
        id,
        type: i === 0 ? "trigger.manual" : i === 1 ? "logic.condition" : "data.transform",
        config: {},
        position: { x: 0, y: 0 },
      })),
      edges: [
        { id: "e1", source: "start", target: "check" },
        { id: "e2", source: "check", source_handle: "true", target: "yes" },
        { id: "e3", source: "check", source_handle: "false", target: "no" },
        { id: "e4", source: "yes", target: "end" },
        { id: "e5", source: "no", target: "end" },
      ],
    };
    const at = await autoLayout(graph, CATALOG);
    expect(Object.keys(at).sort()).toEqual(["check", "end", "no", "start", "yes"]);
    for (const edge of graph.edges) expect(at[edge.source].x).toBeLessThan(at[edge.target].x);
    expect(at.yes.x).toBe(at.no.x);
    expect(at.yes.y).not.toBe(at.no.y);
    for (const p of Object.values(at)) {
      expect(p.x % 20).toBe(0);
      expect(p.y % 20).toBe(0);
    }
  });
});
