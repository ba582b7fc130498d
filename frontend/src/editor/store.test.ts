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
