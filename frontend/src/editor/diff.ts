/**
 * What changed between two versions of a graph, for the version diff: nodes by id, edges by
 * what they connect (source, output, target), since edge ids are the editor's bookkeeping.
 */
import { DEFAULT_HANDLE, type EdgeDoc, type GraphDoc, type NodeDoc } from "./graph";

export type NodeChangeKind = "added" | "removed" | "changed" | "moved";

export type GraphDiff = {
  /** Node id -> how it differs; nodes alike in both are left out. */
  nodes: Map<string, NodeChangeKind>;
  /** The fields of each changed node that differ (label, config.url, join, ...). */
  fields: Map<string, string[]>;
  edges: { added: EdgeDoc[]; removed: EdgeDoc[] };
  /** Top-level parts other than nodes and edges that differ (input_schema, output). */
  other: string[];
};

export function edgeKey(edge: EdgeDoc): string {
  return `${edge.source}:${edge.source_handle || DEFAULT_HANDLE}->${edge.target}`;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields of a node that differ, config ones as `config.<key>`; position is not a field. */
function changedFields(before: NodeDoc, after: NodeDoc): string[] {
  const fields: string[] = [];
  for (const key of ["type", "label", "join", "retry", "timeout_s"] as const) {
    if (!same(before[key], after[key])) fields.push(key);
  }
  const keys = new Set([...Object.keys(before.config ?? {}), ...Object.keys(after.config ?? {})]);
  for (const key of [...keys].sort()) {
    if (!same(before.config?.[key], after.config?.[key])) fields.push(`config.${key}`);
  }
  return fields;
}

export function diffGraphs(before: GraphDoc, after: GraphDoc): GraphDiff {
  const nodes = new Map<string, NodeChangeKind>();
  const fields = new Map<string, string[]>();
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const now = new Map(after.nodes.map((n) => [n.id, n]));
  for (const [id, node] of now) {
    const was = old.get(id);
    if (!was) {
      nodes.set(id, "added");
      continue;
    }
    const differ = changedFields(was, node);
    if (differ.length) {
      nodes.set(id, "changed");
      fields.set(id, differ);
    } else if (!same(was.position, node.position)) {
      nodes.set(id, "moved");
    }
  }
  for (const id of old.keys()) if (!now.has(id)) nodes.set(id, "removed");

  const oldEdges = new Map(before.edges.map((e) => [edgeKey(e), e]));
  const newEdges = new Map(after.edges.map((e) => [edgeKey(e), e]));
  const edges = {
    added: [...newEdges].filter(([key]) => !oldEdges.has(key)).map(([, e]) => e),
    removed: [...oldEdges].filter(([key]) => !newEdges.has(key)).map(([, e]) => e),
  };
  const other = (["input_schema", "output"] as const).filter((key) => !same(before[key], after[key]));
  return { nodes, fields, edges, other };
}

/** The graph to draw for a diff: `after`, plus the removed nodes and edges of `before`. */
export function overlayGraph(before: GraphDoc, after: GraphDoc, diff: GraphDiff): GraphDoc {
  const removedNodes = before.nodes.filter((n) => diff.nodes.get(n.id) === "removed");
  const taken = new Set(after.edges.map((e) => e.id));
  const removedEdges = diff.edges.removed.map((e) => {
    let id = `removed_${e.id}`;
    while (taken.has(id)) id = `${id}_`;
    taken.add(id);
    return { ...e, id };
  });
  return { ...after, nodes: [...after.nodes, ...removedNodes], edges: [...after.edges, ...removedEdges] };
}
