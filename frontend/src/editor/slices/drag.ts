/**
 * The drag slice: where the steps being dragged are now (shown on the canvas, not yet an edit:
 * the drop is one undoable move), and why a connection being dragged would be refused.
 */
import type { StateCreator } from "zustand";

import type { Position } from "../graph";
import type { EditorState } from "../store";

export type DragSlice = {
  dragged: Record<string, Position>;
  /** Why the handle under the pointer refuses the connection being dragged; null if none. */
  connectHint: string | null;
  setDragged: (dragged: Record<string, Position>) => void;
  setConnectHint: (hint: string | null) => void;
};

export const dragSlice: StateCreator<EditorState, [], [], DragSlice> = (set, get) => ({
  dragged: {},
  connectHint: null,
  setDragged: (dragged) => set({ dragged }),
  setConnectHint: (connectHint) => {
    if (get().connectHint !== connectHint) set({ connectHint });
  },
});
