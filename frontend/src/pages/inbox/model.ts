/**
 * The inbox's pure parts: a task as GET /api/approvals/ returns it, and what the page says
 * about it (due-time state, approvals progress, why the user cannot decide, who decided first),
 * kept apart from React so that vitest checks them.
 */

export type TaskDecision = {
  user: string | null;
  /** An email-only assignee's address (user is then null). */
  email?: string;
  /** "email_link" when decided through a signed link of a task email. */
  via?: "api" | "email_link" | string;
  decision: "approve" | "reject" | "submit" | string;
  comment: string;
  data: unknown;
  created_at: string;
};

export type TaskDelegation = {
  from_user: string | null;
  to_user: string | null;
  comment: string;
  /** "absence" when the engine handed it on because the assignee was out of office. */
  reason?: "" | "absence" | string;
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
  assignees: { users: string[]; groups: string[]; emails?: string[] };
  policy: {
    required_approvals?: number;
    reject_on_first_rejection?: boolean;
    forbid_requester?: boolean;
    /** A rejection must carry a comment (the server answers 400 on comment otherwise). */
    require_comment_on_reject?: boolean;
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

/** Who made a decision, as people read it: the username, or an email-only assignee's address. */
export function decider(decision: TaskDecision): string | null {
  return decision.user ?? (decision.email || null);
}

/** How a decision was made, when it was not in the app: " via email link". */
export function viaText(decision: Pick<TaskDecision, "via">): string {
  return decision.via === "email_link" ? " via email link" : "";
}

/** Who closed a task, for the toast of a 409 ("already approved by bob"). */
export function decidedBy(task: Task): string {
  const last = [...(task.decisions ?? [])].reverse().find((d) => decider(d));
  const verb = task.status === "timed_out" ? "timed out" : task.status.replace("_", " ");
  if (!last) return `It is already ${verb}.`;
  const comment = last.comment ? `: “${last.comment}”` : "";
  return `${decider(last)} already ${task.kind === "form" ? "submitted it" : verb}${viaText(last)}${comment}`;
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

/** What a row says about a task handed on because someone was out of office, as `me` reads
 * it: "delegated to dave (you are out of office)" for the absent one, "for alice, out of
 * office" for the deputy; null when no absence moved it (or it does not concern `me`). */
export function absenceNote(task: Pick<Task, "delegations">, me: string | undefined): string | null {
  if (!me) return null;
  const moved = (task.delegations ?? []).filter((d) => d.reason === "absence");
  const mine = moved.find((d) => d.from_user === me);
  if (mine) return `delegated to ${mine.to_user ?? "?"} (you are out of office)`;
  const forMe = moved.find((d) => d.to_user === me);
  if (forMe) return `for ${forMe.from_user ?? "?"}, out of office`;
  return null;
}

/** The tasks a bulk decision may take among `tasks`: approvals the user may decide now
 * (forms need their own data, so they are never selected together with approvals). */
export function bulkSelectable(tasks: Task[]): Task[] {
  return tasks.filter((t) => t.kind === "approval" && t.can_decide);
}

export type BulkResult = {
  id: number;
  ok: boolean;
  status: number;
  task?: Task;
  errors?: { code: string; message: string; field: string | null }[];
};

/** One line for a bulk decision's results: "2 approved, 1 failed: task 12 was already closed". */
export function bulkSummary(results: BulkResult[], decision: "approve" | "reject"): string {
  const done = results.filter((r) => r.ok).length;
  const failed = results.filter((r) => !r.ok);
  const verb = decision === "approve" ? "approved" : "rejected";
  if (!failed.length) return `${done} ${verb}`;
  const why = failed.map((r) => `task ${r.id} ${failureText(r)}`).join("; ");
  return `${done} ${verb}, ${failed.length} failed: ${why}`;
}

function failureText(result: BulkResult): string {
  const error = result.errors?.[0];
  switch (error?.code) {
    case "task_closed":
      return "was already closed";
    case "already_decided":
      return "was already decided by you";
    case "four_eyes":
      return "is your own run's (four eyes)";
    case "not_assignee":
      return "is not yours to decide";
    case "form":
      return "is a form";
    default:
      return result.status === 404 ? "no longer exists" : (error?.message ?? `failed (${result.status})`);
  }
}
