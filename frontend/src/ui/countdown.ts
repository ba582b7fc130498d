/**
 * A task's time left, as its countdown shows it (the inbox row and task, the run graph's node,
 * the run view's inspector and steps table): plain while there is time, amber in the last
 * 20 % of its SLA window (from `due_from`, when it was asked or escalated, to `due_at`), red
 * once overdue ("overdue 5 min"), and after an escalation "escalated to finance-leads · 2 h
 * left". `now` is the server's clock (clock.ts), never the browser's own.
 */

export type CountdownTone = "normal" | "soon" | "overdue";

export type CountdownInfo = {
  tone: CountdownTone;
  /** Milliseconds left; negative once overdue. */
  left: number;
  /** "12 min 5 s left", "overdue 5 min", "escalated to finance-leads · 2 h left". */
  text: string;
  /** How often it should tick: every second within the hour, every 10 s beyond. */
  tickMs: number;
};

/** The share of its window under which a task is "soon" (amber). */
export const SOON_SHARE = 0.2;

/** The theme colour of each tone (Badge `color`). */
export const TONE_COLOR: Record<CountdownTone, string> = { normal: "gray", soon: "orange", overdue: "red" };

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;

/** A span of seconds as a countdown says it: "42 s", "4 min 12 s" (seconds matter in the last
 * ten minutes), "25 min", "2 h 5 min", "3 d 4 h". */
export function span(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < MINUTE) return `${s} s`;
  const minutes = Math.floor(s / MINUTE);
  if (s < 10 * MINUTE) return s % MINUTE ? `${minutes} min ${s % MINUTE} s` : `${minutes} min`;
  if (s < HOUR) return `${minutes} min`;
  const hours = Math.floor(s / HOUR);
  if (s < DAY) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(s / DAY);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

function time(value: string | null | undefined): number {
  return value ? Date.parse(value) : Number.NaN;
}

/** The countdown of a due time at `now`, or null without a (valid) due time. */
export function countdown(
  due: string | null | undefined,
  from: string | null | undefined,
  now: number,
  escalatedTo: readonly string[] = [],
): CountdownInfo | null {
  const dueAt = time(due);
  if (Number.isNaN(dueAt)) return null;
  const left = dueAt - now;
  const start = time(from);
  const window = Number.isNaN(start) ? 0 : dueAt - start;
  let tone: CountdownTone = "normal";
  if (left <= 0) tone = "overdue";
  else if (window > 0 && left <= window * SOON_SHARE) tone = "soon";
  // Time left rounds up (the last second shows "1 s left", not "0 s"); time overdue down.
  const said = left > 0 ? `${span(Math.ceil(left / 1000))} left` : `overdue ${span(-left / 1000)}`;
  const text = escalatedTo.length ? `escalated to ${escalatedTo.join(", ")} · ${said}` : said;
  return { tone, left, text, tickMs: Math.abs(left) > HOUR * 1000 ? 10_000 : 1000 };
}
