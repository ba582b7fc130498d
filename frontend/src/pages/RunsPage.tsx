import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useParams } from "react-router";

import { ApiError, api } from "../api";
import type { Catalog, GraphDoc, StepTypeInfo } from "../editor/graph";
import { type LiveEvent, type LiveStatus, useLiveEvents } from "../live";
import {
  type RunStep,
  eventSummary,
  formatDuration,
  idempotencyKey,
  mergeEvents,
  parseInput,
  statusStyle,
  timeline,
} from "../runview/model";
import { StepLogs } from "../runview/StepLogs";
import "./runview.css";
import { RunsListPage } from "./RunsListPage";

// React Flow and the layout come with the graph, not with the page's first paint.
const RunGraph = lazy(() => import("../runview/RunGraph").then((m) => ({ default: m.RunGraph })));

type Run = {
  id: number;
  workflow: number;
  workflow_name: string;
  version: number;
  status: string;
  trigger: string;
  actor: string | null;
  error: { message?: string; traceback?: string } | null;
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
  last_event_id?: number | null;
};

const LIVE_LABELS: Record<LiveStatus, string> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  refused: "not live",
};

const ENDED = new Set(["succeeded", "failed", "cancelled"]);

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function time(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleTimeString(undefined, { hour12: false }) : "—";
}

function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const details = e.errors.map((x) => [x.field, x.message].filter(Boolean).join(": ")).join("; ");
    return `${e.status}: ${details || e.message}`;
  }
  return (e as Error).message;
}

