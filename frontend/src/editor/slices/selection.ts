/** The selection slice: the ids of the selected steps and connections. */
import type { StateCreator } from "zustand";

import type { EditorState } from "../store";

export type SelectionSlice = {
  selected: Set<string>;
  select: (ids: string[], add?: boolean) => void;
};

export const selectionSlice: StateCreator<EditorState, [], [], SelectionSlice> = (set) => ({
  selected: new Set(),
  select: (ids, add = false) => set((state) => ({ selected: new Set([...(add ? state.selected : []), ...ids]) })),
});
