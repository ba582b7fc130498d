/**
 * The runs the user may see, newest first (GET /api/runs/, keyset pages): filters by workflow,
 * status, trigger, who started it and a time range; live from /ws/runs/ (a new run appears, a
 * status changes in place); select runs to cancel them or retry their failed steps.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router";

import "./runslist.css";

import { ApiError, api } from "../api";
import { type LiveEvent, useLiveEvents } from "../live";
import { useWorkflowNames } from "../workflowNames";

export type RunRow = {
  id: number;
  workflow: number;
  workflow_name: string;
  version: number;
  status: string;
  trigger: string;
  actor: string | null;
  parent_run: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};

type Page = { next: string | null; results: RunRow[] };

export const RUN_STATUSES = ["queued", "running", "waiting", "succeeded", "failed", "cancelled"] as const;
export const TRIGGERS = ["manual", "api", "cli", "schedule", "webhook", "parent"] as const;
const ENDED = new Set(["succeeded", "failed", "cancelled"]);

export type Filters = {
  workflow: string;
  status: string;
  trigger: string;
  actor: string;
  since: string;
  until: string;
};

const NO_FILTERS: Filters = { workflow: "", status: "", trigger: "", actor: "", since: "", until: "" };

/** The API query for the filters (datetime-local values are local times). */
export function runsQuery(filters: Filters): URLSearchParams {
  const params = new URLSearchParams({ page_size: "50", top_level: "true" });
  for (const key of ["workflow", "status", "trigger", "actor"] as const) {
    if (filters[key].trim()) params.set(key, filters[key].trim());
  }
  for (const key of ["since", "until"] as const) {
    if (filters[key]) params.set(key, new Date(filters[key]).toISOString());
  }
  return params;
}

