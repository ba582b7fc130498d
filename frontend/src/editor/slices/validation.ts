/**
 * The validation slice: the problems of the graph being edited, found in the browser
 * (liveProblems), by the server's validation and by the last save, merged; and how many fall
 * on each step (the badge on its card). Written by ProblemsSync (editor/problems.ts).
 */
import type { StateCreator } from "zustand";

import type { Problem } from "../graph";
import type { EditorState } from "../store";

export type ValidationSlice = {
  problems: Problem[];
  problemsByNode: Map<string, number>;
  setProblems: (problems: Problem[], byNode: Map<string, number>) => void;
};

export const validationSlice: StateCreator<EditorState, [], [], ValidationSlice> = (set) => ({
  problems: [],
  problemsByNode: new Map(),
  setProblems: (problems, problemsByNode) => set({ problems, problemsByNode }),
});
