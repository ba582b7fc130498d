/**
 * The editor's state: one zustand store made of slices (STYLE 18), each in editor/slices/:
 * the document and its undo history, the selection, the save state (what is saved, the
 * name, the note, a stale save), the problems found, the view (editing, an old version, a diff; which side panel),
 * find, the drag in progress, and the run dialog. Components read it through selectors; the
 * actions that talk to the server are hooks beside it (useDocument.ts, useSave.ts).
 */
import { create } from "zustand";

import { type DocumentSlice, documentSlice } from "./slices/document";
import { type DragSlice, dragSlice } from "./slices/drag";
import { type FindSlice, findSlice } from "./slices/find";
import { type RunSlice, runSlice } from "./slices/run";
import { type SaveSlice, saveSlice } from "./slices/save";
import { type SelectionSlice, selectionSlice } from "./slices/selection";
import { type ValidationSlice, validationSlice } from "./slices/validation";
import { type ViewSlice, viewSlice } from "./slices/view";

export type EditorState = DocumentSlice &
  SelectionSlice &
  SaveSlice &
  ValidationSlice &
  ViewSlice &
  FindSlice &
  DragSlice &
  RunSlice;

export const useEditor = create<EditorState>()((...a) => ({
  ...documentSlice(...a),
  ...selectionSlice(...a),
  ...saveSlice(...a),
  ...validationSlice(...a),
  ...viewSlice(...a),
  ...findSlice(...a),
  ...dragSlice(...a),
  ...runSlice(...a),
}));

/** Edits not saved yet: the graph or the name differ from what was saved (nothing while the
 * workflow loads, when the store may still hold the last one). */
export function isDirty(s: EditorState): boolean {
  return s.loaded && (s.graph !== s.saved || s.meta.name !== s.meta.savedName);
}

/** Whether the canvas edits the graph (not an old version or a diff). */
export function isEditing(s: EditorState): boolean {
  return s.mode.kind === "edit";
}
