/**
 * The dashboard's pure parts: the answer of GET /api/stats/, the figures people read from it
 * (units, rates, per-bucket series for the sparklines), the chart colours from the status
 * palette, and a sort for the tables; vitest checks them.
 */
import type { MantineColor } from "@mantine/core";

import { statusLook } from "../../status";
import type { HumanStats } from "./human";

export type StatsBucket = { t: string; started: number; succeeded: number; failed: number; cancelled: number };

export type Stats = {
  window: { since: string; until: string; hours: number };
  interval: string;
  workflow: number | null;
  series: StatsBucket[];
  totals: { started: number; succeeded: number; failed: number; cancelled: number };
  failure_rate: number | null;
  duration_s: { count: number; avg: number | null; p50?: number | null; p95: number | null };
  retries: { step_runs: number; extra_attempts: number; rate: number | null };
  queue: { depth: number; oldest_age_s: number | null };
  tasks: { waiting: number; overdue: number };
  busiest_steps: { workflow: number; workflow_name: string; node: string; attempts: number; step_runs: number }[];
  slowest_steps: {
    workflow: number;
    workflow_name: string;
    node: string;
    count: number;
    mean_s: number;
    p95_s: number | null;
  }[];
  failing_workflows: {
    workflow: number;
    workflow_name: string;
    failed: number;
    completed: number;
    failure_rate: number;
  }[];
  /** What people's work cost (issue 19, item 5). */
  human: HumanStats;
};

export const WINDOWS = [
  { value: "24h", label: "24 hours" },
  { value: "7d", label: "7 days" },
  { value: "30d", label: "30 days" },
] as const;

/** Seconds for people: "—" for none, "850 ms", "12.3 s", "4.2 min", "1.5 h". */
export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 60) return `${value.toFixed(1)} s`;
  if (value < 3600) return `${(value / 60).toFixed(1)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

/** A rate (0..1) as a percentage: "25.0 %", "—" for none. */
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

/** Runs that finished (succeeded, failed or cancelled). */
export function finished(t: { succeeded: number; failed: number; cancelled: number }): number {
  return t.succeeded + t.failed + t.cancelled;
}

/** The share of finished runs that succeeded (0..1), null when none finished. */
export function successRate(t: { succeeded: number; failed: number; cancelled: number }): number | null {
  const n = finished(t);
  return n ? t.succeeded / n : null;
}

/** One number per bucket, for a sparkline; a rate is null where nothing finished. */
export function sparkline(series: StatsBucket[], what: "started" | "failed" | "succeeded" | "success_rate"): (number | null)[] {
  return series.map((b) => (what === "success_rate" ? successRate(b) : b[what]));
}

/** A sparkline says something only with at least two points with a value, one of them not 0. */
export function worthDrawing(points: (number | null)[]): boolean {
  const values = points.filter((p): p is number => p !== null);
  return values.length >= 2 && values.some((v) => v !== 0);
}

/** A chart colour for a status, from the status palette; the palette's "dark" (cancelled) is
 * drawn grey, which stays visible on the dark scheme's background. */
export function chartColor(status: string): MantineColor {
  const { color } = statusLook(status);
  return color === "dark" ? "gray.6" : color;
}

/** The CSS colour of `chartColor(status)`, for a legend's swatch. */
export function chartVar(status: string): string {
  const color = chartColor(status);
  const [name, shade] = color.split(".");
  return shade ? `var(--mantine-color-${name}-${shade})` : `var(--mantine-color-${name}-filled)`;
}

/** The figures of the bars: each bucket with its label and the outcomes. */
export function chartData(stats: Stats): (StatsBucket & { label: string })[] {
  return stats.series.map((b) => ({ ...b, label: tick(b.t, stats.interval) }));
}

/** True when the window and the whole install have nothing to show yet (a fresh install):
 * no run started or finished, no step queued, no task open. */
export function isEmpty(stats: Stats): boolean {
  return (
    stats.totals.started === 0 &&
    finished(stats.totals) === 0 &&
    stats.queue.depth === 0 &&
    stats.tasks.waiting === 0 &&
    stats.series.every((b) => b.started === 0 && finished(b) === 0)
  );
}

export type SortStatus<T> = { columnAccessor: keyof T | (string & {}); direction: "asc" | "desc" };

/** `records` sorted by one column (numbers as numbers, text by the locale), not in place. */
export function sortRecords<T>(records: T[], sort: SortStatus<T>): T[] {
  const sign = sort.direction === "asc" ? 1 : -1;
  return [...records].sort((a, b) => {
    const key = String(sort.columnAccessor);
    const x = (a as Record<string, unknown>)[key];
    const y = (b as Record<string, unknown>)[key];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === "number" && typeof y === "number") return (x - y) * sign;
    return String(x).localeCompare(String(y)) * sign;
  });
}
