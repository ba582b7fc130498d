/**
 * The view slice: what the canvas shows (the graph being edited, an old version read-only, or
 * a comparison of two versions) and which side panel is open.
 */
import type { StateCreator } from "zustand";

import type { GraphDiff } from "../diff";
import type { GraphDoc } from "../graph";
import type { EditorState } from "../store";

export type Mode =
  | { kind: "edit" }
  | { kind: "version"; number: number; graph: GraphDoc }
  | { kind: "diff"; number: number; latest: number; diff: GraphDiff; graph: GraphDoc };

export const EDITING: Mode = { kind: "edit" };

export type ViewSlice = {
  mode: Mode;
  /** The version history replaces the side panel. */
  historyOpen: boolean;
  setMode: (mode: Mode) => void;
  setHistoryOpen: (open: boolean) => void;
};

export const viewSlice: StateCreator<EditorState, [], [], ViewSlice> = (set) => ({
  mode: EDITING,
  historyOpen: false,
  setMode: (mode) => set({ mode }),
  setHistoryOpen: (historyOpen) => set({ historyOpen }),
});
