/**
 * ProblemsSync: the one place the editor's problems are worked out (the browser's own checks,
 * the server's validation, the last save's refusal), written to the validation slice for the
 * canvas's badges, the problems overlay and the config panel's fields. Renders nothing.
 */
import { useEffect, useMemo } from "react";

import { type GraphDoc, type Problem, liveProblems } from "./graph";
import { isEditing, useEditor } from "./store";
import { mergeProblems, useServerProblems } from "./useServerProblems";

/** The step a problem is about: its node, or the source of its edge. */
export function problemNode(p: Problem, graph: GraphDoc): string | undefined {
  return p.node ?? graph.edges.find((e) => e.id === p.edge)?.source;
}

export function problemText(p: Problem): string {
  return `${p.node ? `${p.node}: ` : ""}${p.field ? `${p.field}: ` : ""}${p.message}`;
}

function sameProblems(a: Problem[], b: Problem[]): boolean {
  return a.length === b.length && a.every((p, i) => problemText(p) === problemText(b[i]) && p.code === b[i].code);
}

export function ProblemsSync() {
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const editing = useEditor(isEditing);
  const loaded = useEditor((s) => s.loaded);
  const saveErrors = useEditor((s) => s.saveErrors);
  const live = useMemo(() => liveProblems(graph, catalog), [graph, catalog]);
  const server = useServerProblems(graph, editing && loaded);
  const problems = useMemo(
    () => (editing ? mergeProblems(live, server, saveErrors) : []),
    [editing, live, server, saveErrors],
  );
  useEffect(() => {
    const state = useEditor.getState();
    if (sameProblems(state.problems, problems)) return;
    const byNode = new Map<string, number>();
    for (const p of problems) {
      const id = problemNode(p, graph);
      if (id) byNode.set(id, (byNode.get(id) ?? 0) + 1);
    }
    state.setProblems(problems, byNode);
  }, [problems, graph]);
  return null;
}
