/**
 * Testing steps while building (issue 18): the workflow's pinned outputs, test runs of the
 * draft ("Run step", "Run up to here"), and which data a test gives the steps above the one
 * tested. The server decides (engine/testruns.py); `upstreamSources` says the same beforehand,
 * so the panel can show where each input will come from.
 */
import { type QueryClient, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { ApiError, type ApiErrorItem, api } from "../api";
import type { Run } from "../runview/model";
import { keys } from "../query";
import type { GraphDoc } from "./graph";

export type Pin = { output: unknown; handle: string; pinned_by: string; pinned_at: string };
export type Pins = Record<string, Pin>;
export type TestMode = "step" | "upto";

export const pinsKey = (workflowId: number) => ["workflow", workflowId, "pins"] as const;

const NO_PINS: Pins = {};

/** The workflow's pins (none for a workflow never saved). */
export function usePins(workflowId: number | null): Pins {
  const query = useQuery({
    queryKey: pinsKey(workflowId ?? 0),
    queryFn: () => api<{ pins: Pins }>(`/api/workflows/${workflowId}/pins/`),
    enabled: workflowId !== null,
    select: (body) => body.pins,
    staleTime: 30_000,
  });
  return query.data ?? NO_PINS;
}

/** Pin an output (`output` given; `handle`: the branch a condition or switch chose with it) or
 * unpin (`output` undefined); the pins are read again. */
export function usePinMutation(workflowId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ node, output, handle = "" }: { node: string; output?: unknown; handle?: string }): Promise<Pin | null> =>
      output === undefined
        ? api<null>(`/api/workflows/${workflowId}/pins/${node}/`, { method: "DELETE" })
        : api<Pin>(`/api/workflows/${workflowId}/pins/${node}/`, { method: "PUT", body: { output, handle } }),
    onSettled: () => client.invalidateQueries({ queryKey: pinsKey(workflowId) }),
  });
}

export type TestRequest = {
  graph: GraphDoc;
  node: string;
  mode: TestMode;
  data?: Record<string, unknown>;
  confirm_effects?: boolean;
  capture_email?: boolean;
  /** The run being debugged: the steps above take their results in it (after `data`). */
  run?: number;
};

/** Start a test run; its first state goes into the run's cache entry, where the live socket
 * keeps it current (runview/cache.ts). */
export async function startTestRun(client: QueryClient, workflowId: number, request: TestRequest): Promise<Run> {
  const run = await api<Run>(`/api/workflows/${workflowId}/test-runs/`, { method: "POST", body: request });
  client.setQueryData(keys.run(run.id), run);
  return run;
}

/** The steps a refused test would run for real (the 409's errors), or null for another error. */
export function effectsToConfirm(error: unknown): ApiErrorItem[] | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const effects = error.errors.filter((e) => e.code === "confirm_effects");
  return effects.length > 0 ? effects : null;
}

function parentsOf(graph: GraphDoc): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  for (const edge of graph.edges) parents.set(edge.target, [...(parents.get(edge.target) ?? []), edge.source]);
  return parents;
}

/** The nodes with a path to `node`, nearest first. */
export function upstreamOf(graph: GraphDoc, node: string): string[] {
  const parents = parentsOf(graph);
  const found: string[] = [];
  const seen = new Set<string>();
  let frontier = parents.get(node) ?? [];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const id of frontier) {
      if (seen.has(id)) continue;
      seen.add(id);
      found.push(id);
      next.push(...(parents.get(id) ?? []));
    }
    frontier = next;
  }
  return found;
}

export type Source = { node: string; source: "typed" | "debug" | "pin" | "run" | "runs" | "unneeded"; run?: number };

/**
 * Where a test of `node` takes each upstream step's output, as the server will: typed data
 * first, then the run being debugged (its steps that succeeded or were skipped), then pins,
 * then (mode "step") the newest run's; a step without any is run ("runs"),
 * and so are the parents of a step that runs; what nothing that runs needs is "unneeded". The
 * trigger is never given an output.
 */
export function upstreamSources(
  graph: GraphDoc,
  node: string,
  mode: TestMode,
  pins: Pins,
  sample: { run: number; outputs: Record<string, unknown> } | null,
  typed: Record<string, unknown> = {},
  triggers: ReadonlySet<string> = new Set(),
  debug: { id: number; outputs: Record<string, unknown>; skipped?: string[] } | null = null,
): Source[] {
  const above = upstreamOf(graph, node);
  const given = new Map<string, Source>();
  for (const id of above) {
    if (triggers.has(id)) continue;
    if (id in typed) given.set(id, { node: id, source: "typed" });
    else if (debug && (id in debug.outputs || debug.skipped?.includes(id))) given.set(id, { node: id, source: "debug", run: debug.id });
    else if (pins[id]) given.set(id, { node: id, source: "pin" });
    else if (mode === "step" && sample && id in sample.outputs && sample.outputs[id] !== undefined)
      given.set(id, { node: id, source: "run", run: sample.run });
  }
  const parents = parentsOf(graph);
  const running = new Set<string>();
  const todo = [node];
  while (todo.length > 0) {
    const id = todo.pop()!;
    if (running.has(id)) continue;
    running.add(id);
    for (const parent of parents.get(id) ?? []) if (!given.has(parent)) todo.push(parent);
  }
  return above.map((id) => given.get(id) ?? { node: id, source: running.has(id) ? "runs" : "unneeded" });
}

/** A JSON text typed for a pin or a test's input: the value, or why it is not JSON. */
export function parseJson(text: string): { value: unknown; error: null } | { value: null; error: string } {
  try {
    return { value: JSON.parse(text), error: null };
  } catch (e) {
    return { value: null, error: e instanceof Error ? e.message : "not JSON" };
  }
}

