/**
 * Alerts in the app (the dashboard shows this panel): open incidents of the rules on the
 * workflows the user may see, with Resolve (acknowledge), and the dead letters, runs that
 * failed for good, with a bulk retry of their failed steps. Read again when `version` changes.
 */
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router";

import { ApiError, api } from "../api";

type Alert = {
  id: number;
  rule_name: string;
  kind: string;
  summary: string;
  status: string;
  opened_at: string;
  last_sent_at: string | null;
  sends: number;
};

type DeadLetter = {
  id: number;
  workflow_name: string;
  failed_steps: string[];
  finished_at: string | null;
  created_at: string;
};

function errorText(e: unknown): string {
  if (e instanceof ApiError && e.errors.length) return e.errors.map((x) => x.message).join("; ");
  return (e as Error).message;
}

export function AlertsPanel({ version, workflow }: { version: number; workflow: string }) {
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [dead, setDead] = useState<DeadLetter[]>([]);
  const [chosen, setChosen] = useState<Set<number>>(new Set());
  const [message, setMessage] = useState<string | null>(null);

  const read = useCallback(async () => {
    const filter = workflow ? `&workflow=${workflow}` : "";
    try {
      const [open, letters] = await Promise.all([
        api<{ results: Alert[] }>(`/api/alerts/?status=open${filter}`),
        api<{ results: DeadLetter[] }>(`/api/runs/dead-letter/?page_size=50${filter}`),
      ]);
      setAlerts(open.results);
      setDead(letters.results);
    } catch (e) {
      setMessage(errorText(e));
    }
  }, [workflow]);

  useEffect(() => {
    void read();
  }, [read, version]);

  const resolve = async (alert: Alert) => {
    try {
      await api(`/api/alerts/${alert.id}/resolve/`, { method: "POST", body: {} });
      setMessage(`Resolved: ${alert.summary}`);
      await read();
    } catch (e) {
      setMessage(errorText(e));
    }
  };

  const retry = async () => {
    try {
      const answer = await api<{ results: { run: number; status: string }[] }>("/api/runs/dead-letter/retry/", {
        method: "POST",
        body: { runs: [...chosen], reason: "retried from the dashboard" },
      });
      const retried = answer.results.filter((r) => r.status === "retried").length;
      setMessage(`Retried ${retried} of ${answer.results.length} runs`);
      setChosen(new Set());
      await read();
    } catch (e) {
      setMessage(errorText(e));
    }
  };

  return (
    <div className="alerts-panel">
      {message && (
        <p role="status" aria-label="Alerts notice" className="notice">
          {message}
        </p>
      )}
      <table aria-label="Open alerts">
        <caption>Open alerts</caption>
        <thead>
          <tr>
            <th>Rule</th>
            <th>What</th>
            <th>Since</th>
            <th>Sent</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {alerts.length === 0 && (
            <tr>
              <td colSpan={5}>No open alerts.</td>
            </tr>
          )}
          {alerts.map((alert) => (
            <tr key={alert.id} data-id={alert.id}>
              <td>{alert.rule_name}</td>
              <td>{alert.summary}</td>
              <td>
                <time dateTime={alert.opened_at}>{new Date(alert.opened_at).toLocaleString()}</time>
              </td>
              <td>{alert.sends}</td>
              <td>
                <button type="button" onClick={() => void resolve(alert)}>
                  Resolve alert {alert.id}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <table aria-label="Failed for good">
        <caption>Failed for good (dead letters)</caption>
        <thead>
          <tr>
            <th />
            <th>Run</th>
            <th>Workflow</th>
            <th>Failed steps</th>
            <th>Ended</th>
          </tr>
        </thead>
        <tbody>
          {dead.length === 0 && (
            <tr>
              <td colSpan={5}>No runs failed for good.</td>
            </tr>
          )}
          {dead.map((run) => (
            <tr key={run.id} data-id={run.id}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select dead letter ${run.id}`}
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
              <td>{run.workflow_name}</td>
              <td>{run.failed_steps.join(", ")}</td>
              <td>{run.finished_at ? new Date(run.finished_at).toLocaleString() : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" disabled={chosen.size === 0} onClick={() => void retry()}>
        Retry selected dead letters
      </button>
    </div>
  );
}
