import { describe, expect, it } from "vitest";

import {
  type Task,
  SOON_MS,
  absenceNote,
  approvalProgress,
  bulkSelectable,
  bulkSummary,
  byUrgency,
  decidedBy,
  dueState,
  filterTasks,
  interval,
  nextTaskId,
  whyNotDecide,
  workflowsOf,
} from "./model";

const NOW = Date.parse("2026-12-06T12:00:00Z");

function task(over: Partial<Task> = {}): Task {
  return {
    id: 1,
    kind: "approval",
    status: "open",
    title: "Pay 5 EUR",
    description: "",
    run: 10,
    node: "ask",
    workflow: 3,
    workflow_name: "Payments",
    requester: "alice",
    assignees: { users: [], groups: ["finance"] },
    policy: {},
    form_schema: null,
    due_at: null,
    created_at: "2026-12-06T11:00:00Z",
    approvals: 0,
    decisions: [],
    delegations: [],
    can_decide: true,
    can_delegate: true,
    ...over,
  };
}

describe("a task's due time", () => {
  it("is none, later, soon (within 4 hours) or overdue", () => {
    expect(dueState(null, NOW)).toBe("none");
    expect(dueState("not a date", NOW)).toBe("none");
    expect(dueState(new Date(NOW + SOON_MS + 1000).toISOString(), NOW)).toBe("later");
    expect(dueState(new Date(NOW + 60_000).toISOString(), NOW)).toBe("soon");
    expect(dueState(new Date(NOW).toISOString(), NOW)).toBe("overdue");
    expect(dueState(new Date(NOW - 3600_000).toISOString(), NOW)).toBe("overdue");
  });
});

describe("N-of-M approvals", () => {
  it("show only when more than one approval is needed", () => {
    expect(approvalProgress(task())).toBeNull();
    expect(approvalProgress(task({ kind: "form", policy: { required_approvals: 3 } }))).toBeNull();
    expect(approvalProgress(task({ approvals: 1, policy: { required_approvals: 3 } }))).toEqual({
      done: 1,
      required: 3,
      percent: 33,
    });
  });
});

describe("why the user cannot decide", () => {
  it("is said in words", () => {
    expect(whyNotDecide(task(), "bob")).toBeNull();
    expect(whyNotDecide(task({ can_decide: false, policy: { forbid_requester: true } }), "alice")).toMatch(/four eyes/);
    expect(
      whyNotDecide(
        task({
          can_decide: false,
          approvals: 1,
          policy: { required_approvals: 2 },
          decisions: [{ user: "bob", decision: "approve", comment: "", data: null, created_at: "" }],
        }),
        "bob",
      ),
    ).toBe("You approved; 1 more approval needed from the other assignees.");
    expect(whyNotDecide(task({ can_decide: false, status: "approved" }), "bob")).toBe("This task is already approved.");
    expect(whyNotDecide(task({ can_decide: false }), "charlie")).toBe("You are not an assignee of this task.");
  });

  it("names who decided first (the 409's explanation)", () => {
    const decided = task({
      status: "approved",
      decisions: [{ user: "dave", decision: "approve", comment: "fine", data: null, created_at: "" }],
    });
    expect(decidedBy(decided)).toBe("dave already approved: “fine”");
    expect(decidedBy(task({ status: "timed_out" }))).toBe("It is already timed out.");
    expect(
      decidedBy(
        task({
          kind: "form",
          status: "submitted",
          decisions: [{ user: "erin", decision: "submit", comment: "", data: {}, created_at: "" }],
        }),
      ),
    ).toBe("erin already submitted it");
  });
});

describe("the list", () => {
  const a = task({ id: 1, workflow: 3, workflow_name: "Payments", due_at: new Date(NOW - 1000).toISOString() });
  const b = task({ id: 2, workflow: 4, workflow_name: "Onboarding", due_at: new Date(NOW + 86_400_000).toISOString() });
  const c = task({ id: 3, workflow: 3, workflow_name: "Payments", due_at: null });
  const d = task({ id: 4, workflow: 4, workflow_name: "Onboarding", due_at: null });

  it("filters by workflow and overdue", () => {
    expect(filterTasks([a, b, c], { workflow: "3", overdueOnly: false }, NOW).map((t) => t.id)).toEqual([1, 3]);
    expect(filterTasks([a, b, c], { workflow: null, overdueOnly: true }, NOW).map((t) => t.id)).toEqual([1]);
    expect(workflowsOf([a, b, c])).toEqual([
      { value: "4", label: "Onboarding" },
      { value: "3", label: "Payments" },
    ]);
  });

  it("puts the most urgent first, then the newest", () => {
    expect([d, c, b, a].sort(byUrgency).map((t) => t.id)).toEqual([1, 2, 4, 3]);
  });

  it("moves on to the next task after a decision, or the one before at the end", () => {
    expect(nextTaskId([a, b, c], 1)).toBe(2);
    expect(nextTaskId([a, b, c], 3)).toBe(2);
    expect(nextTaskId([a], 1)).toBeNull();
    expect(nextTaskId([b, c], 99)).toBe(2);
  });

  it("says reminder intervals as people do", () => {
    expect(interval(3600)).toBe("1 h");
    expect(interval(5400)).toBe("1.5 h");
    expect(interval(1800)).toBe("30 min");
    expect(interval(86400)).toBe("day");
    expect(interval(172800)).toBe("2 days");
  });
});

describe("out of office and bulk decisions", () => {
  const moved = task({
    delegations: [
      { from_user: "alice", to_user: "dave", comment: "out of office until 2026-12-24", reason: "absence", created_at: "" },
    ],
  });

  it("tells the absent user and the deputy who has the task", () => {
    expect(absenceNote(moved, "alice")).toBe("delegated to dave (you are out of office)");
    expect(absenceNote(moved, "dave")).toBe("for alice, out of office");
    expect(absenceNote(moved, "bob")).toBeNull();
  });

  it("says nothing of a delegation made by hand", () => {
    const byHand = task({ delegations: [{ from_user: "alice", to_user: "dave", comment: "", reason: "", created_at: "" }] });
    expect(absenceNote(byHand, "dave")).toBeNull();
  });

  it("selects only approvals the user may decide", () => {
    const tasks = [task({ id: 1 }), task({ id: 2, kind: "form" }), task({ id: 3, can_decide: false })];
    expect(bulkSelectable(tasks).map((t) => t.id)).toEqual([1]);
  });

  it("sums up a bulk decision with its failures per task", () => {
    const results = [
      { id: 10, ok: true, status: 200 },
      { id: 11, ok: true, status: 200 },
      { id: 12, ok: false, status: 409, errors: [{ code: "task_closed", message: "the task is already approved", field: null }] },
    ];
    expect(bulkSummary(results, "approve")).toBe("2 approved, 1 failed: task 12 was already closed");
    expect(bulkSummary(results.slice(0, 2), "reject")).toBe("2 rejected");
  });
});
