/**
 * The workflow graph as the contract defines it (CONTRACT §1), and the pure rules the editor
 * applies while the user edits: node ids, handles, which connections are allowed, pasting.
 * No React and no store here, so every rule is unit-tested on its own.
 */

export type Position = { x: number; y: number };

export type RetryPolicy = {
  max_attempts?: number;
  backoff_s?: number;
  backoff_factor?: number;
  max_backoff_s?: number;
  jitter?: boolean;
};

export type NodeDoc = {
  id: string;
  type: string;
  label?: string;
  position?: Position;
  config: Record<string, unknown>;
  join?: "all_success" | "one_success" | "none_failed" | "all_done";
  retry?: RetryPolicy;
  timeout_s?: number;
};

export type EdgeDoc = {
  id: string;
  source: string;
  target: string;
  source_handle?: string;
  label?: string;
};

export type GraphDoc = {
  format: 1;
  nodes: NodeDoc[];
  edges: EdgeDoc[];
  input_schema?: Record<string, unknown>;
  output?: unknown;
  /** The runs' priority (low, normal, high, urgent); normal when left out. */
  priority?: string;
};

/** A catalog entry as `GET /api/step-types/` gives it (the parts the editor reads). */
export type StepTypeInfo = {
  type: string;
  title: string;
  category: string;
  description: string;
  is_trigger: boolean;
  config_schema: Record<string, unknown>;
  handles: string[] | null;
  handles_from_config: { list: string; key: string; then?: string[] } | null;
  expression_fields: string[];
  /** Config paths rendered once per item (flow.map's input): `item` and `index` are in scope. */
  item_fields?: string[];
  /** Config paths (dotted) naming a credential, with the credential kinds each accepts. */
  credential_fields?: Record<string, string[]>;
};

export type Catalog = Record<string, StepTypeInfo>;

export const DEFAULT_HANDLE = "out";
export const ERROR_HANDLE = "error";
/** The reserved handle every node has besides its outputs (issue 20): an edge from it names
 * the step that undoes this one. It is never taken in normal flow. */
export const COMPENSATE_HANDLE = "compensate";
/** Step types that may not undo another step (the server's `compensation_type`). */
const NOT_COMPENSATIONS = new Set(["flow.fail", "flow.rollback"]);

/** Whether an edge names a compensation (leaves from the `compensate` handle). */
export function isCompensateEdge(edge: Pick<EdgeDoc, "source_handle">): boolean {
  return edge.source_handle === COMPENSATE_HANDLE;
}

/** How an edge is drawn: a normal output, an `error` path, or a compensation. */
export type EdgeKind = "normal" | "error" | "compensate";

export function edgeKind(edge: Pick<EdgeDoc, "source_handle">): EdgeKind {
  if (edge.source_handle === COMPENSATE_HANDLE) return "compensate";
  if (edge.source_handle === ERROR_HANDLE) return "error";
  return "normal";
}

/** Each compensation node and the step it undoes: target id -> source id. */
export function compensations(edges: EdgeDoc[]): Map<string, string> {
  const undoes = new Map<string, string>();
  for (const edge of edges) if (isCompensateEdge(edge)) undoes.set(edge.target, edge.source);
  return undoes;
}

/** The step that undoes `id` (the target of its compensate edge), or null. */
export function compensationOf(edges: EdgeDoc[], id: string): string | null {
  return edges.find((e) => e.source === id && isCompensateEdge(e))?.target ?? null;
}
const ID_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** The output handles of a node: from the catalog, or from its config (logic.switch). */
export function handlesOf(node: NodeDoc, catalog: Catalog): string[] {
  const info = catalog[node.type];
  if (!info) return [];
  if (info.handles) return info.handles;
  const spec = info.handles_from_config;
  if (!spec) return [ERROR_HANDLE];
  const items = node.config[spec.list];
  const names = Array.isArray(items)
    ? items
        .map((item) => (item && typeof item === "object" ? (item as Record<string, unknown>)[spec.key] : null))
        .filter((name): name is string => typeof name === "string")
    : [];
  return [...names, ...(spec.then ?? []), ERROR_HANDLE];
}