/** How long a run took, or has taken so far: "850 ms", "12.3 s", "4 min 10 s", "2 h 5 min". */
export function duration(run: Pick<RunRow, "started_at" | "finished_at" | "created_at">, now = Date.now()): string {
  const start = Date.parse(run.started_at ?? run.created_at);
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  const ms = Math.max(0, end - start);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function errorText(e: unknown): string {
  if (e instanceof ApiError && e.errors.length) return e.errors.map((x) => x.message).join("; ");
  return (e as Error).message;
}

export function RunsListPage() {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [rows, setRows] = useState<RunRow[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const workflows = useWorkflowNames();
  const [chosen, setChosen] = useState<Set<number>>(new Set());
  const [message, setMessage] = useState<string | null>(null);
  const query = useMemo(() => runsQuery(filters).toString(), [filters]);
  const latestQuery = useRef(query);
  latestQuery.current = query;
  // Whether the rows are still the first page only (then its `next` is the list's `next`).
  const rowsAreFirstPage = useRef(true);

  /** The first page again, keeping older pages already shown (a live refresh). */
  const readFirst = useCallback(async () => {
    const asked = latestQuery.current;
    try {
      const page = await api<Page>(`/api/runs/?${asked}`);
      if (asked !== latestQuery.current) return;
      setRows((shown) => {
        const fresh = new Map(page.results.map((r) => [r.id, r]));
        const oldest = page.results.length ? page.results[page.results.length - 1].id : Infinity;
        const older = (shown ?? []).filter((r) => r.id < oldest && !fresh.has(r.id));
        return [...page.results, ...older];
      });
      setNext((current) => (rowsAreFirstPage.current ? page.next : current));
      rowsAreFirstPage.current = false;
    } catch (e) {
      setMessage(errorText(e));
    }
  }, []);

  useEffect(() => {
    setRows(null);
    setChosen(new Set());
    rowsAreFirstPage.current = true;
    void readFirst();
  }, [query, readFirst]);


  // Status changes of every visible run: a known run changes in place; anything else (a new
  // run) reads the first page again.
  const shownRef = useRef<RunRow[] | null>(null);
  shownRef.current = rows;
  const live = useLiveEvents<LiveEvent>("/ws/runs/", null, (events) => {
    // Decided here, not inside a state updater (React may run that later).
    const known = new Set((shownRef.current ?? []).map((r) => r.id));
    const unknown = events.some((e) => !known.has(e.run));
    setRows((shown) => {
      if (!shown) return shown;
      const byId = new Map(shown.map((r) => [r.id, r]));
      for (const event of events) {
        const row = byId.get(event.run);
        if (row && event.new_status) {
          const ended = ENDED.has(event.new_status);
          byId.set(event.run, { ...row, status: event.new_status, finished_at: ended ? event.created_at : row.finished_at });
        }
      }
      return shown.map((r) => byId.get(r.id)!);
    });
    if (unknown || filters.status) void readFirst();
  });

  const older = async () => {
    if (!next) return;
    try {
      const page = await api<Page>(next);
      setRows((shown) => [...(shown ?? []), ...page.results.filter((r) => !shown?.some((s) => s.id === r.id))]);
      setNext(page.next);
    } catch (e) {
      setMessage(errorText(e));
    }
  };

  const selected = rows?.filter((r) => chosen.has(r.id)) ?? [];
  const bulk = async (what: "cancel" | "retry") => {
    const targets = selected.filter((r) => (what === "cancel" ? !ENDED.has(r.status) : r.status === "failed"));
    let done = 0;
    const errors: string[] = [];
    for (const run of targets) {
      try {
        if (what === "cancel") {
          await api(`/api/runs/${run.id}/cancel/`, { method: "POST", body: { reason: "bulk cancel" } });
        } else {
          const detail = await api<{ steps: { node: string; status: string }[] }>(`/api/runs/${run.id}/`);
          for (const step of detail.steps.filter((s) => s.status === "failed")) {
            await api(`/api/runs/${run.id}/steps/${step.node}/retry/`, { method: "POST", body: { reason: "bulk retry" } });
          }
        }
        done += 1;
      } catch (e) {
        errors.push(`run ${run.id}: ${errorText(e)}`);
      }
    }
    const verb = what === "cancel" ? "Cancelled" : "Retried";
    setMessage(`${verb} ${done} of ${selected.length} selected run${selected.length === 1 ? "" : "s"}${errors.length ? `; ${errors.join("; ")}` : ""}`);
    setChosen(new Set());
    void readFirst();
  };

  const set = (key: keyof Filters) => (e: { target: { value: string } }) => setFilters({ ...filters, [key]: e.target.value });
  return (
    <div className="runs-list">
      <div className="toolbar filters" role="search" aria-label="Filter runs">
        <label>
          Workflow
          <select value={filters.workflow} onChange={set("workflow")}>
            <option value="">Any</option>
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={filters.status} onChange={set("status")}>
            <option value="">Any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
            <option value="failed,cancelled">failed or cancelled</option>
          </select>
        </label>
        <label>
          Trigger
          <select value={filters.trigger} onChange={set("trigger")}>
            <option value="">Any</option>
            {TRIGGERS.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Started by
          <input value={filters.actor} onChange={set("actor")} placeholder="username" />
        </label>
        <label>
          From
          <input type="datetime-local" value={filters.since} onChange={set("since")} />
        </label>
        <label>
          To
          <input type="datetime-local" value={filters.until} onChange={set("until")} />
        </label>
        <span role="status" aria-label="Live updates" className={`live-indicator live-${live}`}>
          {live === "live" ? "live" : live}
        </span>
      </div>
      <div className="toolbar" role="toolbar" aria-label="Selected runs">
        <button type="button" disabled={!selected.some((r) => !ENDED.has(r.status))} onClick={() => void bulk("cancel")}>
          Cancel selected
        </button>
        <button type="button" disabled={!selected.some((r) => r.status === "failed")} onClick={() => void bulk("retry")}>
          Retry failed steps of selected
        </button>
        {message && (
          <span role="status" aria-label="Notice" className="notice">
            {message}
          </span>
        )}
      </div>
      {rows === null ? (
        <p>Loading…</p>
      ) : rows.length === 0 ? (
        <p className="empty">No runs match.</p>
      ) : (
        <table aria-label="Runs">
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="Select all shown runs"
                  checked={rows.length > 0 && rows.every((r) => chosen.has(r.id))}
                  onChange={(e) => setChosen(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())}
                />
              </th>
              <th>Run</th>
              <th>Workflow</th>
              <th>Status</th>
              <th>Trigger</th>
              <th>Started by</th>
              <th>Created</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((run) => (
              <tr key={run.id} data-id={run.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select run ${run.id}`}
                    checked={chosen.has(run.id)}
                    onChange={(e) => {
                      const next = new Set(chosen);
                      if (e.target.checked) next.add(run.id);
                      else next.delete(run.id);
                      setChosen(next);
                    }}
                  />
                </td>
                <td>
                  <Link to={`/runs/${run.id}`}>Run {run.id}</Link>
                </td>
                <td>
                  {run.workflow_name} <small>v{run.version}</small>
                </td>
                <td>
                  <span className={`run-status status-${run.status}`}>{run.status}</span>
                </td>
                <td>{run.trigger}</td>
                <td>{run.actor ?? "—"}</td>
                <td>
                  <time dateTime={run.created_at}>{new Date(run.created_at).toLocaleString()}</time>
                </td>
                <td>{duration(run)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={() => void older()}>
          Older runs
        </button>
      )}
    </div>
  );
}
