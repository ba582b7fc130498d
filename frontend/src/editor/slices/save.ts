/**
 * The save slice: which workflow this is and what of it is saved (the graph as saved, its
 * name, its newest version), the note for the next version, the problems the server found in
 * the last save, and a stale save (someone saved a newer version meanwhile).
 */
import type { StateCreator } from "zustand";

import type { GraphDoc, Problem } from "../graph";
import type { EditorState } from "../store";
import { EMPTY_GRAPH } from "./document";

/** What the editor knows of the workflow being edited; id null until the first save. */
export type Meta = { id: number | null; name: string; savedName: string; version: number };

export type SaveSlice = {
  meta: Meta;
  /** The graph as last saved or loaded: the graph differs from it when there are edits. */
  saved: GraphDoc;
  /** The workflow (or the new one) is in the editor. */
  loaded: boolean;
  note: string;
  saveErrors: Problem[];
  /** The newer version someone saved meanwhile, when a save was refused for it. */
  stale: number | null;

  setName: (name: string) => void;
  setNote: (note: string) => void;
  setLoaded: (loaded: boolean) => void;
  /** The graph on screen was saved (or loaded) as `meta`. */
  markSaved: (meta: Meta) => void;
  setSaveErrors: (errors: Problem[]) => void;
  setStale: (version: number | null) => void;
};

export const NEW_META: Meta = { id: null, name: "", savedName: "", version: 0 };

export const saveSlice: StateCreator<EditorState, [], [], SaveSlice> = (set) => ({
  meta: NEW_META,
  saved: EMPTY_GRAPH,
  loaded: false,
  note: "",
  saveErrors: [],
  stale: null,

  setName: (name) => set((s) => ({ meta: { ...s.meta, name } })),
  setNote: (note) => set({ note }),
  setLoaded: (loaded) => set({ loaded }),
  markSaved: (meta) => set((s) => ({ meta, saved: s.graph, note: "", stale: null, saveErrors: [] })),
  setSaveErrors: (saveErrors) => set({ saveErrors }),
  setStale: (stale) => set({ stale }),
});