/** A fresh node id from the step type (`logic.condition` -> `condition`, `condition_2`, ...). */
export function newNodeId(type: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  let base = (type.split(".").pop() ?? "step").toLowerCase().replace(/[^a-z0-9_]/g, "_");
  if (!/^[a-z]/.test(base)) base = `step_${base}`;
  base = base.slice(0, 56);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}_${n}`;
    if (!used.has(candidate)) return candidate;
  }
}

export function isValidNodeId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** A fresh edge id. */
export function newEdgeId(taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let n = used.size + 1; ; n++) {
    if (!used.has(`e${n}`)) return `e${n}`;
  }
}

/** Every node a path leads to from `start` ("down") or from which a path leads to it ("up"),
 * `start` included. One pass over the edges, then a walk: linear in the graph's size. */
export function reachable(edges: EdgeDoc[], start: string, direction: "down" | "up"): Set<string> {
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    const [from, to] = direction === "down" ? [edge.source, edge.target] : [edge.target, edge.source];
    const list = next.get(from);
    if (list) list.push(to);
    else next.set(from, [to]);
  }
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const to of next.get(id) ?? []) stack.push(to);
  }
  return seen;
}

/**
 * The steps a new edge from `source`'s `handle` may lead to: what connectionProblem allows,
 * for all targets at once (one walk, not one per target).
 */
export function connectableTargets(graph: GraphDoc, catalog: Catalog, source: string, handle: string): NodeDoc[] {
  const node = graph.nodes.find((n) => n.id === source);
  if (!node) return [];
  if (handle === COMPENSATE_HANDLE) {
    return graph.nodes.filter(
      (n) => connectionProblem(graph, catalog, { source, target: n.id, sourceHandle: handle }) === null,
    );
  }
  if (!handlesOf(node, catalog).includes(handle)) return [];
  const undoes = compensations(graph.edges); // a compensation is reached only by its compensate edge
  const upstream = reachable(graph.edges, source, "up"); // a cycle if any of these is the target
  const taken = new Set(
    graph.edges
      .filter((e) => e.source === source && (e.source_handle || DEFAULT_HANDLE) === handle)
      .map((e) => e.target),
  );
  const nested = undoes.has(source) && handle !== ERROR_HANDLE;
  if (nested) return [];
  return graph.nodes.filter(
    (n) => !upstream.has(n.id) && !taken.has(n.id) && !catalog[n.type]?.is_trigger && !undoes.has(n.id),
  );
}

/** Whether a path leads from `from` to `to` along the edges. */
export function reaches(edges: EdgeDoc[], from: string, to: string): boolean {
  const next = new Map<string, string[]>();
  for (const edge of edges) next.set(edge.source, [...(next.get(edge.source) ?? []), edge.target]);
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const node = stack.pop()!;
    if (node === to) return true;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...(next.get(node) ?? []));
  }
  return false;
}

export type Connection = {
  source: string;
  target: string;
  sourceHandle?: string | null;
};

/**
 * Why the server would refuse this new edge, or null if it is fine. Checked while the user
 * drags (React Flow's isValidConnection), so a refused edge is never drawn.
 */
export function connectionProblem(graph: GraphDoc, catalog: Catalog, connection: Connection): string | null {
  const source = graph.nodes.find((n) => n.id === connection.source);
  const target = graph.nodes.find((n) => n.id === connection.target);
  if (!source || !target) return "both ends must be steps on the canvas";
  if (source.id === target.id) return "a step cannot connect to itself";
  const handle = connection.sourceHandle || DEFAULT_HANDLE;
  if (handle === COMPENSATE_HANDLE) return compensationProblem(graph, catalog, source, target);
  const undoes = compensations(graph.edges);
  if (undoes.has(target.id)) {
    return `${target.id} undoes ${undoes.get(target.id)}; only its compensate connection may lead into it`;
  }
  if (undoes.has(source.id) && handle !== ERROR_HANDLE) {
    return `${source.id} undoes ${undoes.get(source.id)}; only its error output may lead on`;
  }
  const handles = handlesOf(source, catalog);
  if (!handles.includes(handle)) {
    return `${source.id} has no output "${handle}" (it has ${handles.join(", ") || "none"})`;
  }
  if (catalog[target.type]?.is_trigger) return "a trigger starts the workflow; nothing can lead into it";
  const duplicate = graph.edges.some(
    (e) => e.source === source.id && e.target === target.id && (e.source_handle || DEFAULT_HANDLE) === handle,
  );
  if (duplicate) return "these steps are already connected by that output";
  if (reaches(graph.edges, target.id, source.id)) return "that would make a cycle; workflows flow one way";
  return null;
}

/**
 * Why `target` may not undo `source` (the server's compensation_* codes, as far as the editor
 * can see them), or null. The compensation is reached only through this edge, leads on only by
 * `error`, undoes one step, and does not have a compensation of its own.
 */
function compensationProblem(graph: GraphDoc, catalog: Catalog, source: NodeDoc, target: NodeDoc): string | null {
  if (catalog[target.type]?.is_trigger || NOT_COMPENSATIONS.has(target.type)) {
    return `a ${catalog[target.type]?.title ?? target.type} step cannot undo another step`;
  }
  const undoes = compensations(graph.edges);
  if (undoes.has(source.id)) return `${source.id} undoes ${undoes.get(source.id)}; a compensation has no compensation of its own`;
  if (compensationOf(graph.edges, source.id) !== null) {
    return `${source.id} is already undone by ${compensationOf(graph.edges, source.id)}; remove that connection first`;
  }
  if (undoes.has(target.id)) return `${target.id} already undoes ${undoes.get(target.id)}`;
  if (graph.edges.some((e) => e.target === target.id)) {
    return `${target.id} is reached by the flow; a compensation runs only to undo a step`;
  }
  if (graph.edges.some((e) => e.source === target.id && e.source_handle !== ERROR_HANDLE)) {
    return `${target.id} leads on to other steps; a compensation may lead on only by its error output`;
  }
  if (reaches(graph.edges, target.id, source.id)) return "that would make a cycle; workflows flow one way";
  return null;
}

/** Why a new node of `type` may not be added (a second trigger), or null. */
export function nodeProblem(graph: GraphDoc, catalog: Catalog, type: string): string | null {
  const info = catalog[type];
  if (!info) return `unknown step type ${type}`;
  if (info.is_trigger && graph.nodes.some((n) => catalog[n.type]?.is_trigger)) {
    return "a workflow has exactly one trigger; remove the current one first";
  }
  return null;
}

/** The output a step inserted between two others continues from: `out` where it has one, else
 * its first output that is not `error` (a condition's `true`); null for a step that ends a path. */
export function continuingHandle(node: NodeDoc, catalog: Catalog): string | null {
  const handles = handlesOf(node, catalog).filter((h) => h !== ERROR_HANDLE);
  return handles.includes(DEFAULT_HANDLE) ? DEFAULT_HANDLE : (handles[0] ?? null);
}

/** The step types that can go between two steps: not a trigger, and with an output to go on. */
export function insertableTypes(catalog: Catalog): StepTypeInfo[] {
  return Object.values(catalog).filter(
    (info) => !info.is_trigger && continuingHandle({ id: "x", type: info.type, config: {} }, catalog) !== null,
  );
}

/**
 * The graph with a new step of `type` on edge `edgeId`: the edge's source (from the same
 * output) leads to the new step, and the new step (from `out`, or its first output) to the
 * edge's target. A problem string when it cannot go there.
 */
export function insertStep(
  graph: GraphDoc,
  catalog: Catalog,
  edgeId: string,
  type: string,
  position: Position,
): { graph: GraphDoc; id: string } | string {
  const edge = graph.edges.find((e) => e.id === edgeId);
  if (!edge) return "that connection is no longer there";
  const info = catalog[type];
  if (!info) return `unknown step type ${type}`;
  if (info.is_trigger) return "a trigger starts the workflow; it cannot go between two steps";
  const id = newNodeId(type, graph.nodes.map((n) => n.id));
  const node: NodeDoc = { id, type, label: info.title, position, config: {} };
  const handle = continuingHandle(node, catalog);
  if (handle === null) return `${info.title} ends a path; it cannot go between two steps`;
  const taken = graph.edges.map((e) => e.id).filter((e) => e !== edge.id);
  const first: EdgeDoc = { ...edge, target: id };
  delete first.label;
  taken.push(first.id);
  const second: EdgeDoc = {
    id: newEdgeId(taken),
    source: id,
    target: edge.target,
    ...(handle !== DEFAULT_HANDLE ? { source_handle: handle } : {}),
  };
  return {
    id,
    graph: {
      ...graph,
      nodes: [...graph.nodes, node],
      edges: [...graph.edges.map((e) => (e.id === edge.id ? first : e)), second],
    },
  };
}

export type Clip = { nodes: NodeDoc[]; edges: EdgeDoc[] };

/** The selected nodes and the edges between them, for copy. */
export function copySelection(graph: GraphDoc, selected: Set<string>): Clip {
  return structuredClone({
    nodes: graph.nodes.filter((n) => selected.has(n.id)),
    edges: graph.edges.filter((e) => selected.has(e.source) && selected.has(e.target)),
  });
}

/**
 * A clip ready to paste into `graph`: fresh node and edge ids, edges re-pointed at the new ids,
 * positions shifted by `offset`, and no second trigger.
 */
export function prepareClip(graph: GraphDoc, catalog: Catalog, clip: Clip, offset: Position): Clip {
  const ids = new Set(graph.nodes.map((n) => n.id));
  const edgeIds = new Set(graph.edges.map((e) => e.id));
  const hasTrigger = graph.nodes.some((n) => catalog[n.type]?.is_trigger);
  const mapping = new Map<string, string>();
  const nodes: NodeDoc[] = [];
  for (const node of clip.nodes) {
    if (hasTrigger && catalog[node.type]?.is_trigger) continue;
    const id = ids.has(node.id) ? newNodeId(node.id, ids) : node.id;
    ids.add(id);
    mapping.set(node.id, id);
    const at = node.position ?? { x: 0, y: 0 };
    nodes.push({ ...structuredClone(node), id, position: { x: at.x + offset.x, y: at.y + offset.y } });
  }
  const edges: EdgeDoc[] = [];
  for (const edge of clip.edges) {
    const source = mapping.get(edge.source);
    const target = mapping.get(edge.target);
    if (!source || !target) continue;
    const id = newEdgeId(edgeIds);
    edgeIds.add(id);
    edges.push({ ...edge, id, source, target });
  }
  return { nodes, edges };
}

/** `steps.<id>` in an expression, as a name (`steps.id`) or a subscript (`steps['id']`). */
function referencePattern(id: string): RegExp {
  return new RegExp(`(\\bsteps\\s*\\.\\s*)${id}\\b|(\\bsteps\\s*\\[\\s*)(['"])${id}\\3`, "g");
}

/** Every string in a JSON value with `change` applied, the rest as it was. */
function mapStrings(value: unknown, change: (text: string) => string): unknown {
  if (typeof value === "string") return change(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, change));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, change)]));
  }
  return value;
}

