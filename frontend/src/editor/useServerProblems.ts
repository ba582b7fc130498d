/**
 * The server's verdict on the graph being edited (`POST /api/workflows/validate/`), through
 * TanStack Query: asked a moment after the edits stop, once per state of the graph (a graph
 * object is immutable, so its identity keys the answer), and again on demand (Validate).
 */
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { ApiError, api } from "../api";
import { keys } from "../query";
import type { GraphDoc, Problem } from "./graph";

const QUIET_MS = 400;

const numbers = new WeakMap<GraphDoc, number>();
let counter = 0;

/** A number per graph object: the query key of its validation. */
export function graphNumber(graph: GraphDoc): number {
  let n = numbers.get(graph);
  if (n === undefined) {
    n = ++counter;
    numbers.set(graph, n);
  }
  return n;
}

async function validate(graph: GraphDoc): Promise<Problem[]> {
  try {
    const result = await api<{ valid: boolean; errors: Problem[] }>("/api/workflows/validate/", {
      method: "POST",
      body: { graph },
    });
    return result.errors;
  } catch (e) {
    if (e instanceof ApiError && e.errors.length) return e.errors;
    return [{ node: null, edge: null, field: null, code: "unavailable", message: (e as Error).message }];
  }
}

export function useServerProblems(graph: GraphDoc, enabled: boolean): Problem[] {
  const [settled] = useDebouncedValue(graph, QUIET_MS);
  const wanted = enabled && settled.nodes.length > 0;
  const query = useQuery({
    queryKey: keys.validation(graphNumber(settled)),
    queryFn: () => validate(settled),
    enabled: wanted,
    staleTime: Infinity,
    gcTime: 30_000,
    // The last answer stays on screen while the next graph is checked.
    placeholderData: keepPreviousData,
  });
  return enabled && graph.nodes.length && query.data ? query.data : [];
}

/** Client-side and server problems together, each once (the two may find the same). */
export function mergeProblems(...lists: Problem[][]): Problem[] {
  const seen = new Set<string>();
  const merged: Problem[] = [];
  for (const p of lists.flat()) {
    const key = [p.code, p.node, p.edge, p.field].join("|");
    if (seen.has(key)) continue;
    seen.add(key);
    merged.push(p);
  }
  return merged;
}
