/** The run slice: whether the Run dialog is open, each step's newest test run, and the run
 * being debugged in the editor. */
import type { StateCreator } from "zustand";

import type { EditorState } from "../store";

/** A failed run opened in the editor ("Debug in editor"): the outputs of its steps that
 * finished stand in for them in tests, until the run is replayed on a fixed version. */
export type DebugRun = {
  id: number;
  version: number;
  outputs: Record<string, unknown>;
  /** The steps that failed or were cancelled: the replay runs them again. */
  failed: string[];
  /** The steps it skipped (branches not taken): tests skip them too. */
  skipped: string[];
};

export type RunSlice = {
  runOpen: boolean;
  setRunOpen: (open: boolean) => void;
  /** The newest test run started from each step's panel ("Run step", "Run up to here"). */
  testRuns: Record<string, number>;
  setTestRun: (node: string, run: number) => void;
  debugRun: DebugRun | null;
  setDebugRun: (run: DebugRun | null) => void;
  /** The step panel's tab. */
  stepTab: "configure" | "test";
  setStepTab: (tab: "configure" | "test") => void;
};

export const runSlice: StateCreator<EditorState, [], [], RunSlice> = (set) => ({
  runOpen: false,
  setRunOpen: (runOpen) => set({ runOpen }),
  testRuns: {},
  setTestRun: (node, run) => set((s) => ({ testRuns: { ...s.testRuns, [node]: run } })),
  debugRun: null,
  setDebugRun: (debugRun) => set({ debugRun }),
  stepTab: "configure",
  setStepTab: (stepTab) => set({ stepTab }),
});