/** How many strings in `value` name `steps.<id>`. */
export function countReferences(value: unknown, id: string): number {
  let count = 0;
  mapStrings(value, (text) => {
    count += (text.match(referencePattern(id)) ?? []).length;
    return text;
  });
  return count;
}

/**
 * The graph with node `from` renamed `to`: its edges follow, and every `steps.<from>` in the
 * configs and the workflow output becomes `steps.<to>`. A problem string if the new id is not
 * allowed.
 */
export function renameNode(graph: GraphDoc, from: string, to: string): GraphDoc | string {
  if (from === to) return graph;
  if (!isValidNodeId(to)) return "an id is a lowercase letter, then lowercase letters, digits or _ (64 at most)";
  if (graph.nodes.some((n) => n.id === to)) return `${to} is already the id of another step`;
  const pattern = referencePattern(from);
  const rewrite = (text: string) =>
    text.replace(pattern, (_m, dotted?: string, bracket?: string, quote?: string) =>
      dotted !== undefined ? `${dotted}${to}` : `${bracket}${quote}${to}${quote}`,
    );
  return {
    ...graph,
    nodes: graph.nodes.map((n) => ({
      ...n,
      id: n.id === from ? to : n.id,
      config: mapStrings(n.config, rewrite) as Record<string, unknown>,
    })),
    edges: graph.edges.map((e) => ({
      ...e,
      source: e.source === from ? to : e.source,
      target: e.target === from ? to : e.target,
    })),
    ...(graph.output === undefined ? {} : { output: mapStrings(graph.output, rewrite) }),
  };
}

