/**
 * The inbox: the approvals and forms the user may act on (GET /api/approvals/). Approve or
 * reject with a comment, fill a form generated from its JSON Schema, or hand a task on.
 * The list follows /ws/inbox/: new tasks appear and decided ones leave without a reload.
 */
import Form from "@rjsf/core";
import type { RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router";

import { ApiError, api } from "../api";
import { useInbox } from "../inbox";

export type Task = {
  id: number;
  kind: "approval" | "form";
  status: string;
  title: string;
  description: string;
  run: number;
  node: string;
  workflow: number;
  workflow_name: string;
  requester: string | null;
  assignees: { users: string[]; groups: string[] };
  policy: { required_approvals?: number; allow_delegation?: boolean };
  form_schema: Record<string, unknown> | null;
  due_at: string | null;
  created_at: string;
  approvals: number | null;
  can_decide: boolean;
  can_delegate: boolean;
};

function errorText(e: unknown): string {
  if (e instanceof ApiError && e.errors.length) {
    return e.errors.map((x) => (x.field ? `${x.field}: ${x.message}` : x.message)).join("; ");
  }
  return (e as Error).message;
}

function TaskCard({ task, onDone }: { task: Task; onDone: (message: string) => void }) {
  const [comment, setComment] = useState("");
  const [delegateTo, setDelegateTo] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const send = async (path: string, body: unknown, message: string) => {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/approvals/${task.id}/${path}/`, { method: "POST", body });
      onDone(message);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const due = task.due_at ? new Date(task.due_at) : null;
  const reminder = useInbox((s) => s.reminded[task.id]);
  return (
    <li className="task" aria-label={task.title} data-id={task.id}>
      <h2>
        {task.title}
        {reminder !== undefined && (
          <span className="tag reminder" aria-label={`Reminder ${reminder}`}>
            reminder
          </span>
        )}
      </h2>
      <p className="meta">
        {task.kind === "approval" ? "Approval" : "Form"} in{" "}
        <Link to={`/runs/${task.run}`}>
          {task.workflow_name}, run {task.run}
        </Link>
        {task.requester && ` · started by ${task.requester}`}
        {due && (
          <>
            {" "}
            · due <time dateTime={task.due_at!}>{due.toLocaleString()}</time>
            {due.getTime() < Date.now() && <strong className="overdue"> overdue</strong>}
          </>
        )}
        {task.kind === "approval" && (task.policy.required_approvals ?? 1) > 1 && (
          <> · {task.approvals ?? 0} of {task.policy.required_approvals} approvals</>
        )}
      </p>
      {task.description && <p className="description">{task.description}</p>}
      {!task.can_decide && <p className="help">You cannot decide this task (you started the run, or already decided).</p>}
      {task.kind === "approval" ? (
        <div className="decide">
          <label>
            Comment on {task.title}
            <textarea value={comment} rows={2} onChange={(e) => setComment(e.target.value)} />
          </label>
          <button
            type="button"
            disabled={busy || !task.can_decide}
            onClick={() => void send("decide", { decision: "approve", comment }, `Approved: ${task.title}`)}
          >
            Approve
          </button>
          <button
            type="button"
            disabled={busy || !task.can_decide}
            onClick={() => void send("decide", { decision: "reject", comment }, `Rejected: ${task.title}`)}
          >
            Reject
          </button>
        </div>
      ) : (
        <Form
          schema={(task.form_schema ?? { type: "object" }) as RJSFSchema}
          validator={validator}
          disabled={busy || !task.can_decide}
          // The schema's own messages under each field, not the browser's tooltips.
          noHtml5Validate
          showErrorList={false}
          onSubmit={(event) => void send("decide", { data: event.formData ?? {} }, `Submitted: ${task.title}`)}
        >
          <button type="submit" disabled={busy || !task.can_decide}>
            Submit
          </button>
        </Form>
      )}
      {task.can_delegate && (
        <div className="delegate">
          <label>
            Hand over to (username)
            <input value={delegateTo} onChange={(e) => setDelegateTo(e.target.value)} />
          </label>
          <button
            type="button"
            disabled={busy || !delegateTo.trim()}
            onClick={() =>
              void send("delegate", { to: delegateTo.trim(), comment }, `Handed to ${delegateTo.trim()}: ${task.title}`)
            }
          >
            Delegate
          </button>
        </div>
      )}
      {error && <p role="alert">{error}</p>}
    </li>
  );
}

export function InboxPage() {
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { version } = useInbox();

  const refresh = useCallback(async () => {
    try {
      const page = await api<{ results: Task[] }>("/api/approvals/?status=open&page_size=100");
      setTasks(page.results);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);

  // Read again whenever the inbox socket says something changed (and on first show).
  useEffect(() => {
    void refresh();
  }, [refresh, version]);

  return (
    <section className="page page-inbox" aria-labelledby="inbox-title">
      <h1 id="inbox-title">Inbox</h1>
      {notice && (
        <p role="status" aria-label="Notice" className="notice">
          {notice}
        </p>
      )}
      {error && <p role="alert">{error}</p>}
      {tasks?.length === 0 && <p className="empty">Nothing waits for you.</p>}
      <ul className="tasks" aria-label="Open tasks">
        {tasks?.map((task) => (
          <TaskCard
            key={task.id}
            task={task}
            onDone={(message) => {
              setNotice(message);
              setTasks((all) => all?.filter((t) => t.id !== task.id) ?? null);
              void refresh();
            }}
          />
        ))}
      </ul>
    </section>
  );
}
