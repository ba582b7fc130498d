/**
 * Saving, and the version actions, as TanStack mutations over the store: save (a new workflow,
 * a new version, or a copy after a stale save), reload the newest version, open or compare an
 * old version, restore one. Each says how it went with a toast; a save the server refuses for
 * a newer version opens the stale-save dialog, one it refuses for problems lists them.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useReactFlow } from "@xyflow/react";
import { useNavigate } from "react-router";

import { ApiError, api } from "../api";
import { keys } from "../query";
import { FIT_VIEW } from "../steps/geometry";
import { toastError, toastOk } from "./toast";
import { diffGraphs, overlayGraph } from "./diff";
import type { GraphDoc } from "./graph";
import { EDITING } from "./slices/view";
import { failedTests, stepTestResultsKey } from "./stepTests";
import { isDirty, useEditor } from "./store";
import { type WorkflowDetail, fetchWorkflow, openWorkflow } from "./useDocument";

type Version = { number: number; graph: GraphDoc };

/** Ask the server for the newer version's number (409), or null for another refusal. */
function staleVersion(e: unknown): number | null {
  if (!(e instanceof ApiError) || e.status !== 409 || failedTests(e)) return null;
  return Number(e.body.latest_version) || useEditor.getState().meta.version + 1;
}

export function useSave() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: async ({ asCopy }: { asCopy: boolean }) => {
      const { meta, graph, note } = useEditor.getState();
      const name = meta.name.trim() || "Untitled workflow";
      const noted = note.trim() ? { note: note.trim() } : {};
      if (meta.id === null || asCopy) {
        const created = await api<WorkflowDetail>("/api/workflows/", {
          method: "POST",
          body: { name: asCopy ? `${name} (copy)` : name, graph, ...noted },
        });
        return { workflow: created, graph, created: true };
      }
      const updated = await api<WorkflowDetail>(`/api/workflows/${meta.id}/`, {
        method: "PUT",
        body: { graph, base_version: meta.version, ...noted, ...(meta.name !== meta.savedName ? { name } : {}) },
      });
      return { workflow: updated, graph, created: false };
    },
    onSuccess: ({ workflow, graph, created }, { asCopy }) => {
      const state = useEditor.getState();
      // The graph saved is the one sent; edits made while the request flew stay unsaved.
      state.markSaved({ id: workflow.id, name: workflow.name, savedName: workflow.name, version: workflow.latest_version });
      useEditor.setState({ saved: graph });
      queryClient.setQueryData(keys.workflow(workflow.id), workflow);
      void queryClient.invalidateQueries({ queryKey: keys.versions(workflow.id) });
      void queryClient.invalidateQueries({ queryKey: keys.webhook(workflow.id) });
      void queryClient.invalidateQueries({ queryKey: ["workflows"] });
      toastOk(asCopy ? `Saved as a new workflow, ${workflow.name}` : `Saved version ${workflow.latest_version}`);
      if (created) navigate(`/designer/${workflow.id}`, { replace: !asCopy });
    },
    onError: (e) => {
      const stale = staleVersion(e);
      const failed = failedTests(e);
      const id = useEditor.getState().meta.id;
      if (stale !== null) {
        useEditor.getState().setStale(stale);
      } else if (failed && id !== null) {
        // The Tests panel (workflow panel) shows which tests failed and why.
        queryClient.setQueryData(stepTestResultsKey(id), failed);
        useEditor.getState().setSaveErrors((e as ApiError).errors);
        const count = failed.results.filter((r) => !r.passed).length;
        toastError(e, `Not saved: ${count} step test${count > 1 ? "s" : ""} fail`);
      } else if (e instanceof ApiError && e.errors.length) {
        useEditor.getState().setSaveErrors(e.errors);
        toastError(e, `Not saved: ${e.errors.length} problem${e.errors.length > 1 ? "s" : ""} to fix first`);
      } else {
        toastError(e, "Not saved");
      }
    },
  });
  return {
    save: (asCopy = false) => mutation.mutate({ asCopy }),
    saving: mutation.isPending,
  };
}

export function useVersions() {
  const queryClient = useQueryClient();
  const flow = useReactFlow();
  const fetchVersion = (id: number, number: number) =>
    queryClient.fetchQuery({
      queryKey: keys.version(id, number),
      queryFn: () => api<Version>(`/api/workflows/${id}/versions/${number}/`),
      staleTime: Infinity, // a saved version never changes
    });
  const fit = () => requestAnimationFrame(() => void flow.fitView(FIT_VIEW));

  /** Drop the edits and load the newest version (after a stale save). */
  const reloadLatest = async () => {
    const { meta, catalog } = useEditor.getState();
    if (meta.id === null) return;
    try {
      const latest = await queryClient.fetchQuery({
        queryKey: keys.workflow(meta.id),
        queryFn: () => fetchWorkflow(meta.id!),
        staleTime: 0,
      });
      openWorkflow(latest, catalog);
      toastOk(`Reloaded version ${latest.latest_version}; your edits were dropped`);
    } catch (e) {
      toastError(e, "Could not reload");
    }
  };

  const openVersion = async (number: number) => {
    const state = useEditor.getState();
    if (state.meta.id === null) return;
    if (number === state.meta.version && !isDirty(state)) {
      state.setMode(EDITING);
      return;
    }
    try {
      const version = await fetchVersion(state.meta.id, number);
      state.setMode({ kind: "version", number, graph: version.graph });
      fit();
    } catch (e) {
      toastError(e, `Could not open version ${number}`);
    }
  };

  /** Compare version `number` with `against` (the version being edited, unless said). */
  const compare = async (number: number, against?: number) => {
    const state = useEditor.getState();
    const { id } = state.meta;
    const latest = against ?? state.meta.version;
    if (id === null) return;
    try {
      const [old, now] = await Promise.all([fetchVersion(id, number), fetchVersion(id, latest)]);
      const diff = diffGraphs(old.graph, now.graph);
      state.setMode({ kind: "diff", number, latest, diff, graph: overlayGraph(old.graph, now.graph, diff) });
      fit();
    } catch (e) {
      toastError(e, "Could not compare");
    }
  };

  const restore = useMutation({
    mutationFn: async (number: number) => {
      const { meta } = useEditor.getState();
      const version = await fetchVersion(meta.id!, number);
      return api<WorkflowDetail>(`/api/workflows/${meta.id}/`, {
        method: "PUT",
        body: { graph: version.graph, base_version: meta.version, note: `Restored version ${number}` },
      });
    },
    onSuccess: (updated, number) => {
      openWorkflow(updated, useEditor.getState().catalog);
      queryClient.setQueryData(keys.workflow(updated.id), updated);
      void queryClient.invalidateQueries({ queryKey: keys.versions(updated.id) });
      toastOk(`Restored version ${number} as version ${updated.latest_version}`);
    },
    onError: (e) => {
      const stale = staleVersion(e);
      if (stale !== null) useEditor.getState().setStale(stale);
      else toastError(e, "Not restored");
    },
  });

  return { reloadLatest, openVersion, compare, restore: (n: number) => restore.mutate(n) };
}
