/**
 * The run view's pure pieces: a step status's look, the timeline's bar geometry, one line per
 * event, and the read-only React Flow nodes and edges of a run (objects reused while their
 * inputs are the same, as the designer does, so a status change re-renders one node only).
 */
import type { Edge, Node } from "@xyflow/react";

import type { Catalog, GraphDoc, NodeDoc, Position } from "../editor/graph";
import { DEFAULT_HANDLE, handlesOf } from "../editor/graph";
import type { LiveEvent } from "../live";

export type StepStatus =
  | "pending"
  | "queued"
  | "running"
  | "waiting"
  | "retrying"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled";

export type StepError = { message?: string; traceback?: string; code?: string; [k: string]: unknown };

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
};

/** How a status looks: a CSS class suffix, colours (for the legend and the timeline), a word. */
export type StatusStyle = { tone: string; fill: string; border: string; label: string; active: boolean };

const STYLES: Record<StepStatus, StatusStyle> = {
  pending: { tone: "pending", fill: "#f4f5f7", border: "#9aa3b2", label: "pending", active: false },
  queued: { tone: "queued", fill: "#eef3fd", border: "#7d9fe0", label: "queued", active: false },
  running: { tone: "running", fill: "#e3ecfd", border: "#2f6fed", label: "running", active: true },
  waiting: { tone: "waiting", fill: "#fff6e0", border: "#d69a12", label: "waiting", active: true },
  retrying: { tone: "retrying", fill: "#fff0e0", border: "#e07b12", label: "retrying", active: true },
  succeeded: { tone: "succeeded", fill: "#e3f5e8", border: "#2e9d4a", label: "succeeded", active: false },
  failed: { tone: "failed", fill: "#fdecea", border: "#c0392b", label: "failed", active: false },
  skipped: { tone: "skipped", fill: "#f0f0f0", border: "#8a8f98", label: "skipped", active: false },
  cancelled: { tone: "cancelled", fill: "#ececec", border: "#5b616b", label: "cancelled", active: false },
};

export const STEP_STATUSES = Object.keys(STYLES) as StepStatus[];

/** A status the page does not know (a newer server) looks like pending, under its own name. */
export function statusStyle(status: string | undefined): StatusStyle {
  if (status && status in STYLES) return STYLES[status as StepStatus];
  return { ...STYLES.pending, label: status ?? "not started" };
}

// --- Timeline ---------------------------------------------------------------------------------

export type Bar = {
  node: string;
  status: string;
  /** Percent of the chart's width. */
  left: number;
  width: number;
  /** Milliseconds, or null while still open. */
  duration: number | null;
  open: boolean;
  /** A waiting step's wake-up time (a delay, a timeout), if it has one. */
  wakeAt: string | null;
};

export type Timeline = { start: number; end: number; bars: Bar[] };

/** Bars for the steps that started, on one scale from the first start to the last end (or
 * `now` for a step still open). A bar is at least 0.5% wide, so an instant step shows. */
export function timeline(steps: RunStep[], now: number): Timeline | null {
  const started = steps.filter((s) => s.started_at);
  if (started.length === 0) return null;
  const spans = started.map((s) => {
    const from = Date.parse(s.started_at as string);
    const to = s.finished_at ? Date.parse(s.finished_at) : Math.max(now, from);
    return { step: s, from, to, open: !s.finished_at };
  });
  const start = Math.min(...spans.map((s) => s.from));
  const end = Math.max(...spans.map((s) => s.to));
  const total = Math.max(end - start, 1);
  const bars = spans
    .sort((a, b) => a.from - b.from || a.step.node.localeCompare(b.step.node))
    .map(({ step, from, to, open }) => {
      const left = ((from - start) / total) * 100;
      const width = Math.max(((to - from) / total) * 100, 0.5);
      return {
        node: step.node,
        status: step.status,
        left: Math.min(left, 99.5),
        width: Math.min(width, 100 - Math.min(left, 99.5)),
        duration: open ? null : to - from,
        open,
        wakeAt: open && step.status === "waiting" ? (step.wake_at ?? null) : null,
      };
    });
  return { start, end, bars };
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return "still going";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
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
  const { reason, error, input, ...rest } = data as Record<string, unknown>;
  if (typeof reason === "string" && reason) parts.push(`reason: ${short(reason)}`);
  if (error && typeof error === "object" && "message" in error) {
    parts.push(`error: ${short((error as { message: unknown }).message)}`);
  } else if (error) {
    parts.push(`error: ${short(error)}`);
  }
  if (input !== undefined) parts.push(`edited input: ${short(input, 60)}`);
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

export type RunNodeData = {
  label: string;
  type: string;
  category: string;
  handles: string[];
  status: string;
  attempt: number;
};
export type RunNode = Node<RunNodeData, "runStep">;

type Built = { doc: NodeDoc; status: string; attempt: number; selected: boolean; position: Position; node: RunNode };

export class RunFlowNodes {
  private built = new Map<string, Built>();

  build(
    graph: GraphDoc,
    catalog: Catalog,
    steps: Map<string, RunStep>,
    positions: Record<string, Position>,
    selected: string | null,
  ): RunNode[] {
    const next = new Map<string, Built>();
    const nodes = graph.nodes.map((doc) => {
      const step = steps.get(doc.id);
      const status = step?.status ?? "pending";
      const attempt = step?.attempt ?? 0;
      const position = positions[doc.id] ?? doc.position ?? { x: 0, y: 0 };
      const isSelected = selected === doc.id;
      const before = this.built.get(doc.id);
      if (
        before &&
        before.doc === doc &&
        before.status === status &&
        before.attempt === attempt &&
        before.selected === isSelected &&
        before.position === position
      ) {
        next.set(doc.id, before);
        return before.node;
      }
      const node: RunNode = {
        id: doc.id,
        type: "runStep",
        position,
        selected: isSelected,
        ...(before?.node.measured ? { measured: before.node.measured } : {}),
        data: {
          label: doc.label ?? doc.id,
          type: doc.type,
          category: catalog[doc.type]?.category ?? doc.type.split(".")[0],
          handles: handlesOf(doc, catalog),
          status,
          attempt,
        },
      };
      next.set(doc.id, { doc, status, attempt, selected: isSelected, position, node });
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

/** Edges of the run's graph; an edge into a running step is animated, one a finished step
 * took (its handle) is marked taken. */
export function runEdges(graph: GraphDoc, steps: Map<string, RunStep>): Edge[] {
  return graph.edges.map((edge) => {
    const handle = edge.source_handle ?? DEFAULT_HANDLE;
    const target = steps.get(edge.target);
    const source = steps.get(edge.source);
    const running = target?.status === "running";
    const taken = source?.status === "succeeded" && (source.handle ?? DEFAULT_HANDLE) === handle && target !== undefined;
    return {
      id: edge.id,
      source: edge.source,
      target: edge.target,
      sourceHandle: handle,
      label: edge.label ?? (handle !== DEFAULT_HANDLE ? handle : undefined),
      animated: running,
      className: running ? "edge-running" : taken ? "edge-taken" : undefined,
      ariaLabel: `Connection ${edge.source} ${handle} to ${edge.target}${running ? " (running)" : ""}`,
    };
  });
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
