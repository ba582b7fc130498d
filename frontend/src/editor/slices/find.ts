/** The find slice: the text in the toolbar's "Find step" box, and what it last failed to find. */
import type { StateCreator } from "zustand";

import type { GraphDoc, NodeDoc } from "../graph";
import type { EditorState } from "../store";

export type FindSlice = {
  find: string;
  setFind: (text: string) => void;
};

/** The step `text` names: an exact id or label first, then the first that contains it. */
export function findStep(graph: GraphDoc, text: string): NodeDoc | undefined {
  const wanted = text.trim().toLowerCase();
  if (!wanted) return undefined;
  return (
    graph.nodes.find((n) => n.id === wanted || (n.label ?? "").toLowerCase() === wanted) ??
    graph.nodes.find((n) => n.id.includes(wanted) || (n.label ?? "").toLowerCase().includes(wanted))
  );
}

export const findSlice: StateCreator<EditorState, [], [], FindSlice> = (set) => ({
  find: "",
  setFind: (find) => set({ find }),
});
