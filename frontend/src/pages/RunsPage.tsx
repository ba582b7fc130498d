import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";

import { api } from "../api";
import { RunsListPage } from "./RunsListPage";
import { type LiveStatus, useLiveEvents } from "../live";

type Step = {
  node: string;
  type: string;
  status: string;
  attempt: number;
  error: { message?: string } | null;
  started_at: string | null;
  finished_at: string | null;
};

type Run = {
  id: number;
  workflow: number;
  workflow_name: string;
  version: number;
  status: string;
  trigger: string;
  actor: string | null;
  error: { message?: string } | null;
  created_at: string;
  output?: unknown;
  steps?: Step[];
  last_event_id?: number | null;
};

const LIVE_LABELS: Record<LiveStatus, string> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  refused: "not live",
};

/** One run: its status, output and steps, read from the API, then kept current by the run's
 * live socket: each batch of events reads the run again (one read at a time, and one more if
 * events came meanwhile), and the socket resumes after the newest event the page has. */
function RunView({ id }: { id: string }) {
  const [loaded, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reading = useRef<{ busy: boolean; again: boolean }>({ busy: false, again: false });

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
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => {
        state.busy = false;
        if (state.again) {
          state.again = false;
          read();
        }
      });
  }, [id]);
  useEffect(() => {
    setRun(null);
    read();
  }, [read]);

  // The socket opens once the first read of this run says which event the page shows.
  const run = loaded !== null && String(loaded.id) === id ? loaded : null;
  const live = useLiveEvents(`/ws/runs/${id}/`, run ? (run.last_event_id ?? null) : undefined, read);

  if (error && !run) return <p role="alert">{error}</p>;
  if (!run) return <p>Loading…</p>;
  return (
    <div className="run-view">
      <h2>
        Run {run.id} of <Link to={`/designer/${run.workflow}`}>{run.workflow_name}</Link> (version {run.version})
      </h2>
      <p>
        Status: <strong aria-label="Run status">{run.status}</strong>{" "}
        <span role="status" aria-label="Live updates" className={`live-indicator live-${live}`}>
          {LIVE_LABELS[live]}
        </span>
      </p>
      {error && <p role="alert">{error}</p>}
      {run.error?.message && <p className="problem">{run.error.message}</p>}
      {run.output !== null && run.output !== undefined && (
        <pre aria-label="Run output">{JSON.stringify(run.output, null, 2)}</pre>
      )}
      <table aria-label="Steps">
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
          {run.steps?.map((step) => (
            <tr key={step.node} data-id={step.node}>
              <td>{step.node}</td>
              <td>{step.type}</td>
              <td>{step.status}</td>
              <td>{step.attempt}</td>
              <td>{step.error?.message ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
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