/** The run's workflow version (its graph) and the step catalog, for the graph view. */
function useRunGraph(run: Run | null): { graph: GraphDoc | null; catalog: Catalog | null; error: string | null } {
  const [state, setState] = useState<{ key: string; graph: GraphDoc; catalog: Catalog } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = run ? `${run.workflow}/${run.version}` : null;
  useEffect(() => {
    if (!key) return;
    let live = true;
    Promise.all([
      api<{ graph: GraphDoc }>(`/api/workflows/${key.replace("/", "/versions/")}/`),
      api<StepTypeInfo[]>("/api/step-types/"),
    ])
      .then(([version, types]) => {
        if (live) setState({ key, graph: version.graph, catalog: Object.fromEntries(types.map((t) => [t.type, t])) });
      })
      .catch((e) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [key]);
  return state && state.key === key ? { graph: state.graph, catalog: state.catalog, error } : { graph: null, catalog: null, error };
}

/** Every event of the run: read page by page, the live ones added, and read again after the
 * newest one known whenever the run says it has a newer one (`sync`), so an event that came
 * between the first read of the log and the socket's cursor is not missed. */
function useEventLog(id: string): { events: LiveEvent[]; add: (more: LiveEvent[]) => void; sync: (upTo: number | null) => void } {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const newest = useRef(0);
  const reading = useRef<{ busy: boolean; again: boolean; id: string }>({ busy: false, again: false, id });

  const add = useCallback((more: LiveEvent[]) => {
    for (const e of more) newest.current = Math.max(newest.current, e.id);
    setEvents((known) => mergeEvents(known, more));
  }, []);

  const readAfter = useCallback(() => {
    const state = reading.current;
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    const forId = state.id;
    (async () => {
      let after = newest.current;
      for (;;) {
        const page = await api<{ events: LiveEvent[]; next_after: number | null }>(
          `/api/runs/${forId}/events/?after=${after}`,
        );
        if (reading.current.id !== forId) return;
        add(page.events);
        if (page.next_after === null) return;
        after = page.next_after;
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        if (reading.current !== state) return;
        state.busy = false;
        if (state.again) {
          state.again = false;
          readAfter();
        }
      });
  }, [add]);

  useEffect(() => {
    reading.current = { busy: false, again: false, id };
    newest.current = 0;
    setEvents([]);
    readAfter();
  }, [id, readAfter]);

  const sync = useCallback(
    (upTo: number | null) => {
      if (upTo !== null && upTo > newest.current) readAfter();
    },
    [readAfter],
  );
  return { events, add, sync };
}

export type Action =
  | { kind: "cancel" }
  | { kind: "retry"; node: string; edit: boolean; input: unknown }
  | { kind: "skip"; node: string };

export function ActionDialog({ runId, action, onDone, onClose }: { runId: number; action: Action; onDone: () => void; onClose: () => void }) {
  const [reason, setReason] = useState("");
  const [input, setInput] = useState(action.kind === "retry" ? json(action.input ?? {}) : "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const parsed = action.kind === "retry" && action.edit ? parseInput(input) : null;
  const invalid = parsed && "error" in parsed ? parsed.error : null;

  const title =
    action.kind === "cancel"
      ? `Cancel run ${runId}`
      : action.kind === "skip"
        ? `Skip step ${action.node}`
        : action.edit
          ? `Retry step ${action.node} with edited input`
          : `Retry step ${action.node}`;

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      if (action.kind === "cancel") {
        await api(`/api/runs/${runId}/cancel/`, { method: "POST", body: { reason } });
      } else if (action.kind === "skip") {
        await api(`/api/runs/${runId}/steps/${action.node}/skip/`, { method: "POST", body: { reason } });
      } else {
        const body: Record<string, unknown> = { reason };
        if (parsed && "value" in parsed) body.input = parsed.value;
        await api(`/api/runs/${runId}/steps/${action.node}/retry/`, { method: "POST", body });
      }
      onDone();
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  }

  return (
    <div className="dialog-backdrop">
      <div
        role="dialog"
        aria-modal="true"
        aria-label={title}
        className="dialog run-dialog"
        onKeyDown={(e) => {
          if (e.key === "Escape" && !busy) onClose();
        }}
      >
        <h3>{title}</h3>
        {action.kind === "retry" && action.edit && (
          <label className="run-dialog-field">
            Input (JSON)
            <textarea
              value={input}
              rows={8}
              spellCheck={false}
              autoFocus
              onChange={(e) => setInput(e.target.value)}
              aria-invalid={invalid ? true : undefined}
              aria-describedby={invalid ? "run-dialog-input-error" : undefined}
            />
          </label>
        )}
        {invalid && (
          <p id="run-dialog-input-error" className="problem">
            {invalid}
          </p>
        )}
        <label className="run-dialog-field">
          Reason
          <input
            value={reason}
            maxLength={1000}
            autoFocus={!(action.kind === "retry" && action.edit)}
            onChange={(e) => setReason(e.target.value)}
          />
        </label>
        {error && (
          <p role="alert" className="problem">
            {error}
          </p>
        )}
        <div className="run-dialog-buttons">
          <button type="button" onClick={() => void confirm()} disabled={busy || invalid !== null}>
            Confirm
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}

function Inspector({
  run,
  step,
  events,
  onAction,
}: {
  run: Run;
  step: RunStep;
  events: LiveEvent[];
  onAction: (action: Action) => void;
}) {
  const style = statusStyle(step.status);
  const attempts = events.filter((e) => e.node === step.node && e.new_status === "running");
  return (
    <section className="run-inspector" aria-label={`Step ${step.node} details`}>
      <h3>
        {step.node} <span className={`status-chip status-${style.tone}`}>{style.label}</span>
      </h3>
      <dl>
        <dt>Type</dt>
        <dd>{step.type}</dd>
        <dt>Attempt</dt>
        <dd>{step.attempt}</dd>
        <dt>Idempotency key</dt>
        <dd>
          <code aria-label="Idempotency key">{step.attempt > 0 ? idempotencyKey(run.id, step.node, step.attempt) : "—"}</code>
        </dd>
        <dt>Started</dt>
        <dd>{time(step.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{time(step.finished_at)}</dd>
        {step.wake_at && (
          <>
            <dt>Wakes at</dt>
            <dd>{time(step.wake_at)}</dd>
          </>
        )}
      </dl>
      {(step.status === "failed" || step.status === "waiting" || step.status === "retrying") && (
        <div className="run-actions" role="group" aria-label="Step actions">
          {step.status === "failed" && (
            <>
              <button type="button" onClick={() => onAction({ kind: "retry", node: step.node, edit: false, input: step.input })}>
                Retry
              </button>
              <button type="button" onClick={() => onAction({ kind: "retry", node: step.node, edit: true, input: step.input })}>
                Retry with edited input
              </button>
            </>
          )}
          <button type="button" onClick={() => onAction({ kind: "skip", node: step.node })}>
            Skip
          </button>
        </div>
      )}
      {step.error && (
        <div className="run-error" role="region" aria-label="Step error">
          <p className="problem">
            {step.error.message ?? json(step.error)}
            {step.error.code ? <span className="muted"> ({step.error.code})</span> : null}
          </p>
          {step.error.traceback && <pre>{step.error.traceback}</pre>}
        </div>
      )}
      <h4>Input</h4>
      <pre aria-label="Step input">{step.input === null || step.input === undefined ? "—" : json(step.input)}</pre>
      <h4>Output</h4>
      <pre aria-label="Step output">{step.output === null || step.output === undefined ? "—" : json(step.output)}</pre>
      <h4>Attempts</h4>
      {attempts.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <ol aria-label="Attempts">
          {attempts.map((e) => {
            const end = events.find(
              (x) => x.node === step.node && x.id > e.id && x.old_status === "running",
            );
            return (
              <li key={e.id}>
                attempt {e.attempt ?? "?"}: {time(e.created_at)} → {end ? `${time(end.created_at)} ${end.new_status}` : "running"}
              </li>
            );
          })}
        </ol>
      )}
      <StepLogs runId={run.id} node={step.node} status={step.status} attempt={step.attempt} />
    </section>
  );
}

function TimelineChart({ steps, running, onSelect }: { steps: RunStep[]; running: boolean; onSelect: (n: string) => void }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running, steps]);
  const chart = timeline(steps, now);
  if (!chart) return <p className="muted">No step has started yet.</p>;
  return (
    <ul className="timeline" aria-label="Timeline">
      {chart.bars.map((bar) => {
        const style = statusStyle(bar.status);
        const until = bar.wakeAt ? ` until ${time(bar.wakeAt)}` : "";
        const label = `${bar.node}: ${style.label}${until}, ${formatDuration(bar.duration)}`;
        return (
          <li key={bar.node} className="timeline-row">
            <button type="button" className="timeline-name" onClick={() => onSelect(bar.node)}>
              {bar.node}
            </button>
            <span className="timeline-track">
              <span
                className={`timeline-bar status-${style.tone}${bar.open ? " open" : ""}`}
                role="img"
                aria-label={label}
                title={label}
                style={{ left: `${bar.left}%`, width: `${bar.width}%`, background: style.border }}
              />
            </span>
            <span className="timeline-duration">{formatDuration(bar.duration)}</span>
          </li>
        );
      })}
    </ul>
  );
}

/** One run: graph, steps, inspector, timeline and event log, read from the API, then kept
 * current by the run's live socket: each batch of events reads the run again (one read at a
 * time, and one more if events came meanwhile) and is added to the event log. */
function RunView({ id }: { id: string }) {
  const [loaded, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [action, setAction] = useState<Action | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const reading = useRef<{ busy: boolean; again: boolean }>({ busy: false, again: false });
  const log = useEventLog(id);
  const { add, sync } = log;

  const read = useCallback(() => {
    const state = reading.current;
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    api<Run>(`/api/runs/${id}/`)
      .then((fresh) => {
        setRun(fresh);
        setError(null);
        sync(fresh.last_event_id ?? null);
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => {
        state.busy = false;
        if (state.again) {
          state.again = false;
          read();
        }
      });
  }, [id, sync]);
  useEffect(() => {
    setRun(null);
    setSelected(null);
    read();
  }, [read]);

  const onEvents = useCallback(
    (events: LiveEvent[]) => {
      add(events);
      read();
    },
    [add, read],
  );

  // The socket opens once the first read of this run says which event the page shows.
  const run = loaded !== null && String(loaded.id) === id ? loaded : null;
  const live = useLiveEvents(`/ws/runs/${id}/`, run ? (run.last_event_id ?? null) : undefined, onEvents);
  const { graph, catalog, error: graphError } = useRunGraph(run);
  const steps = useMemo(() => run?.steps ?? [], [run]);
  const step = steps.find((s) => s.node === selected) ?? null;

  if (error && !run) return <p role="alert">{error}</p>;
  if (!run) return <p>Loading…</p>;
  const ended = ENDED.has(run.status);
  return (
    <div className="run-view">
      <h2>
        Run {run.id} of <Link to={`/designer/${run.workflow}`}>{run.workflow_name}</Link> (version {run.version})
      </h2>
      <p>
        Status: <strong aria-label="Run status" className={`run-status run-status-${run.status}`}>{run.status}</strong>{" "}
        <span role="status" aria-label="Live updates" className={`live-indicator live-${live}`}>
          {LIVE_LABELS[live]}
        </span>{" "}
        {!ended && (
          <button type="button" onClick={() => setAction({ kind: "cancel" })}>
            Cancel run
          </button>
        )}
      </p>
      <nav className="run-family" aria-label="Related runs">
        {run.parent_run ? (
          <span>
            Parent: <Link to={`/runs/${run.parent_run}`}>run {run.parent_run}</Link>
            {run.parent_node ? ` (step ${run.parent_node}${run.parent_index !== null && run.parent_index !== undefined ? ` #${run.parent_index}` : ""})` : ""}
          </span>
        ) : null}
        {run.children && run.children.length > 0 && (
          <span>
            Child runs:{" "}
            {run.children.map((child, i) => (
              <span key={child}>
                {i > 0 && ", "}
                <Link to={`/runs/${child}`}>run {child}</Link>
              </span>
            ))}
          </span>
        )}
      </nav>
      {error && <p role="alert">{error}</p>}
      {notice && (
        <p role="status" aria-label="Notice" className="notice">
          {notice}
        </p>
      )}
      {run.error?.message && <p className="problem">{run.error.message}</p>}
      {run.output !== null && run.output !== undefined && <pre aria-label="Run output">{json(run.output)}</pre>}

      <div className="run-layout">
        <div className="run-main">
          {graphError && <p className="problem">The graph could not be read: {graphError}</p>}
          {graph && catalog ? (
            <Suspense fallback={<p>Loading the graph…</p>}>
              <RunGraph graph={graph} catalog={catalog} steps={steps} selected={selected} onSelect={setSelected} />
            </Suspense>
          ) : (
            !graphError && <p>Loading the graph…</p>
          )}
          <table aria-label="Steps" className="run-steps">
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Attempt</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {steps.map((s) => (
                <tr
                  key={s.node}
                  data-id={s.node}
                  data-status={s.status}
                  className={s.node === selected ? "selected" : undefined}
                  onClick={() => setSelected(s.node)}
                >
                  <td>
                    <button type="button" className="link-button" onClick={() => setSelected(s.node)} aria-label={`Inspect ${s.node}`}>
                      {s.node}
                    </button>
                  </td>
                  <td>{s.type}</td>
                  <td>{s.status}</td>
                  <td>{s.attempt}</td>
                  <td>{s.error?.message ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Timeline</h3>
          <TimelineChart steps={steps} running={!ended} onSelect={setSelected} />
          <h3>Events</h3>
          <table aria-label="Events" className="run-events">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Step</th>
                <th scope="col">Actor</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {log.events.map((e) => (
                <tr key={e.id} data-event={e.id}>
                  <td>{time(e.created_at)}</td>
                  <td>{e.type}</td>
                  <td>{e.node}</td>
                  <td>{e.actor ?? ""}</td>
                  <td>{eventSummary(e)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {step && <Inspector run={run} step={step} events={log.events} onAction={setAction} />}
      </div>
      {action && (
        <ActionDialog
          runId={run.id}
          action={action}
          onClose={() => setAction(null)}
          onDone={() => {
            setNotice(
              action.kind === "cancel" ? "Run cancelled." : action.kind === "skip" ? `Step ${action.node} skipped.` : `Step ${action.node} queued again.`,
            );
            setAction(null);
            read();
          }}
        />
      )}
    </div>
  );
}

export function RunsPage() {
  const id = useParams()["*"];
  return (
    <section className="page" aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      {id && /^\d+$/.test(id) ? (
        <RunView id={id} />
      ) : (
        <RunsListPage />
      )}
    </section>
  );
}
