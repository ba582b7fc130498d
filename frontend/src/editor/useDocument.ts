/**
 * Puts the workflow of the route in the editor: the catalog and the workflow come from
 * TanStack Query (one key each), and land in the store once, when both are there. Later
 * answers for the same workflow (a background refetch, the cache a save updated) never
 * replace what the user is editing; another route, or an explicit reload, does.
 */
import { useQuery } from "@tanstack/react-query";
import { useReactFlow } from "@xyflow/react";
import { useEffect } from "react";

import { api } from "../api";
import { keys } from "../query";
import { useCatalog } from "../catalog";
import { FIT_VIEW } from "../steps/geometry";
import type { Catalog, GraphDoc } from "./graph";
import { EMPTY_GRAPH } from "./slices/document";
import { NEW_META, newerThan } from "./slices/save";
import { EDITING } from "./slices/view";
import { useEditor } from "./store";

export type WorkflowDetail = {
  id: number;
  name: string;
  latest_version: number;
  /** Saving a version runs the step tests first and is refused while one fails. */
  require_tests?: boolean;
  version: { number: number; graph: GraphDoc };
};

export { useCatalog } from "../catalog";

export function fetchWorkflow(id: number): Promise<WorkflowDetail> {
  return api<WorkflowDetail>(`/api/workflows/${id}/`);
}

/** Put a workflow (its newest version) in the editor, dropping any edits. */
export function openWorkflow(workflow: WorkflowDetail, catalog: Catalog): void {
  const state = useEditor.getState();
  state.load(workflow.version.graph, catalog);
  useEditor.setState({
    meta: { id: workflow.id, name: workflow.name, savedName: workflow.name, version: workflow.latest_version },
    mode: EDITING,
    stale: null,
    newer: state.newer?.workflow === workflow.id ? newerThan(state.newer, workflow.latest_version) : null,
    note: "",
    loaded: true,
    testRuns: {},
    debugRun: null,
  });
}

/** Everything the editor holds, as on a fresh page (when the page is left). */
export function resetEditor(): void {
  useEditor.getState().load(EMPTY_GRAPH, useEditor.getState().catalog);
  useEditor.setState({
    meta: NEW_META,
    mode: EDITING,
    stale: null,
    newer: null,
    note: "",
    loaded: false,
    historyOpen: false,
    runOpen: false,
    testRuns: {},
    debugRun: null,
    find: "",
    dragged: {},
    connectHint: null,
    problems: [],
    problemsByNode: new Map(),
  });
}

/** Loads the route's workflow (null: a new one) into the editor; the error, if loading failed. */
export function useDocument(workflowId: number | null): Error | null {
  const catalog = useCatalog();
  const workflow = useQuery({
    queryKey: keys.workflow(workflowId ?? 0),
    queryFn: () => fetchWorkflow(workflowId!),
    enabled: workflowId !== null,
  });
  const flow = useReactFlow();

  useEffect(() => {
    const state = useEditor.getState();
    // Already in the editor (just saved under this id, say): nothing to load.
    if (state.loaded && state.meta.id === workflowId) return;
    if (state.meta.id !== workflowId && state.loaded) state.setLoaded(false);
    if (!catalog.data) return;
    if (workflowId === null) {
      // A name typed while the catalog loaded is kept.
      const name = state.meta.id === null ? state.meta.name : "";
      state.load(EMPTY_GRAPH, catalog.data);
      useEditor.setState({ meta: { ...NEW_META, name }, mode: EDITING, stale: null, loaded: true });
      // A new workflow opens at zoom 1 (nothing to fit).
      void flow.setViewport({ x: 0, y: 0, zoom: 1 });
    } else if (workflow.data) {
      openWorkflow(workflow.data, catalog.data);
      void flow.fitView(FIT_VIEW);
    }
  }, [workflowId, catalog.data, workflow.data, flow]);

  return (catalog.error as Error | null) ?? (workflow.error as Error | null);
}
