import { describe, expect, it } from "vitest";

import { dropPosition, handleBoxes, readableZoom, stepHeight } from "../steps/geometry";
import { type GraphDoc, insertStep, insertableTypes } from "./graph";
import { freeSpot } from "./Palette";
import { CATALOG } from "./testCatalog";

const graph: GraphDoc = {
  format: 1,
  nodes: [
    { id: "manual", type: "trigger.manual", config: {}, position: { x: 0, y: 0 } },
    { id: "condition", type: "logic.condition", config: {}, position: { x: 300, y: 0 } },
    { id: "transform", type: "data.transform", config: {}, position: { x: 600, y: 0 } },
  ],
  edges: [
    { id: "e1", source: "manual", target: "condition" },
    { id: "e2", source: "condition", target: "transform", source_handle: "true" },
  ],
};

describe("inserting a step on a connection", () => {
  it("keeps the source's output for the first half and continues from the new step's out", () => {
    const inserted = insertStep(graph, CATALOG, "e2", "data.transform", { x: 450, y: 0 });
    if (typeof inserted === "string") throw new Error(inserted);
    expect(inserted.id).toBe("transform_2");
    expect(inserted.graph.edges).toEqual([
      { id: "e1", source: "manual", target: "condition" },
      { id: "e2", source: "condition", target: "transform_2", source_handle: "true" },
      { id: "e3", source: "transform_2", target: "transform" },
    ]);
  });

  it("continues from a condition's first branch, and refuses triggers and dead ends", () => {
    const inserted = insertStep(graph, CATALOG, "e1", "logic.condition", { x: 150, y: 0 });
    if (typeof inserted === "string") throw new Error(inserted);
    expect(inserted.graph.edges.at(-1)).toMatchObject({ source: "condition_2", target: "condition", source_handle: "true" });
    expect(insertStep(graph, CATALOG, "e1", "trigger.manual", { x: 0, y: 0 })).toMatch(/trigger/);
    expect(insertStep(graph, CATALOG, "e1", "flow.fail", { x: 0, y: 0 })).toMatch(/ends a path/);
    expect(insertableTypes(CATALOG).map((t) => t.type)).not.toContain("flow.fail");
  });
});

describe("the canvas's geometry", () => {
  it("puts the pointer at the middle of a dropped step's header", () => {
    expect(dropPosition({ x: 300, y: 200 })).toEqual({ x: 200, y: 172 });
  });

  it("never fits the view below the zoom where a 14 px label is 10 px", () => {
    expect(readableZoom(14)).toBeCloseTo(10 / 14);
  });

  it("places handles where the node view draws them", () => {
    const boxes = handleBoxes(["true", "false"], true, false);
    expect(boxes.map((b) => [b.id, b.side])).toEqual([
      [null, "left"],
      ["true", "right"],
      ["false", "right"],
      ["error", "bottom"],
      ["compensate", "bottom"],
    ]);
    expect(boxes[3].y + boxes[3].height / 2).toBe(stepHeight(2));
    expect(boxes[4].y + boxes[4].height / 2).toBe(stepHeight(2));
    expect(boxes[4].x + boxes[4].width / 2).toBeLessThan(boxes[3].x);
    expect(handleBoxes(["out"], true, true).some((b) => b.type === "target")).toBe(false);
  });

  it("adds a clicked step in a free spot of the view, not on a step", () => {
    const view = { x: 0, y: 0, width: 800, height: 600 };
    const middle = freeSpot(view, []);
    const next = freeSpot(view, [{ x: middle.x, y: middle.y, width: 200, height: 56 }]);
    expect(next).not.toEqual(middle);
    expect(Math.abs(next.x - middle.x) >= 220 || Math.abs(next.y - middle.y) >= 76).toBe(true);
  });
});
