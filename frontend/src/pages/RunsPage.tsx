import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router";

import { api } from "../api";

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
};

/** One run: its status, output and steps, read from the API. (Live updates come with the
 * websocket issue; until then the Refresh button reads it again.) */
function RunView({ id }: { id: string }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(() => {
    api<Run>(`/api/runs/${id}/`)
      .then(setRun)
      .catch((e: Error) => setError(e.message));
  }, [id]);
  useEffect(refresh, [refresh]);

  if (error) return <p role="alert">{error}</p>;
  if (!run) return <p>Loading…</p>;
  return (
    <div className="run-view">
      <h2>
        Run {run.id} of <Link to={`/designer/${run.workflow}`}>{run.workflow_name}</Link> (version {run.version})
      </h2>
      <p>
        Status: <strong aria-label="Run status">{run.status}</strong>{" "}
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </p>
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
        <p className="empty">Runs of your workflows will be listed here.</p>
      )}
    </section>
  );
}
