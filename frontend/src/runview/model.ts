/**
 * The run view's pure pieces: a run as the API gives it and as live events move it on
 * (`applyEvents`), durations, one line per event, the zoom that
 * keeps labels readable, and the read-only React Flow nodes and edges of a run (objects reused
 * while their inputs are the same, as the designer does, so a status change re-renders one
 * node only). Colours come from the shared status palette (status.ts), never from here.
 */
import type { Edge, Node } from "@xyflow/react";

import type { Catalog, GraphDoc, NodeDoc, Position } from "../editor/graph";
import { COMPENSATE_HANDLE, DEFAULT_HANDLE, handlesOf } from "../editor/graph";
import type { LiveEvent } from "../live";
import { STEP_STATUSES, statusLook, statusVar } from "../status";
import { compensationLinks, compensationVar } from "./compensation";

export type StepError = { message?: string; traceback?: string; code?: string; [k: string]: unknown };

/** A waiting approval's or form's open task: what its countdown needs. */
export type StepTask = {
  id: number;
  due_at: string | null;
  /** The start of the current SLA window (asked, or escalated). */
  due_from: string | null;
  escalation_level: number;
  escalated_to: string[];
  breached_at: string | null;
};

export type RunStep = {
  node: string;
  type: string;
  status: string;
  attempt: number;
  handle?: string | null;
  input?: unknown;
  output?: unknown;
  error: StepError | null;
  queued_at?: string | null;
  started_at: string | null;
  finished_at: string | null;
  wake_at?: string | null;
  /** A waiting human step's open task (null otherwise; absent from older servers). */
  task?: StepTask | null;
  /** A compensation step (issue 20): the node it undoes; null for a normal step. */
  compensates?: string | null;
  /** A step that was undone: the node of its compensation, once that has a row. */
  compensated_by?: string | null;
};

/** A run as GET /api/runs/{id}/ gives it. */
export type Run = {
  id: number;
  workflow: number;
  workflow_name: string;
  /** null for a test run of a draft (its graph is `graph`). */
  version: number | null;
  /** A test run, started from the designer (not in the runs list). */
  test?: boolean;
  /** A test run's graph: the snapshot of the draft it ran. */
  graph?: GraphDoc | null;
  /** The run this one replayed on a fixed version, and the runs that replayed this one. */
  replay_of?: number | null;
  replays?: number[];
  status: string;
  trigger: string;
  /** low, normal, high or urgent (normal for runs from before priorities). */
  priority?: string;
  actor: string | null;
  error: StepError | null;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  parent_run?: number | null;
  parent_node?: string;
  parent_index?: number | null;
  children?: number[];
  input?: unknown;
  output?: unknown;
  steps?: RunStep[];
  /** The newest event this state includes (the live socket's cursor). */
  last_event_id?: number | null;
};

export const ENDED = new Set(["succeeded", "failed", "cancelled"]);
const STEP_ENDED = new Set(["succeeded", "failed", "skipped", "cancelled"]);

// --- Live: a run moved on by its events -----------------------------------------------------------

/** The run after `events` (any order, any overlap with what it already includes): each event
 * newer than the run's `last_event_id` moves the run or one step on, as far as the event says
 * (status, attempt, times, handle, error, wake-up time, edited input, child runs). What events
 * do not carry (a step's output and rendered input, the run's output) needs a read of the run:
 * `needsRead` says when. Returns the same object when nothing applies. */
export function applyEvents(run: Run, events: LiveEvent[]): Run {
  const after = run.last_event_id ?? 0;
  const fresh = events.filter((e) => e.run === run.id && e.id > after).sort((a, b) => a.id - b.id);
  if (fresh.length === 0) return run;
  let next: Run = { ...run, last_event_id: fresh[fresh.length - 1].id };
  const steps = new Map((run.steps ?? []).map((s) => [s.node, s]));
  let stepsChanged = false;
  for (const e of fresh) {
    if (!e.node) {
      if (e.type === "run.created" || !e.new_status) continue;
      next = { ...next, status: e.new_status };
      if (e.new_status === "running" && !next.started_at) next.started_at = e.created_at;
      if (ENDED.has(e.new_status)) next.finished_at = e.created_at;
      continue;
    }
    if (e.type.startsWith("task.")) {
      const before = steps.get(e.node);
      const task = before ? taskAfter(before.task ?? null, e) : undefined;
      if (before && task !== undefined) {
        steps.set(e.node, { ...before, task });
        stepsChanged = true;
      }
      continue;
    }
    if (e.type === "step.child_started") {
      const child = Number(e.data?.child_run);
      if (child && !(next.children ?? []).includes(child)) next = { ...next, children: [...(next.children ?? []), child] };
      continue;
    }
    const before = steps.get(e.node);
    if (!before || !e.new_status || e.old_status === e.new_status) continue;
    steps.set(e.node, stepAfter(before, e));
    stepsChanged = true;
  }
  if (stepsChanged) next.steps = (run.steps ?? []).map((s) => steps.get(s.node) ?? s);
  return next;
}