/** A problem as the API reports it (CONTRACT §1): what, and on which node, edge and field. */
export type Problem = {
  node: string | null;
  edge: string | null;
  field: string | null;
  code: string;
  message: string;
};

function problem(code: string, message: string, where: Partial<Problem> = {}): Problem {
  return { node: null, edge: null, field: null, ...where, code, message };
}

/**
 * The structural problems the editor can see without asking the server: the trigger, edges
 * from outputs a node no longer has, steps the trigger cannot reach, required config fields
 * left empty. The server's validation (expressions, schemas) runs on demand and before save.
 */
export function liveProblems(graph: GraphDoc, catalog: Catalog): Problem[] {
  const problems: Problem[] = [];
  const triggers = graph.nodes.filter((n) => catalog[n.type]?.is_trigger);
  if (!triggers.length && graph.nodes.length) {
    problems.push(problem("no_trigger", "a workflow needs a trigger to start it", { field: "nodes" }));
  }
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const edge of graph.edges) {
    const source = byId.get(edge.source);
    if (!source) continue;
    const handle = edge.source_handle || DEFAULT_HANDLE;
    if (handle !== COMPENSATE_HANDLE && !handlesOf(source, catalog).includes(handle)) {
      problems.push(
        problem("unknown_handle", `${source.id} has no output "${handle}" any more`, {
          node: source.id,
          edge: edge.id,
          field: "source_handle",
        }),
      );
    }
  }
  if (triggers.length) {
    const reached = reachable(graph.edges, triggers[0].id, "down");
    for (const node of graph.nodes) {
      if (!reached.has(node.id) && !catalog[node.type]?.is_trigger) {
        problems.push(
          problem("unreachable", `${node.id} is not connected to the trigger`, { node: node.id }),
        );
      }
    }
  }
  for (const node of graph.nodes) {
    const schema = catalog[node.type]?.config_schema as { required?: string[] } | undefined;
    for (const field of schema?.required ?? []) {
      const value = node.config[field];
      if (value === undefined || value === null || value === "") {
        problems.push(
          problem("required", `${field} is required`, { node: node.id, field: `config.${field}` }),
        );
      }
    }
  }
  return problems;
}
