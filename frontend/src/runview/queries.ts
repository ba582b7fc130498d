/** The run view's server state: TanStack Query hooks over `keys.*` (query.ts). */
import { useQuery, useQueryClient } from "@tanstack/react-query";

import { api } from "../api";
import type { GraphDoc } from "../editor/graph";
import { keys } from "../query";
import { readEvents, readRun } from "./cache";
import type { StepLogs } from "./logs";

export function useRun(id: number) {
  const client = useQueryClient();
  return useQuery({ queryKey: keys.run(id), queryFn: () => readRun(client, id) });
}

/** The whole event log; read once the run was read (so that it reaches at least the run's
 * `last_event_id`, where the live socket takes over). */
export function useRunEvents(id: number, enabled: boolean) {
  const client = useQueryClient();
  return useQuery({ queryKey: keys.runEvents(id), queryFn: () => readEvents(client, id), enabled, staleTime: Infinity });
}

/** A workflow version's graph: a saved version never changes. */
export function useVersionGraph(workflow: number | undefined, version: number | undefined) {
  return useQuery({
    queryKey: keys.version(workflow ?? 0, version ?? 0),
    queryFn: () => api<{ number: number; graph: GraphDoc }>(`/api/workflows/${workflow}/versions/${version}/`),
    enabled: workflow !== undefined && version !== undefined,
    staleTime: Infinity,
    select: (v) => v.graph,
  });
}

/** The step-type catalog by type name (shared with the designer: one key, one shape). */
export { useCatalog } from "../catalog";

/** A step's logs; events make them stale when one of its attempts ends (cache.ts). */
export function useStepLogs(runId: number, node: string) {
  return useQuery({
    queryKey: keys.stepLogs(runId, node),
    queryFn: () => api<StepLogs>(`/api/runs/${runId}/steps/${encodeURIComponent(node)}/logs/`),
    staleTime: Infinity,
  });
}
