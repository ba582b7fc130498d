/**
 * The server's verdict on the graph being edited (`POST /api/workflows/validate/`): asked a
 * moment after each edit stops, and at once on demand. Answers to an older graph are dropped.
 */
import { useCallback, useEffect, useRef, useState } from "react";

import { ApiError, api } from "../api";
import type { GraphDoc, Problem } from "./graph";

const QUIET_MS = 400;

export function useServerProblems(graph: GraphDoc, enabled: boolean) {
  const [problems, setProblems] = useState<Problem[]>([]);
  const [checked, setChecked] = useState<GraphDoc | null>(null);
  const latest = useRef(graph);
  latest.current = graph;

  const validate = useCallback(async (doc: GraphDoc) => {
    try {
      const result = await api<{ valid: boolean; errors: Problem[] }>("/api/workflows/validate/", {
        method: "POST",
        body: { graph: doc },
      });
      if (latest.current !== doc) return;
      setProblems(result.errors);
      setChecked(doc);
    } catch (e) {
      if (latest.current !== doc) return;
      const errors = e instanceof ApiError && e.errors.length ? e.errors : null;
      setProblems(
        errors ?? [{ node: null, edge: null, field: null, code: "unavailable", message: (e as Error).message }],
      );
      setChecked(doc);
    }
  }, []);

  useEffect(() => {
    if (!enabled || !graph.nodes.length) {
      setProblems([]);
      setChecked(graph);
      return;
    }
    const timer = window.setTimeout(() => void validate(graph), QUIET_MS);
    return () => window.clearTimeout(timer);
  }, [graph, enabled, validate]);

  /** Problems as of the graph now; `current` is false while an answer is awaited. */
  return { problems, current: checked === graph, validateNow: () => validate(latest.current) };
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
