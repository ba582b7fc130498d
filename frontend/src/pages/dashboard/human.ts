/**
 * The pure parts of the dashboard's "Human work" view (issue 19, item 5: what approvals cost):
 * the `human` section of GET /api/stats/, waits in units people read, and the bars of waiting
 * p50/p95 per step in one unit chosen for the longest of them. vitest checks them.
 */
import { formatDuration } from "../../runview/model";

export type TaskFigures = {
  opened: number;
  closed: number;
  open: number;
  approved: number;
  rejected: number;
  submitted: number;
  timed_out: number;
  cancelled: number;
  escalated: number;
  with_due: number;
  breached: number;
  breach_rate: number | null;
  wait_p50_s: number | null;
  wait_p95_s: number | null;
  open_age_p50_s: number | null;
  open_oldest_s: number | null;
};

export type HumanStep = TaskFigures & { workflow: number; workflow_name: string; node: string; kind: "approval" | "form" };

export type Assignee = { user: string; decisions: number; approved: number; rejected: number; submitted: number; decision_p50_s: number | null };

export type GroupFigures = { group: string; tasks: number; open: number; closed: number; breached: number; wait_p50_s: number | null };

export type HumanStats = { totals: TaskFigures; steps: HumanStep[]; assignees: Assignee[]; groups: GroupFigures[] };

/** A wait in seconds for people: "—" for none, "45.0 s", "12 min 5 s", "3 h 12 min", "2 d 3 h". */
export function wait(s: number | null | undefined): string {
  return s === null || s === undefined ? "—" : formatDuration(s * 1000);
}

/** Nothing asked of people in the window, and nothing open now. */
export function noHumanWork(human: HumanStats): boolean {
  return human.totals.opened === 0 && human.totals.closed === 0 && human.totals.open === 0;
}

/** The unit of the waiting chart's axis: the largest that keeps the longest bar above 1. */
export type WaitUnit = { label: string; short: string; seconds: number };

export function waitUnit(maxSeconds: number): WaitUnit {
  if (maxSeconds >= 2 * 86_400) return { label: "days", short: "d", seconds: 86_400 };
  if (maxSeconds >= 2 * 3600) return { label: "hours", short: "h", seconds: 3600 };
  if (maxSeconds >= 120) return { label: "minutes", short: "min", seconds: 60 };
  return { label: "seconds", short: "s", seconds: 1 };
}

export type WaitBar = { label: string; p50: number | null; p95: number | null; p50_s: number | null; p95_s: number | null };

/** A bar pair per step with a closed task (p50 and p95 in `unit`, one decimal), in the table's
 * order; the exact seconds ride along for the tooltip. */
export function waitBars(steps: HumanStep[]): { unit: WaitUnit; bars: WaitBar[] } {
  const timed = steps.filter((s) => s.wait_p50_s !== null);
  const unit = waitUnit(Math.max(0, ...timed.map((s) => s.wait_p95_s ?? 0)));
  const scale = (s: number | null) => (s === null ? null : Math.round((s / unit.seconds) * 10) / 10);
  return {
    unit,
    bars: timed.map((s) => ({
      label: `${s.workflow_name} · ${s.node}`,
      p50: scale(s.wait_p50_s),
      p95: scale(s.wait_p95_s),
      p50_s: s.wait_p50_s,
      p95_s: s.wait_p95_s,
    })),
  };
}
