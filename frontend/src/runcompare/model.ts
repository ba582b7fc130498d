/**
 * Comparing two runs (GET /api/runs/compare/?a=&b=): the answer's types and the page's pure
 * parts: its URL, which of two selected runs is a and which b, what differs in a step. The JSON
 * diff of two values is in jsonDiff.ts (it brings jsondiffpatch, loaded with the page only).
 */
import type { Run } from "../runview/model";

/** A run as the comparison gives it: the run's own fields (runview/model.ts) and its length. */
export type ComparedRun = Pick<
  Run,
  "id" | "workflow" | "workflow_name" | "version" | "status" | "trigger" | "actor" | "created_at" | "input" | "output"
> & {
  error: unknown;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
};

export type StepSide = {
  status: string;
  attempts: number;
  duration_ms: number | null;
  started_at: string | null;
  finished_at: string | null;
  input: unknown;
  output: unknown;
  error: unknown;
};

export const CHANGE_PARTS = ["status", "attempts", "input", "output", "error"] as const;
export type ChangePart = (typeof CHANGE_PARTS)[number];

export type ComparedStep = {
  node: string;
  type: string;
  a: StepSide | null;
  b: StepSide | null;
  changed: Record<ChangePart, boolean>;
};

export type DiffEdge = { source: string; source_handle: string; target: string };

export type VersionDiff = {
  a: number;
  b: number;
  same_workflow: boolean;
  nodes: { added: string[]; removed: string[]; changed: { id: string; fields: string[] }[] };
  edges: { added: DiffEdge[]; removed: DiffEdge[] };
  other: string[];
};

export type RunCompare = { a: ComparedRun; b: ComparedRun; steps: ComparedStep[]; versions: VersionDiff | null };

/** The page's address: /runs/compare/<a>/<b>. */
export function comparePath(a: number, b: number): string {
  return `/runs/compare/${a}/${b}`;
}

/** The two run ids of the part of the URL after /runs/ ("compare/12/34"), or null. */
export function parseComparePath(rest: string): { a: number; b: number } | null {
  const match = /^compare\/(\d{1,18})\/(\d{1,18})\/?$/.exec(rest);
  return match ? { a: Number(match[1]), b: Number(match[2]) } : null;
}

/** Two selected runs as a and b: the older one (smaller id) first, so that the diff reads
 * from before to after. */
export function comparePair(ids: number[]): [number, number] | null {
  if (ids.length !== 2) return null;
  const [x, y] = [...ids].sort((p, q) => p - q);
  return [x, y];
}

/** What differs in a step, in the table's order; a step one run lacks is "only in a/b". */
export function changedParts(step: ComparedStep): ChangePart[] {
  if (!step.a || !step.b) return [];
  return CHANGE_PARTS.filter((part) => step.changed[part]);
}

export function onlyIn(step: ComparedStep): "a" | "b" | null {
  if (step.a && !step.b) return "a";
  if (step.b && !step.a) return "b";
  return null;
}

export function differs(step: ComparedStep): boolean {
  return onlyIn(step) !== null || changedParts(step).length > 0;
}

/** "2 of 5 steps differ", "No step differs". */
export function summary(steps: ComparedStep[]): string {
  const n = steps.filter(differs).length;
  if (n === 0) return `No step differs (${steps.length} compared)`;
  return `${n} of ${steps.length} step${steps.length === 1 ? "" : "s"} differ${n === 1 ? "s" : ""}`;
}

/** "a —error→ b" (the default handle is left out). */
export function edgeLabel(edge: DiffEdge): string {
  return edge.source_handle && edge.source_handle !== "out"
    ? `${edge.source} (${edge.source_handle}) → ${edge.target}`
    : `${edge.source} → ${edge.target}`;
}
