import { useEffect, useState } from "react";

import { api } from "../api";
import { LOG_LEVELS, type LogLevel, type StepLogs as Logs, logRows, logTime, logsKey } from "./logs";

/** The inspector's Logs: each attempt's lines (level, time, message), read again whenever the
 * step's status or attempt changes, which the run view learns live from the run's socket. */
export function StepLogs({ runId, node, status, attempt }: { runId: number; node: string; status: string; attempt: number }) {
  const key = logsKey(runId, node, status, attempt);
  const [state, setState] = useState<{ key: string; logs: Logs } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [minLevel, setMinLevel] = useState<LogLevel>("debug");

  useEffect(() => {
    let live = true;
    setError(null);
    api<Logs>(`/api/runs/${runId}/steps/${encodeURIComponent(node)}/logs/`)
      .then((logs) => live && setState({ key, logs }))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [runId, node, key]);

  // The previous read stays on screen while the next one comes, if it is the same step's.
  const logs = state && state.logs.node === node ? state.logs : null;
  return (
    <section className="step-logs" aria-label="Logs">
      <h4>Logs</h4>
      {error && <p className="problem">The logs could not be read: {error}</p>}
      {!logs ? (
        !error && <p className="muted">Loading…</p>
      ) : logs.attempts.length === 0 ? (
        <p className="muted">{status === "running" ? "Lines logged by this attempt show when it ends." : "No lines logged."}</p>
      ) : (
        <>
          <label className="log-filter">
            Log level{" "}
            <select value={minLevel} onChange={(e) => setMinLevel(e.target.value as LogLevel)}>
              {LOG_LEVELS.map((level) => (
                <option key={level} value={level}>
                  {level === "debug" ? "all" : `${level} and above`}
                </option>
              ))}
            </select>
          </label>
          {logs.attempts.map((a) => {
            const rows = logRows(a, minLevel);
            return (
              <div key={a.attempt} role="group" aria-label={`Logs of attempt ${a.attempt}`} className="log-attempt">
                <h5>Attempt {a.attempt}</h5>
                {rows.length === 0 ? (
                  <p className="muted">No lines at this level.</p>
                ) : (
                  <ol className="log-lines">
                    {rows.map((row) =>
                      row.kind === "dropped" ? (
                        <li key={row.key} className="log-dropped">
                          {row.text}
                        </li>
                      ) : (
                        <li key={row.key} className={`log-line log-${row.line.level}`} data-level={row.line.level}>
                          <time dateTime={row.line.t}>{logTime(row.line.t)}</time>{" "}
                          <span className="log-level">{row.line.level}</span>{" "}
                          <span className="log-message">{row.line.message}</span>
                        </li>
                      ),
                    )}
                  </ol>
                )}
              </div>
            );
          })}
        </>
      )}
    </section>
  );
}
