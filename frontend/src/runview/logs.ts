/**
 * A step's log as the run view shows it: what each attempt wrote through `ctx.log`
 * (`GET /api/runs/{id}/steps/{node}/logs/`), filtered by level, with the lines the server
 * dropped over its caps marked where they were.
 */

export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogLine = { t: string; level: string; message: string };

export type AttemptLog = { attempt: number; lines: LogLine[]; dropped: number; dropped_at: number | null };

export type StepLogs = { node: string; attempt: number; attempts: AttemptLog[] };

export type LogRow = { kind: "line"; key: string; line: LogLine } | { kind: "dropped"; key: string; text: string };

/** A level's rank; one the page does not know (a newer server) counts as info. */
function rank(level: string): number {
  const index = (LOG_LEVELS as readonly string[]).indexOf(level);
  return index < 0 ? 1 : index;
}

export function droppedText(count: number): string {
  return count === 1 ? "1 line dropped" : `${count} lines dropped`;
}

/** The rows of one attempt's log at `minLevel` and above; the dropped lines' marker stays
 * where they were, whatever the filter (they may have been of any level). */
export function logRows(log: AttemptLog, minLevel: LogLevel = "debug"): LogRow[] {
  const rows: LogRow[] = [];
  const min = rank(minLevel);
  const marker = (): LogRow => ({ kind: "dropped", key: `dropped-${log.attempt}`, text: droppedText(log.dropped) });
  log.lines.forEach((line, index) => {
    if (log.dropped > 0 && log.dropped_at === index) rows.push(marker());
    if (rank(line.level) >= min) rows.push({ kind: "line", key: `${log.attempt}-${index}`, line });
  });
  if (log.dropped > 0 && (log.dropped_at === null || log.dropped_at >= log.lines.length)) rows.push(marker());
  return rows;
}

/** A line's time: local, to the millisecond (a step writes many lines a second). */
export function logTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const hms = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
  return `${hms}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}
