/**
 * The dashboard: for a time window and optionally one workflow, the figures of GET /api/stats/
 * (runs per interval, failure rate, durations, retries, queue, human tasks, busiest and slowest
 * steps), charted with Recharts. It reads the figures again when /ws/runs/ reports a change
 * (at most once a second), so a new run shows without a reload.
 */
import "./dashboard.css";

import { useCallback, useEffect, useRef, useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { ApiError, api } from "../api";
import { useLiveEvents } from "../live";
import { useWorkflowNames } from "../workflowNames";
import { AlertRules } from "./AlertRules";
import { AlertsPanel } from "./AlertsPanel";

export type Stats = {
  window: { since: string; until: string; hours: number };
  interval: string;
  workflow: number | null;
  series: { t: string; started: number; succeeded: number; failed: number; cancelled: number }[];
  totals: { started: number; succeeded: number; failed: number; cancelled: number };
  failure_rate: number | null;
  duration_s: { count: number; avg: number | null; p95: number | null };
  retries: { step_runs: number; extra_attempts: number; rate: number | null };
  queue: { depth: number; oldest_age_s: number | null };
  tasks: { waiting: number; overdue: number };
  busiest_steps: { workflow: number; workflow_name: string; node: string; attempts: number; step_runs: number }[];
  slowest_steps: { workflow: number; workflow_name: string; node: string; count: number; mean_s: number; p95_s: number }[];
  failing_workflows: { workflow: number; workflow_name: string; failed: number; completed: number; failure_rate: number }[];
};

export const WINDOWS = [
  { value: "24h", label: "Last 24 hours" },
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
] as const;

/** Seconds for people: "—" for none, "850 ms", "12.3 s", "4.2 min", "1.5 h". */
export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 60) return `${value.toFixed(1)} s`;
  if (value < 3600) return `${(value / 60).toFixed(1)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)} %`;
}

