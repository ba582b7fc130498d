/**
 * The inbox's pure parts: a task as GET /api/approvals/ returns it, and what the page says
 * about it (due-time state, approvals progress, why the user cannot decide, who decided first),
 * kept apart from React so that vitest checks them.
 */

export type TaskDecision = {
  user: string | null;
  decision: "approve" | "reject" | "submit" | string;
  comment: string;
  data: unknown;
  created_at: string;
};

export type TaskDelegation = {
  from_user: string | null;
  to_user: string | null;
  comment: string;
  created_at: string;
};

export type Task = {
  id: number;
  kind: "approval" | "form";
  status: string;
  title: string;
  description: string;
  run: number;
  node: string;
  attempt?: number;
  workflow: number;
  workflow_name: string;
  requester: string | null;
  assignees: { users: string[]; groups: string[] };
  policy: {
    required_approvals?: number;
    reject_on_first_rejection?: boolean;
    forbid_requester?: boolean;
    allow_delegation?: boolean;
    on_timeout?: string;
    reminder_every_s?: number | null;
    escalate_to?: { groups?: string[]; due_in_s?: number } | null;
  };
  form_schema: Record<string, unknown> | null;
  escalation_level?: number;
  /** The groups the task was escalated to (empty before an escalation). */
  escalated_to?: string[];
  due_at: string | null;
  /** The start of the current SLA window (asked, or escalated): the countdown's 100 %. */
  due_from?: string | null;
  /** When it last passed its due time (a task.overdue event); null if never. */
  breached_at?: string | null;
  created_at: string;
  closed_at?: string | null;
  approvals: number | null;
  decisions?: TaskDecision[];
  delegations?: TaskDelegation[];
  result?: unknown;
  can_decide: boolean;
  can_delegate: boolean;
};

export type TaskPage = { count: number; open: number; results: Task[] };

/** The step type a task comes from, for its icon (StepIcon). */
export function taskStepType(task: Pick<Task, "kind">): string {
  return task.kind === "form" ? "human.form" : "human.approval";
}

export type DueState = "none" | "later" | "soon" | "overdue";

/** Within this much of its due time a task is "soon" (drawn in orange). */
export const SOON_MS = 4 * 3600 * 1000;

/** How urgent a due time is at `now`: none, later, soon (within 4 hours) or overdue. */
export function dueState(dueAt: string | null | undefined, now: number = Date.now()): DueState {
  if (!dueAt) return "none";
  const due = new Date(dueAt).getTime();
  if (Number.isNaN(due)) return "none";
  if (due <= now) return "overdue";
  return due - now <= SOON_MS ? "soon" : "later";
}

export type Progress = { done: number; required: number; percent: number };

/** N-of-M approvals, or null when one approval decides (a form, or the default policy). */
export function approvalProgress(task: Pick<Task, "kind" | "approvals" | "policy">): Progress | null {
  const required = task.policy.required_approvals ?? 1;
  if (task.kind !== "approval" || required <= 1) return null;
  const done = Math.min(task.approvals ?? 0, required);
  return { done, required, percent: Math.round((done / required) * 100) };
}

/** Seconds as a person says an interval: "every 30 min", "every 2 h", "every day". */
export function interval(seconds: number): string {
  if (seconds % 86400 === 0) return seconds === 86400 ? "day" : `${seconds / 86400} days`;
  if (seconds >= 3600) return `${+(seconds / 3600).toFixed(1)} h`;
  if (seconds >= 60) return `${Math.round(seconds / 60)} min`;
  return `${seconds} s`;
}

/** Why `username` may not decide an open task, in words; null when they may. */
export function whyNotDecide(task: Task, username: string): string | null {
  if (task.can_decide) return null;
  if (task.status !== "open") return `This task is already ${task.status.replace("_", " ")}.`;
  if (task.decisions?.some((d) => d.user === username)) {
    const progress = approvalProgress(task);
    return progress
      ? `You approved; ${progress.required - progress.done} more approval${progress.required - progress.done === 1 ? "" : "s"} needed from the other assignees.`
      : "You have already decided on this task.";
  }
  if (task.policy.forbid_requester && task.requester === username) {
    return "You started this run, and the workflow asks someone else to decide (four eyes).";
  }
  return "You are not an assignee of this task.";
}

/** Who closed a task, for the toast of a 409 ("already approved by bob"). */
export function decidedBy(task: Task): string {
  const last = [...(task.decisions ?? [])].reverse().find((d) => d.user);
  const verb = task.status === "timed_out" ? "timed out" : task.status.replace("_", " ");
  if (!last?.user) return `It is already ${verb}.`;
  const comment = last.comment ? `: “${last.comment}”` : "";
  return `${last.user} already ${task.kind === "form" ? "submitted it" : verb}${comment}`;
}

export type Filters = { workflow: string | null; overdueOnly: boolean };

/** The tasks the filters keep (workflow and overdue are applied here; kind by the API). */
export function filterTasks(tasks: Task[], filters: Filters, now: number = Date.now()): Task[] {
  return tasks.filter(
    (t) =>
      (!filters.workflow || String(t.workflow) === filters.workflow) &&
      (!filters.overdueOnly || dueState(t.due_at, now) === "overdue"),
  );
}

/** The workflows of the listed tasks, by name, for the workflow filter. */
export function workflowsOf(tasks: Task[]): { value: string; label: string }[] {
  const seen = new Map<string, string>();
  for (const t of tasks) seen.set(String(t.workflow), t.workflow_name);
  return [...seen].map(([value, label]) => ({ value, label })).sort((a, b) => a.label.localeCompare(b.label));
}

/** The task to show after `id` leaves the list: the next one, else the previous, else none. */
export function nextTaskId(tasks: Task[], id: number): number | null {
  const at = tasks.findIndex((t) => t.id === id);
  if (at < 0) return tasks[0]?.id ?? null;
  return tasks[at + 1]?.id ?? tasks[at - 1]?.id ?? null;
}

/** Most urgent first: overdue, then by due time, then newest; tasks without a due time last
 * among the ones with one. */
export function byUrgency(a: Task, b: Task): number {
  const due = (t: Task) => (t.due_at ? new Date(t.due_at).getTime() : Number.POSITIVE_INFINITY);
  const d = due(a) - due(b);
  if (d !== 0 && !Number.isNaN(d)) return d;
  return b.id - a.id;
}
