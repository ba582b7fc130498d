/**
 * The document slice: the graph being edited, the catalog it is checked against, and the undo
 * history. Every edit goes through `edit`, which makes it one undoable step and drops the
 * save's problems (they were about the graph before it).
 */
import type { StateCreator } from "zustand";

import {
  type Catalog,
  type Clip,
  type Connection,
  type GraphDoc,
  type NodeDoc,
  type Position,
  connectionProblem,
  copySelection,
  insertStep,
  newEdgeId,
  newNodeId,
  nodeProblem,
  prepareClip,
  renameNode,
} from "../graph";
import type { EditorState } from "../store";

const HISTORY_LIMIT = 200;

export const EMPTY_GRAPH: GraphDoc = { format: 1, nodes: [], edges: [] };

export type DocumentSlice = {
  catalog: Catalog;
  graph: GraphDoc;
  past: GraphDoc[];
  future: GraphDoc[];
  clipboard: Clip | null;
  /** Why the last edit was refused, for the user to see; null after a successful one. */
  problem: string | null;

  /** Put `graph` in the editor as the saved state: no history, nothing selected. */
  load: (graph: GraphDoc, catalog: Catalog) => void;
  addNode: (type: string, position: Position) => string | null;
  /** Put a new step of `type` on an edge: source → new step → target; the new step's id. */
  insertOnEdge: (edgeId: string, type: string, position: Position) => string | null;
  moveNodes: (moves: Record<string, Position>) => void;
  updateNode: (id: string, change: Partial<Omit<NodeDoc, "id">>) => void;
  /** Rename a step, its edges and the expressions naming it; the refusal, or null. */
  renameNode: (from: string, to: string) => string | null;
  /** Set a workflow-level part of the graph (its input schema or output); undefined removes it. */
  setGraphPart: (key: "input_schema" | "output" | "priority", value: unknown) => void;
  disconnect: (edgeId: string) => void;
  connect: (connection: Connection) => boolean;
  deleteSelected: () => void;
  copy: () => void;
  paste: (offset?: Position) => string[];
  duplicate: () => string[];
  undo: () => void;
  redo: () => void;
  dismissProblem: () => void;
};

/** The selected ids that still exist in ``graph`` (an undo may remove what was selected). */
function stillThere(selected: Set<string>, graph: GraphDoc): Set<string> {
  const ids = new Set([...graph.nodes.map((n) => n.id), ...graph.edges.map((e) => e.id)]);
  return new Set([...selected].filter((id) => ids.has(id)));
}

