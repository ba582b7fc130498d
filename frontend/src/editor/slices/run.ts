/** The run slice: whether the Run dialog is open, and each step's newest test run. */
import type { StateCreator } from "zustand";

import type { EditorState } from "../store";

export type RunSlice = {
  runOpen: boolean;
  setRunOpen: (open: boolean) => void;
  /** The newest test run started from each step's panel ("Run step", "Run up to here"). */
  testRuns: Record<string, number>;
  setTestRun: (node: string, run: number) => void;
};

export const runSlice: StateCreator<EditorState, [], [], RunSlice> = (set) => ({
  runOpen: false,
  setRunOpen: (runOpen) => set({ runOpen }),
  testRuns: {},
  setTestRun: (node, run) => set((s) => ({ testRuns: { ...s.testRuns, [node]: run } })),
});
