import { beforeEach, describe, expect, it } from "vitest";

import { useEditor } from "./store";
import { CATALOG } from "./testCatalog";

const editor = () => useEditor.getState();

beforeEach(() => {
  editor().load({ format: 1, nodes: [], edges: [] }, CATALOG);
});

describe("the editor store", () => {
  it("adds steps with fresh ids and connects them", () => {
    const start = editor().addNode("trigger.manual", { x: 0, y: 0 });
    const shape = editor().addNode("data.transform", { x: 200, y: 0 });

    expect([start, shape]).toEqual(["manual", "transform"]);
    expect(editor().connect({ source: "manual", target: "transform" })).toBe(true);
    expect(editor().graph.edges).toEqual([{ id: "e1", source: "manual", target: "transform" }]);
  });

  it("refuses a second trigger and a cycle, and says why", () => {
    editor().addNode("trigger.manual", { x: 0, y: 0 });
    editor().addNode("data.transform", { x: 0, y: 0 });
    editor().connect({ source: "manual", target: "transform" });

    expect(editor().addNode("trigger.manual", { x: 0, y: 0 })).toBeNull();
    expect(editor().problem).toMatch(/one trigger/);
    expect(editor().connect({ source: "transform", target: "manual" })).toBe(false);
    expect(editor().problem).toMatch(/trigger/);
    expect(editor().graph.edges).toHaveLength(1);
  });

  it("undoes and redoes every edit in order", () => {
    editor().addNode("trigger.manual", { x: 0, y: 0 });
    editor().addNode("data.transform", { x: 100, y: 0 });
    editor().moveNodes({ transform: { x: 300, y: 50 } });
    editor().connect({ source: "manual", target: "transform" });

    editor().undo();
    expect(editor().graph.edges).toEqual([]);
    editor().undo();
    expect(editor().graph.nodes[1].position).toEqual({ x: 100, y: 0 });
    editor().undo();
    editor().undo();
    expect(editor().graph.nodes).toEqual([]);
    editor().undo(); // nothing left: no change
    expect(editor().graph.nodes).toEqual([]);

    editor().redo();
    editor().redo();
    editor().redo();
    editor().redo();
    expect(editor().graph.nodes[1].position).toEqual({ x: 300, y: 50 });
    expect(editor().graph.edges).toHaveLength(1);
  });

  it("forgets the redo history after a new edit", () => {
    editor().addNode("data.transform", { x: 0, y: 0 });
    editor().undo();
    editor().addNode("logic.condition", { x: 0, y: 0 });
    editor().redo();
    expect(editor().graph.nodes.map((n) => n.type)).toEqual(["logic.condition"]);
  });

  it("deletes the selection with its edges, as one undoable edit", () => {
    editor().addNode("trigger.manual", { x: 0, y: 0 });
    editor().addNode("data.transform", { x: 0, y: 0 });
    editor().connect({ source: "manual", target: "transform" });
    editor().select(["transform"]);

    editor().deleteSelected();
    expect(editor().graph.nodes.map((n) => n.id)).toEqual(["manual"]);
    expect(editor().graph.edges).toEqual([]);

    editor().undo();
    expect(editor().graph.edges).toHaveLength(1);
  });

  it("duplicates the selection with fresh ids and selects the copies", () => {
    editor().addNode("logic.condition", { x: 0, y: 0 });
    editor().addNode("data.transform", { x: 200, y: 0 });
    editor().connect({ source: "condition", target: "transform", sourceHandle: "true" });
    editor().select(["condition", "transform"]);

    const ids = editor().duplicate();

    expect(ids).toEqual(["condition_2", "transform_2"]);
    expect([...editor().selected]).toEqual(ids);
    expect(editor().graph.edges.at(-1)).toMatchObject({ source: "condition_2", target: "transform_2", source_handle: "true" });
    editor().undo();
    expect(editor().graph.nodes).toHaveLength(2);
  });

  it("drops from the selection what an undo removed", () => {
    editor().addNode("data.transform", { x: 0, y: 0 });
    editor().addNode("logic.condition", { x: 0, y: 0 });
    expect([...editor().selected]).toEqual(["condition"]);

    editor().undo();

    expect([...editor().selected]).toEqual([]);
  });
});

describe("rename, workflow parts and disconnect", () => {
  beforeEach(() => {
    useEditor.getState().load(
      {
        format: 1,
        nodes: [
          { id: "start", type: "trigger.manual", config: {} },
          { id: "shape", type: "data.transform", config: { value: "{{ steps.start.output }}" } },
        ],
        edges: [{ id: "e1", source: "start", target: "shape" }],
      },
      CATALOG,
    );
  });

  it("renames as one undoable edit and keeps the renamed step selected", () => {
    const s = useEditor.getState();
    s.select(["start"]);
    expect(s.renameNode("start", "begin")).toBeNull();
    let now = useEditor.getState();
    expect(now.graph.edges[0].source).toBe("begin");
    expect(now.graph.nodes[1].config.value).toBe("{{ steps.begin.output }}");
    expect([...now.selected]).toEqual(["begin"]);
    now.undo();
    now = useEditor.getState();
    expect(now.graph.nodes[0].id).toBe("start");
    expect(now.selected.size).toBe(0);
    expect(now.renameNode("start", "shape")).toMatch(/already/);
    expect(useEditor.getState().past).toHaveLength(0);
  });

  it("sets and removes the input schema, and an unchanged value is no edit", () => {
    const s = useEditor.getState();
    s.setGraphPart("input_schema", { type: "object" });
    expect(useEditor.getState().graph.input_schema).toEqual({ type: "object" });
    s.setGraphPart("input_schema", { type: "object" });
    expect(useEditor.getState().past).toHaveLength(1);
    s.setGraphPart("input_schema", undefined);
    expect("input_schema" in useEditor.getState().graph).toBe(false);
  });

  it("removes one edge", () => {
    useEditor.getState().disconnect("e1");
    expect(useEditor.getState().graph.edges).toEqual([]);
    useEditor.getState().undo();
    expect(useEditor.getState().graph.edges).toHaveLength(1);
  });
});

describe("moveNodes", () => {
  it("is no edit when nothing moves, and keeps unmoved steps as they were", () => {
    useEditor.getState().load(
      {
        format: 1,
        nodes: [
          { id: "a", type: "trigger.manual", config: {}, position: { x: 0, y: 0 } },
          { id: "b", type: "data.transform", config: {}, position: { x: 10, y: 0 } },
        ],
        edges: [],
      },
      CATALOG,
    );
    const before = useEditor.getState().graph;
    useEditor.getState().moveNodes({ a: { x: 0, y: 0 } });
    expect(useEditor.getState().graph).toBe(before);
    useEditor.getState().moveNodes({ a: { x: 20, y: 0 } });
    const after = useEditor.getState().graph;
    expect(after.nodes[0].position).toEqual({ x: 20, y: 0 });
    expect(after.nodes[1]).toBe(before.nodes[1]);
    expect(useEditor.getState().past).toHaveLength(1);
  });
});