export const documentSlice: StateCreator<EditorState, [], [], DocumentSlice> = (set, get) => {
  /** Apply an edit as one undoable step. */
  const edit = (change: (graph: GraphDoc) => GraphDoc) => {
    const { graph, past } = get();
    const next = change(graph);
    if (next === graph) return;
    set({ graph: next, past: [...past, graph].slice(-HISTORY_LIMIT), future: [], problem: null, saveErrors: [] });
  };

  return {
    catalog: {},
    graph: EMPTY_GRAPH,
    past: [],
    future: [],
    clipboard: null,
    problem: null,

    load: (graph, catalog) => {
      const copy = structuredClone(graph);
      set({ graph: copy, saved: copy, catalog, past: [], future: [], selected: new Set(), problem: null, saveErrors: [] });
    },

    addNode: (type, position) => {
      const { graph, catalog } = get();
      const problem = nodeProblem(graph, catalog, type);
      if (problem) {
        set({ problem });
        return null;
      }
      const id = newNodeId(type, graph.nodes.map((n) => n.id));
      const label = catalog[type]?.title ?? type;
      edit((g) => ({ ...g, nodes: [...g.nodes, { id, type, label, position, config: {} }] }));
      set({ selected: new Set([id]) });
      return id;
    },

    insertOnEdge: (edgeId, type, position) => {
      const { graph, catalog } = get();
      const inserted = insertStep(graph, catalog, edgeId, type, position);
      if (typeof inserted === "string") {
        set({ problem: inserted });
        return null;
      }
      edit(() => inserted.graph);
      set({ selected: new Set([inserted.id]) });
      return inserted.id;
    },

    moveNodes: (moves) =>
      edit((g) => {
        const moved = (n: NodeDoc) => {
          const to = moves[n.id];
          return to && (to.x !== n.position?.x || to.y !== n.position?.y);
        };
        if (!g.nodes.some(moved)) return g;
        return { ...g, nodes: g.nodes.map((n) => (moved(n) ? { ...n, position: moves[n.id] } : n)) };
      }),

    updateNode: (id, change) =>
      edit((g) => ({ ...g, nodes: g.nodes.map((n) => (n.id === id ? { ...n, ...change } : n)) })),

    renameNode: (from, to) => {
      const renamed = renameNode(get().graph, from, to);
      if (typeof renamed === "string") return renamed;
      edit(() => renamed);
      set((state) => ({
        selected: new Set([...state.selected].map((id) => (id === from ? to : id))),
      }));
      return null;
    },

    setGraphPart: (key, value) =>
      edit((g) => {
        if (JSON.stringify(g[key]) === JSON.stringify(value)) return g;
        const next = { ...g };
        if (value === undefined) delete next[key];
        else (next as Record<string, unknown>)[key] = value;
        return next;
      }),

    disconnect: (edgeId) =>
      edit((g) =>
        g.edges.some((e) => e.id === edgeId) ? { ...g, edges: g.edges.filter((e) => e.id !== edgeId) } : g,
      ),

    connect: (connection) => {
      const { graph, catalog } = get();
      const problem = connectionProblem(graph, catalog, connection);
      if (problem) {
        set({ problem });
        return false;
      }
      const handle = connection.sourceHandle || undefined;
      edit((g) => ({
        ...g,
        edges: [
          ...g.edges,
          {
            id: newEdgeId(g.edges.map((e) => e.id)),
            source: connection.source,
            target: connection.target,
            ...(handle && handle !== "out" ? { source_handle: handle } : {}),
          },
        ],
      }));
      return true;
    },

    deleteSelected: () => {
      const { selected } = get();
      if (!selected.size) return;
      edit((g) => ({
        ...g,
        nodes: g.nodes.filter((n) => !selected.has(n.id)),
        edges: g.edges.filter((e) => !selected.has(e.source) && !selected.has(e.target) && !selected.has(e.id)),
      }));
      set({ selected: new Set() });
    },

    copy: () => {
      const { graph, selected } = get();
      if (selected.size) set({ clipboard: copySelection(graph, selected) });
    },

    paste: (offset = { x: 40, y: 40 }) => {
      const { clipboard, graph, catalog } = get();
      if (!clipboard) return [];
      const clip = prepareClip(graph, catalog, clipboard, offset);
      if (!clip.nodes.length) return [];
      edit((g) => ({ ...g, nodes: [...g.nodes, ...clip.nodes], edges: [...g.edges, ...clip.edges] }));
      const ids = clip.nodes.map((n) => n.id);
      set({ selected: new Set(ids) });
      return ids;
    },

    duplicate: () => {
      get().copy();
      return get().paste();
    },

    undo: () => {
      const { past, graph, future, selected } = get();
      if (!past.length) return;
      const previous = past[past.length - 1];
      set({
        graph: previous,
        past: past.slice(0, -1),
        future: [graph, ...future],
        selected: stillThere(selected, previous),
        problem: null,
        saveErrors: [],
      });
    },

    redo: () => {
      const { past, graph, future, selected } = get();
      if (!future.length) return;
      set({
        graph: future[0],
        past: [...past, graph],
        future: future.slice(1),
        selected: stillThere(selected, future[0]),
        problem: null,
        saveErrors: [],
      });
    },

    dismissProblem: () => set({ problem: null }),
  };
};