/** A step's open task after one of its `task.*` events; undefined when the event changes
 * nothing a countdown shows. */
export function taskAfter(task: StepTask | null, e: LiveEvent): StepTask | null | undefined {
  const data = (e.data ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  switch (e.type) {
    case "task.created":
      return {
        id: Number(data.task),
        due_at: text(data.due_at),
        due_from: data.due_at ? e.created_at : null,
        escalation_level: 0,
        escalated_to: [],
        breached_at: null,
      };
    case "task.overdue":
      return task && task.id === Number(data.task) ? { ...task, breached_at: e.created_at } : undefined;
    case "task.escalated": {
      if (!task || task.id !== Number(data.task)) return undefined;
      const groups = Array.isArray(data.groups) ? (data.groups as string[]) : [];
      return {
        ...task,
        due_at: text(data.due_at),
        due_from: text(data.due_from) ?? (data.due_at ? e.created_at : null),
        escalation_level: typeof data.level === "number" ? data.level : task.escalation_level + 1,
        escalated_to: [...new Set([...task.escalated_to, ...groups])],
      };
    }
    case "task.closed":
      return task && task.id === Number(data.task) ? null : undefined;
    default:
      return undefined;
  }
}

function stepAfter(step: RunStep, e: LiveEvent): RunStep {
  const data = (e.data ?? {}) as Record<string, unknown>;
  const s: RunStep = { ...step, status: e.new_status };
  if (e.attempt !== null && e.attempt !== undefined) s.attempt = e.attempt;
  switch (e.new_status) {
    case "pending":
      Object.assign(s, { started_at: null, finished_at: null, queued_at: null, wake_at: null, error: null, output: null });
      break;
    case "queued":
      Object.assign(s, { queued_at: e.created_at, finished_at: null, wake_at: null });
      if (e.type === "step.retried") {
        s.error = null;
        if (data.edited_input !== undefined) s.input = data.edited_input;
      }
      break;
    case "running":
      Object.assign(s, { started_at: e.created_at, finished_at: null, wake_at: null });
      break;
    case "waiting":
    case "retrying":
      s.wake_at = typeof data.wake_at === "string" ? data.wake_at : null;
      if (e.new_status === "retrying" && data.error) s.error = data.error as StepError;
      break;
    default:
      if (STEP_ENDED.has(e.new_status)) s.finished_at = e.created_at;
      if (e.new_status === "failed" && data.error) s.error = data.error as StepError;
      if (e.new_status === "succeeded") {
        s.error = null;
        if (typeof data.handle === "string") s.handle = data.handle;
      }
  }
  return s;
}

/** Whether events say something the run's next read must bring: a step's output or rendered
 * input (stored when its attempt ends or parks), the run's output or error (when it ends). A
 * batch of queued and started events does not. */
export function needsRead(events: LiveEvent[]): boolean {
  return events.some((e) => {
    // A run that starts compensating gets new step rows (its compensations), which events do
    // not carry, and each compensation's row says which step it undoes: read them.
    if (e.type.startsWith("compensation.") || e.type === "run.compensating" || e.type === "run.compensated") return true;
    return e.node
      ? ["succeeded", "failed", "waiting", "retrying"].includes(e.new_status) && e.old_status !== e.new_status
      : e.new_status === "succeeded" || e.new_status === "failed" || e.new_status === "compensating";
  });
}

/** The steps whose logs events make stale (lines are stored with the attempt's outcome). */
export function logsChanged(events: LiveEvent[]): string[] {
  const nodes = new Set<string>();
  for (const e of events) {
    if (e.node && e.old_status === "running" && e.new_status !== "running") nodes.add(e.node);
  }
  return [...nodes];
}

// --- Durations -------------------------------------------------------------------------------
// The timeline (every attempt, waits, compressed gaps) is in timeline.ts.

export function formatDuration(ms: number | null): string {
  if (ms === null) return "still going";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  // Approvals wait for days: days and hours say enough.
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${hours / 24} d`;
}

/** How long something took from `from` to `to` (or to `now` while still going), or null. */
export function elapsed(from: string | null | undefined, to: string | null | undefined, now: number): number | null {
  if (!from) return null;
  return Math.max(0, (to ? Date.parse(to) : now) - Date.parse(from));
}

// --- Events -----------------------------------------------------------------------------------

function short(value: unknown, max = 80): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return "";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** One line for an event: its change of status and what its data says (reason, error…). */
export function eventSummary(event: Pick<LiveEvent, "old_status" | "new_status" | "attempt" | "data">): string {
  const parts: string[] = [];
  if (event.old_status || event.new_status) {
    parts.push(`${event.old_status || "—"} → ${event.new_status || "—"}`);
  }
  if (event.attempt !== null && event.attempt !== undefined && event.attempt > 1) {
    parts.push(`attempt ${event.attempt}`);
  }
  const data = event.data ?? {};
  // The worker's name and the default handle say nothing to a reader.
  const { reason, error, input, edited_input, worker: _worker, handle, wake_at, via, by: _by, steps, ...rest } = data as Record<string, unknown>;
  // run.compensating lists the steps whose compensations will run (issue 20).
  if (Array.isArray(steps) && steps.length) parts.push(`to undo: ${steps.join(", ")}`);
  else if (steps !== undefined) rest.steps = steps;
  if (typeof handle === "string" && handle !== DEFAULT_HANDLE) parts.push(`took ${handle}`);
  // A decision's channel: only the email link is news (the inbox and the API are the default).
  if (via === "email_link") parts.push("via email link");
  if (typeof wake_at === "string") parts.push(`until ${new Date(wake_at).toLocaleTimeString(undefined, { hour12: false })}`);
  if (typeof reason === "string" && reason) parts.push(`reason: ${short(reason)}`);
  if (error && typeof error === "object" && "message" in error) {
    parts.push(`error: ${short((error as { message: unknown }).message)}`);
  } else if (error) {
    parts.push(`error: ${short(error)}`);
  }
  const edited = edited_input ?? input;
  if (edited !== undefined) parts.push(`edited input: ${short(edited, 60)}`);
  const others = Object.keys(rest);
  if (others.length) parts.push(short(rest, 100));
  return parts.join("; ");
}

/** Merge events into a list kept in id order with no id twice. */
export function mergeEvents<E extends { id: number }>(known: E[], more: E[]): E[] {
  if (more.length === 0) return known;
  const byId = new Map(known.map((e) => [e.id, e]));
  for (const e of more) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

// --- The graph --------------------------------------------------------------------------------

/** The lowest zoom at which text of `fontPx` CSS pixels is still `minPx` tall on screen (issue
 * 17: fit never shrinks step labels below 10 px). */
export function labelMinZoom(fontPx: number, minPx = 10): number {
  return Math.min(1, minPx / fontPx);
}

/** Where to put the graph in a box: the zoom that fits it (between `minZoom` and 1), centred;
 * a graph too big to fit at `minZoom` starts at its trigger's side (left, or top when laid
 * out downwards) instead of showing a middle that means nothing. */
export function fitViewport(
  bounds: { x: number; y: number; width: number; height: number },
  box: { width: number; height: number },
  {
    minZoom,
    padding = 24,
    vertical = false,
    focus = null,
  }: { minZoom: number; padding?: number; vertical?: boolean; focus?: { x: number; y: number; width: number; height: number } | null },
): { x: number; y: number; zoom: number } {
  const room = { width: Math.max(box.width - 2 * padding, 1), height: Math.max(box.height - 2 * padding, 1) };
  const fits = Math.min(room.width / Math.max(bounds.width, 1), room.height / Math.max(bounds.height, 1));
  const zoom = Math.max(minZoom, Math.min(1, fits));
  const centre = (size: number, start: number, length: number) => (size - length * zoom) / 2 - start * zoom;
  // A graph longer than the box starts at its beginning, unless a step to focus on (the failed
  // or the active one) is further on: then that step is in the middle, the graph's ends kept
  // inside the padding.
  const along = (size: number, start: number, length: number, at: number | null, atLength: number) => {
    const first = padding - start * zoom;
    if (at === null) return first;
    const last = size - padding - (start + length) * zoom;
    return Math.min(first, Math.max(last, size / 2 - (at + atLength / 2) * zoom));
  };
  let x = centre(box.width, bounds.x, bounds.width);
  let y = centre(box.height, bounds.y, bounds.height);
  if (bounds.width * zoom > room.width && !vertical) x = along(box.width, bounds.x, bounds.width, focus?.x ?? null, focus?.width ?? 0);
  if (bounds.height * zoom > room.height) y = along(box.height, bounds.y, bounds.height, focus?.y ?? null, focus?.height ?? 0);
  return { x, y, zoom };
}

/** The step a graph too big for its box is first shown around: the failed one, else one that
 * runs or waits; null when none (the graph then shows from its start). */
export function focusStep(steps: RunStep[]): string | null {
  const failed = steps.find((s) => s.status === "failed");
  if (failed) return failed.node;
  return steps.find((s) => s.status === "running" || s.status === "waiting" || s.status === "retrying")?.node ?? null;
}

/** Whether cards of `size` at these positions would touch or overlap (positions saved for
 * smaller nodes): the run graph then lays the steps out itself. */
export function positionsOverlap(points: Position[], size: { width: number; height: number }, gap = 12): boolean {
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const a = points[i];
      const b = points[j];
      if (Math.abs(a.x - b.x) < size.width + gap && Math.abs(a.y - b.y) < size.height + gap) return true;
    }
  }
  return false;
}

/** How many steps are in each status, in the palette's order (the graph's legend). */
export function statusCounts(steps: Pick<RunStep, "status">[], nodes: string[] = []): { status: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const s of steps) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  // Steps without a row yet are pending.
  const missing = nodes.length - steps.length;
  if (missing > 0) counts.set("pending", (counts.get("pending") ?? 0) + missing);
  const order = [...STEP_STATUSES] as string[];
  return [...counts.entries()]
    .sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
    .map(([status, count]) => ({ status, count }));
}

export type RunNodeData = {
  label: string;
  type: string;
  title: string;
  category: string;
  /** The output handles that have edges (the others draw nothing on a run). */
  handles: string[];
  status: string;
  attempt: number;
  vertical: boolean;
  /** A waiting human step's open task, for its countdown. */
  task: StepTask | null;
  /** A compensate edge leaves this step (drawn from its bottom, not with its outputs). */
  compensable: boolean;
  /** A compensation: the label of the step it undoes (null for a normal step). */
  undoes: string | null;
  /** An undone step: the label of the step that undid it, once that has a row. */
  undoneBy: string | null;
};
export type RunNode = Node<RunNodeData, "runStep">;

type Built = {
  doc: NodeDoc;
  status: string;
  attempt: number;
  task: StepTask | null;
  selected: boolean;
  position: Position;
  vertical: boolean;
  undoes: string | null;
  undoneBy: string | null;
  node: RunNode;
};

/** The accessible name of a step's node: "Step pay: failed, attempt 2". */
export function nodeLabel(id: string, status: string, attempt: number): string {
  return `Step ${id}: ${statusLook(status).label}${attempt > 1 ? `, attempt ${attempt}` : ""}`;
}

export class RunFlowNodes {
  private built = new Map<string, Built>();

  build(
    graph: GraphDoc,
    catalog: Catalog,
    steps: Map<string, RunStep>,
    positions: Record<string, Position>,
    selected: string | null,
    vertical = false,
  ): RunNode[] {
    const next = new Map<string, Built>();
    const used = new Map<string, Set<string>>();
    for (const edge of graph.edges) {
      const set = used.get(edge.source) ?? new Set<string>();
      set.add(edge.source_handle ?? DEFAULT_HANDLE);
      used.set(edge.source, set);
    }
    const links = compensationLinks([...steps.values()], graph);
    const labelOf = (id: string | null | undefined) => {
      if (!id) return null;
      const found = graph.nodes.find((n) => n.id === id);
      return found?.label ?? id;
    };
    const nodes = graph.nodes.map((doc) => {
      const step = steps.get(doc.id);
      const undoes = labelOf(links.get(doc.id)?.undoes);
      const undoneBy = labelOf(links.get(doc.id)?.undoneBy);
      const status = step?.status ?? "pending";
      const attempt = step?.attempt ?? 0;
      const task = status === "waiting" ? (step?.task ?? null) : null;
      const position = positions[doc.id] ?? doc.position ?? { x: 0, y: 0 };
      const isSelected = selected === doc.id;
      const before = this.built.get(doc.id);
      if (
        before &&
        before.doc === doc &&
        before.status === status &&
        before.attempt === attempt &&
        before.task === task &&
        before.selected === isSelected &&
        before.position === position &&
        before.vertical === vertical &&
        before.undoes === undoes &&
        before.undoneBy === undoneBy
      ) {
        next.set(doc.id, before);
        return before.node;
      }
      const info = catalog[doc.type];
      const withEdges = used.get(doc.id) ?? new Set<string>();
      const node: RunNode = {
        id: doc.id,
        type: "runStep",
        position,
        selected: isSelected,
        ariaLabel: nodeLabel(doc.id, status, attempt),
        ...(before?.node.measured && before.vertical === vertical ? { measured: before.node.measured } : {}),
        data: {
          label: doc.label ?? doc.id,
          type: doc.type,
          title: info?.title ?? doc.type,
          category: info?.category ?? doc.type.split(".")[0],
          handles: handlesOf(doc, catalog).filter((h) => withEdges.has(h)).concat(
            // A handle the catalog does not list (a newer server) still gets its edge drawn.
            [...withEdges].filter((h) => h !== COMPENSATE_HANDLE && !handlesOf(doc, catalog).includes(h)),
          ),
          status,
          attempt,
          vertical,
          task,
          compensable: withEdges.has(COMPENSATE_HANDLE),
          undoes,
          undoneBy,
        },
      };
      next.set(doc.id, { doc, status, attempt, task, selected: isSelected, position, vertical, undoes, undoneBy, node });
      return node;
    });
    this.built = next;
    return nodes;
  }

  /** Keep a size React Flow measured, so a rebuilt node is not measured again. */
  measured(id: string, size: { width: number; height: number }): void {
    const built = this.built.get(id);
    if (built) built.node = { ...built.node, measured: size };
  }
}

/** Edges of the run's graph, in the status palette: an edge into a running step is animated,
 * one a finished step took (its handle) is drawn in the succeeded colour, one not taken is
 * faint once its source has ended. */
export function runEdges(graph: GraphDoc, steps: Map<string, RunStep>): Edge[] {
  return graph.edges.map((edge) => {
    const handle = edge.source_handle ?? DEFAULT_HANDLE;
    if (handle === COMPENSATE_HANDLE) return compensateEdge(edge, steps);
    const target = steps.get(edge.target);
    const source = steps.get(edge.source);
    const running = target?.status === "running";
    const taken =
      source?.status === "succeeded" && (source.handle ?? DEFAULT_HANDLE) === handle && target !== undefined && target.status !== "pending";
    const failedInto = source?.status === "failed" && handle === "error";
    const state = running ? "running" : taken || failedInto ? "taken" : "idle";
    return {
      id: edge.id,
      source: edge.source,
      target: edge.target,
      sourceHandle: handle,
      label: edge.label ?? (handle !== DEFAULT_HANDLE ? handle : undefined),
      animated: running,
      className: `edge-${state}`,
      style:
        state === "running"
          ? { stroke: statusVar("running"), strokeWidth: 2 }
          : state === "taken"
            ? { stroke: statusVar("succeeded"), strokeWidth: 2 }
            : undefined,
      ariaLabel: `Connection ${edge.source} ${handle} to ${edge.target}${running ? " (running)" : taken ? " (taken)" : ""}`,
    };
  });
}

/** A compensate edge on a run: always orange; dashed until its compensation runs, animated
 * while it does, solid once it ran (whatever its outcome: the step shows that). */
function compensateEdge(edge: GraphDoc["edges"][number], steps: Map<string, RunStep>): Edge {
  const target = steps.get(edge.target);
  const running = target?.status === "running";
  const ran = target !== undefined && target.status !== "pending" && target.status !== "queued";
  const state = running ? "compensating" : ran ? "compensated" : "compensate";
  return {
    id: edge.id,
    source: edge.source,
    target: edge.target,
    sourceHandle: COMPENSATE_HANDLE,
    // The compensation's own target handle (RunGraph draws it on compensations only).
    targetHandle: "compensation",
    label: edge.label ?? "undo",
    animated: running,
    className: `edge-${state}`,
    style: {
      stroke: compensationVar(),
      strokeWidth: ran || running ? 2 : 1.5,
      ...(ran && !running ? {} : { strokeDasharray: "6 4" }),
    },
    labelStyle: { fill: compensationVar("text"), fontWeight: 600 },
    ariaLabel: `Compensation: ${edge.target} undoes ${edge.source}${running ? " (running)" : ran ? " (ran)" : ""}`,
  };
}

/** The idempotency key a step's attempt gets (CONTRACT: run:node:attempt). */
export function idempotencyKey(run: number, node: string, attempt: number): string {
  return `${run}:${node}:${attempt}`;
}

/** Parse the retry dialog's JSON: an object, or the reason it is not. */
export function parseInput(text: string): { value: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON: ${(e as Error).message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { error: "the input must be a JSON object" };
  }
  return { value: value as Record<string, unknown> };
}
