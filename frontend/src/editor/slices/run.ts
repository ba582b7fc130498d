/** The run slice: whether the Run dialog is open. */
import type { StateCreator } from "zustand";

import type { EditorState } from "../store";

export type RunSlice = {
  runOpen: boolean;
  setRunOpen: (open: boolean) => void;
};

export const runSlice: StateCreator<EditorState, [], [], RunSlice> = (set) => ({
  runOpen: false,
  setRunOpen: (runOpen) => set({ runOpen }),
});
