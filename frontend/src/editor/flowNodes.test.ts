import { describe, expect, it } from "vitest";

import { FlowNodes } from "./flowNodes";
import type { NodeDoc } from "./graph";
import { CATALOG } from "./testCatalog";

const view = (selected: string[] = [], dragged: Record<string, { x: number; y: number }> = {}) => ({
  selected: (id: string) => selected.includes(id),
  problems: () => 0,
  change: () => undefined,
  dragged: (id: string) => dragged[id],
});

describe("FlowNodes", () => {
  const a: NodeDoc = { id: "a", type: "trigger.manual", config: {}, position: { x: 0, y: 0 } };
  const b: NodeDoc = { id: "b", type: "data.transform", config: {}, position: { x: 200, y: 0 } };

  it("reuses the objects of unchanged steps and rebuilds only the changed ones", () => {
    const flow = new FlowNodes();
    const first = flow.build([a, b], CATALOG, view());
    const moved = { ...b, position: { x: 300, y: 0 } };
    const second = flow.build([a, moved], CATALOG, view());
    expect(second[0]).toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
    expect(second[1].position).toEqual({ x: 300, y: 0 });
    const third = flow.build([a, moved], CATALOG, view(["a"]));
    expect(third[0]).not.toBe(second[0]);
    expect(third[0].selected).toBe(true);
    expect(third[1]).toBe(second[1]);
  });

  it("gives a rebuilt step the size React Flow measured, so it is not measured again", () => {
    const flow = new FlowNodes();
    expect(flow.build([a], CATALOG, view())[0].measured).toBeUndefined();
    flow.measured("a", { width: 180, height: 90 });
    const rebuilt = flow.build([{ ...a, label: "Start" }], CATALOG, view());
    expect(rebuilt[0].measured).toEqual({ width: 180, height: 90 });
    expect(rebuilt[0].data.label).toBe("Start");
  });

  it("shows a dragged step where the pointer has it, before the drag becomes an edit", () => {
    const flow = new FlowNodes();
    const at = { x: 55, y: 66 };
    expect(flow.build([a, b], CATALOG, view([], { b: at }))[1].position).toBe(at);
  });
});