/** The label of a series point: the hour for hourly series, the day for daily ones. */
export function tick(t: string, interval: string): string {
  const date = new Date(t);
  return interval === "1d"
    ? date.toLocaleDateString(undefined, { month: "short", day: "numeric" })
    : date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function Figure({ label, value, warn = false }: { label: string; value: string | number; warn?: boolean }) {
  return (
    <div className={`figure${warn ? " warn" : ""}`} role="group" aria-label={label}>
      <div className="value">{value}</div>
      <div className="label">{label}</div>
    </div>
  );
}

export function DashboardPage() {
  const [range, setRange] = useState("24h");
  const [workflow, setWorkflow] = useState("");
  const workflows = useWorkflowNames();
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Bumped at each read of the figures: the alerts panel reads again with them.
  const [version, setVersion] = useState(0);
  const asked = useRef("");

  const read = useCallback(async () => {
    const params = new URLSearchParams({ window: range });
    if (workflow) params.set("workflow", workflow);
    const query = params.toString();
    asked.current = query;
    try {
      const figures = await api<Stats>(`/api/stats/?${query}`);
      if (asked.current === query) {
        setStats(figures);
        setError(null);
        setVersion((v) => v + 1);
      }
    } catch (e) {
      setError(e instanceof ApiError && e.errors.length ? e.errors[0].message : (e as Error).message);
    }
  }, [range, workflow]);

  useEffect(() => {
    void read();
  }, [read]);


  // Live: run status changes read the figures again, at most once a second.
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const live = useLiveEvents("/ws/runs/", null, () => {
    pending.current ??= setTimeout(() => {
      pending.current = null;
      void read();
    }, 1000);
  });
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);

  return (
    <section className="page page-dashboard" aria-labelledby="dashboard-title">
      <h1 id="dashboard-title">Dashboard</h1>
      <div className="toolbar" role="search" aria-label="Dashboard filters">
        <label>
          Window
          <select value={range} onChange={(e) => setRange(e.target.value)}>
            {WINDOWS.map((w) => (
              <option key={w.value} value={w.value}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Workflow
          <select value={workflow} onChange={(e) => setWorkflow(e.target.value)}>
            <option value="">All workflows</option>
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <span role="status" aria-label="Live updates" className={`live-indicator live-${live}`}>
          {live}
        </span>
      </div>
      {error && <p role="alert">{error}</p>}
      {stats && (
        <>
          <div className="figures">
            <Figure label="Runs started" value={stats.totals.started} />
            <Figure label="Succeeded" value={stats.totals.succeeded} />
            <Figure label="Failed" value={stats.totals.failed} warn={stats.totals.failed > 0} />
            <Figure label="Failure rate" value={percent(stats.failure_rate)} warn={(stats.failure_rate ?? 0) > 0.1} />
            <Figure label="Average duration" value={seconds(stats.duration_s.avg)} />
            <Figure label="p95 duration" value={seconds(stats.duration_s.p95)} />
            <Figure label="Retry rate" value={percent(stats.retries.rate)} />
            <Figure label="Queued steps" value={stats.queue.depth} />
            <Figure label="Oldest queued" value={seconds(stats.queue.oldest_age_s)} warn={(stats.queue.oldest_age_s ?? 0) > 60} />
            <Figure label="Waiting tasks" value={stats.tasks.waiting} />
            <Figure label="Overdue tasks" value={stats.tasks.overdue} warn={stats.tasks.overdue > 0} />
          </div>
          <figure className="chart" aria-label="Runs per interval">
            <figcaption>Runs per {stats.interval === "1d" ? "day" : "hour"}</figcaption>
            <ResponsiveContainer width="100%" height={260}>
              <BarChart data={stats.series.map((p) => ({ ...p, label: tick(p.t, stats.interval) }))}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="label" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Legend />
                <Bar dataKey="succeeded" stackId="ended" fill="#2e9d4a" isAnimationActive={false} />
                <Bar dataKey="failed" stackId="ended" fill="#c0392b" isAnimationActive={false} />
                <Bar dataKey="cancelled" stackId="ended" fill="#9aa3b2" isAnimationActive={false} />
                <Bar dataKey="started" fill="#2f6fed" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </figure>
          <AlertsPanel version={version} workflow={workflow} />
          <div className="tables">
            <table aria-label="Busiest steps">
              <caption>Busiest steps (attempts)</caption>
              <thead>
                <tr>
                  <th>Workflow</th>
                  <th>Step</th>
                  <th>Attempts</th>
                  <th>Runs of it</th>
                </tr>
              </thead>
              <tbody>
                {stats.busiest_steps.map((s) => (
                  <tr key={`${s.workflow}:${s.node}`}>
                    <td>{s.workflow_name}</td>
                    <td>{s.node}</td>
                    <td>{s.attempts}</td>
                    <td>{s.step_runs}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <table aria-label="Slowest steps">
              <caption>Slowest steps</caption>
              <thead>
                <tr>
                  <th>Workflow</th>
                  <th>Step</th>
                  <th>Mean</th>
                  <th>p95</th>
                </tr>
              </thead>
              <tbody>
                {stats.slowest_steps.map((s) => (
                  <tr key={`${s.workflow}:${s.node}`}>
                    <td>{s.workflow_name}</td>
                    <td>{s.node}</td>
                    <td>{seconds(s.mean_s)}</td>
                    <td>{seconds(s.p95_s)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <table aria-label="Failing workflows">
              <caption>Failing workflows</caption>
              <thead>
                <tr>
                  <th>Workflow</th>
                  <th>Failed</th>
                  <th>Ended</th>
                  <th>Rate</th>
                </tr>
              </thead>
              <tbody>
                {stats.failing_workflows.map((w) => (
                  <tr key={w.workflow}>
                    <td>{w.workflow_name}</td>
                    <td>{w.failed}</td>
                    <td>{w.completed}</td>
                    <td>{percent(w.failure_rate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <AlertRules workflows={workflows} />
    </section>
  );
}
