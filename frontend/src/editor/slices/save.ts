/**
 * The save slice: which workflow this is and what of it is saved (the graph as saved, its
 * name, its newest version), the note for the next version, the problems the server found in
 * the last save, a stale save (someone saved a newer version meanwhile), and a newer version
 * someone else saved while this one is open (the designer's socket says so before any save).
 */
import type { StateCreator } from "zustand";

import type { GraphDoc, Problem } from "../graph";
import type { SavedVersion } from "../presence";
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
  /** A newer version than `meta.version` that someone else saved, told live. */
  newer: SavedVersion | null;

  setName: (name: string) => void;
  setNote: (note: string) => void;
  setLoaded: (loaded: boolean) => void;
  /** The graph on screen was saved (or loaded) as `meta`. */
  markSaved: (meta: Meta) => void;
  setSaveErrors: (errors: Problem[]) => void;
  setStale: (version: number | null) => void;
  setNewer: (version: SavedVersion | null) => void;
};

/** What is left of a newer version's notice once `version` is on screen. */
export function newerThan(newer: SavedVersion | null, version: number): SavedVersion | null {
  return newer !== null && newer.number > version ? newer : null;
}

export const NEW_META: Meta = { id: null, name: "", savedName: "", version: 0 };

export const saveSlice: StateCreator<EditorState, [], [], SaveSlice> = (set) => ({
  meta: NEW_META,
  saved: EMPTY_GRAPH,
  loaded: false,
  note: "",
  saveErrors: [],
  stale: null,
  newer: null,

  setName: (name) => set((s) => ({ meta: { ...s.meta, name } })),
  setNote: (note) => set({ note }),
  setLoaded: (loaded) => set({ loaded }),
  markSaved: (meta) =>
    set((s) => ({ meta, saved: s.graph, note: "", stale: null, saveErrors: [], newer: newerThan(s.newer, meta.version) })),
  setSaveErrors: (saveErrors) => set({ saveErrors }),
  setStale: (stale) => set({ stale }),
  setNewer: (newer) => set({ newer }),
});
