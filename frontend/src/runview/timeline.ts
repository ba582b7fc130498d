/**
 * The run timeline's pure maths (issue 18, item 7: "a timeline that tells the truth"):
 *
 * - `spansOf`: a step's stretches from the event log: every attempt (how it ended: succeeded,
 *   failed and retried, timed out), every wait (for people, a timer, child runs) and every
 *   backoff before a retry;
 * - `timeSummary`: where the run's time went (working, waiting for people, for timers and
 *   retries…), each instant counted once;
 * - `compressGaps` and `place`: the time axis, on which a long stretch with no work going on
 *   (an approval that waited two days between seconds of work) is a fixed-width break with its
 *   length and what it waited for, instead of a bar that squashes everything else to nothing.
 *
 * Positions are `{pct, px}` pairs, meaning `calc(pct% + px px)`: the breaks are a fixed number
 * of pixels wide and the time drawn to scale shares the rest of the track.
 */
import type { LiveEvent } from "../live";
import { statusLook } from "../status";
import { type RunStep, formatDuration } from "./model";

/** What a wait is waiting for: a person (approval, form), a timer (flow.delay), the backoff
 * before a retry, or child runs (flow.map, flow.subworkflow). */
export type WaitKind = "people" | "timer" | "retry" | "children";

/** One stretch of a step, in milliseconds since the epoch. */
export type Span = {
  /** How an attempt ended (or running), else the step's status while waiting or retrying. */
  status: string;
  attempt: number | null;
  kind: "attempt" | "waiting" | "retrying";
  /** For waits and backoffs: what they wait for; null for an attempt. */
  wait: WaitKind | null;
  from: number;
  to: number;
  /** Still going: `to` is now. */
  open: boolean;
  /** A wait's or backoff's wake-up time, if it has one. */
  wakeAt: string | null;
  /** An attempt that failed by running past its `timeout_s`. */
  timedOut: boolean;
  /** A failed attempt that was tried again. */
  retried: boolean;
  /** Who a human step waits for ("finance", "bob"), when the log says. */
  waitingFor: string | null;
};

const HUMAN_REASONS = new Set(["approval", "form"]);

function waitKindOf(step: RunStep, reason: unknown): WaitKind {
  if (typeof reason === "string") {
    if (HUMAN_REASONS.has(reason)) return "people";
    if (reason === "delay") return "timer";
    if (reason === "children") return "children";
  }
  if (step.type.startsWith("human.")) return "people";
  if (step.type === "flow.map" || step.type === "flow.subworkflow") return "children";
  return "timer";
}

/** "finance", "finance and bob", "finance, bob and 2 more": groups first, then people. */
export function assigneesText(assignees: unknown): string | null {
  if (!assignees || typeof assignees !== "object") return null;
  const { groups, users } = assignees as { groups?: unknown; users?: unknown };
  const names = [...(Array.isArray(groups) ? groups : []), ...(Array.isArray(users) ? users : [])].filter(
    (n): n is string => typeof n === "string" && n !== "",
  );
  if (names.length === 0) return null;
  if (names.length === 1) return names[0];
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} more`;
}

/** A step's stretches from its events (in id order): an attempt from `running` to whatever
 * followed, a wait or backoff until the next change; the last one is open (to `now`) while
 * the step is in it. A step without events (an old run) gets one bar from its own times. */
export function spansOf(step: RunStep, events: LiveEvent[], now: number): Span[] {
  const spans: Span[] = [];
  let open: Span | null = null;
  let assignees: string | null = null;
  const close = (at: number, outcome: string, error: unknown) => {
    if (!open) return;
    open.to = Math.max(at, open.from);
    open.open = false;
    if (open.kind === "attempt") {
      // An attempt that parks (an approval, a delay) did its work; a retried one failed.
      open.status = outcome === "waiting" ? "succeeded" : outcome === "retrying" ? "failed" : outcome;
      open.retried = outcome === "retrying";
      open.timedOut = (error as { code?: unknown } | null)?.code === "timeout";
    }
    spans.push(open);
    open = null;
  };
  for (const e of events) {
    const data = (e.data ?? {}) as Record<string, unknown>;
    if (e.type.startsWith("task.") && data.assignees) {
      // Created, delegated, escalated: who the step waits for from now on.
      assignees = assigneesText(data.assignees) ?? assignees;
      const current = open as Span | null;
      if (current?.wait === "people") current.waitingFor = assignees;
      continue;
    }
    if (!e.new_status || e.old_status === e.new_status) continue;
    const at = Date.parse(e.created_at);
    close(at, e.new_status, data.error);
    const wakeAt = typeof data.wake_at === "string" ? data.wake_at : null;
    const common = { from: at, to: at, open: true, timedOut: false, retried: false };
    if (e.new_status === "running") {
      open = { ...common, status: "running", attempt: e.attempt, kind: "attempt", wait: null, wakeAt: null, waitingFor: null };
    } else if (e.new_status === "waiting") {
      const wait = waitKindOf(step, data.reason);
      open = { ...common, status: "waiting", attempt: e.attempt, kind: "waiting", wait, wakeAt, waitingFor: wait === "people" ? assignees : null };
    } else if (e.new_status === "retrying") {
      open = { ...common, status: "retrying", attempt: e.attempt, kind: "retrying", wait: "retry", wakeAt, waitingFor: null };
    }
  }
  if (open) {
    const still = open as Span;
    spans.push({ ...still, to: Math.max(now, still.from) });
  }
  if (spans.length === 0 && step.started_at) {
    const from = Date.parse(step.started_at);
    const to = step.finished_at ? Date.parse(step.finished_at) : Math.max(now, from);
    spans.push({
      status: step.status,
      attempt: step.attempt || null,
      kind: "attempt",
      wait: null,
      from,
      to,
      open: !step.finished_at,
      wakeAt: step.wake_at ?? null,
      timedOut: step.error?.code === "timeout",
      retried: false,
      waitingFor: null,
    });
  }
  return spans;
}

// --- Where the time went --------------------------------------------------------------------

export type Summary = {
  total: number;
  /** Some attempt was running. */
  working: number;
  /** Nothing ran; a human step waited for someone. */
  people: number;
  /** Nothing ran and no one was asked; a delay or a backoff before a retry was waiting. */
  timers: number;
  /** Only child runs were awaited (their own work is in their runs). */
  children: number;
  /** None of these: queued for a worker, or between steps. */
  idle: number;
};

type Category = "working" | "people" | "timers" | "children";
// An instant counts once, for the first of these that covers it: the parts add up to the total.
const PRIORITY: Category[] = ["working", "people", "timers", "children"];

function categoryOf(span: Pick<Span, "kind" | "wait">): Category {
  if (span.kind === "attempt") return "working";
  if (span.wait === "people") return "people";
  if (span.wait === "children") return "children";
  return "timers";
}

/** Where the time from `start` to `end` went, by sweeping the spans' ends in time order. */
export function timeSummary(spans: Pick<Span, "kind" | "wait" | "from" | "to">[], start: number, end: number): Summary {
  const summary: Summary = { total: Math.max(0, end - start), working: 0, people: 0, timers: 0, children: 0, idle: 0 };
  const edges: { at: number; category: Category; delta: number }[] = [];
  for (const s of spans) {
    const from = Math.max(s.from, start);
    const to = Math.min(s.to, end);
    if (to <= from) continue;
    edges.push({ at: from, category: categoryOf(s), delta: 1 }, { at: to, category: categoryOf(s), delta: -1 });
  }
  edges.sort((a, b) => a.at - b.at);
  const depth: Record<Category, number> = { working: 0, people: 0, timers: 0, children: 0 };
  let at = start;
  let i = 0;
  while (at < end) {
    while (i < edges.length && edges[i].at <= at) {
      depth[edges[i].category] += edges[i].delta;
      i++;
    }
    const next = i < edges.length ? Math.min(edges[i].at, end) : end;
    const category = PRIORITY.find((c) => depth[c] > 0);
    summary[category ?? "idle"] += next - at;
    at = next;
  }
  return summary;
}

// --- The axis -------------------------------------------------------------------------------

/** A stretch drawn as a fixed-width break instead of to scale. */
export type Break = { from: number; to: number };

export type CompressOptions = {
  /** A stretch shorter than this is always drawn to scale. */
  minGapMs?: number;
  /** A stretch is compressed when longer than this many times the time drawn to scale. */
  factor?: number;
};

export const MIN_GAP_MS = 30_000;
export const GAP_FACTOR = 3;

/** The merged stretches during which something ran. */
export function mergeIntervals(intervals: { from: number; to: number }[]): { from: number; to: number }[] {
  const sorted = [...intervals].filter((i) => i.to >= i.from).sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const i of sorted) {
    const last = merged[merged.length - 1];
    if (last && i.from <= last.to) last.to = Math.max(last.to, i.to);
    else merged.push({ from: i.from, to: i.to });
  }
  return merged;
}

/** The stretches from `start` to `end` in which no work ran (`work`: attempts), long enough to
 * compress: at least `minGapMs`, and longer than `factor` times what stays drawn to scale.
 * Shorter candidates go back to scale one by one, shortest first, until every one left is long
 * enough against the rest: a two-day approval between seconds of work is compressed, a pause
 * of a minute in an hour of work is not. */
export function compressGaps(
  work: { from: number; to: number }[],
  start: number,
  end: number,
  { minGapMs = MIN_GAP_MS, factor = GAP_FACTOR }: CompressOptions = {},
): Break[] {
  const holes: Break[] = [];
  let at = start;
  for (const w of mergeIntervals(work)) {
    if (w.from > at) holes.push({ from: at, to: Math.min(w.from, end) });
    at = Math.max(at, w.to);
  }
  if (end > at) holes.push({ from: at, to: end });
  const candidates = holes.filter((h) => h.to - h.from >= minGapMs).sort((a, b) => a.to - a.from - (b.to - b.from));
  let scaled = end - start - candidates.reduce((sum, h) => sum + h.to - h.from, 0);
  while (candidates.length > 0 && candidates[0].to - candidates[0].from <= factor * scaled) {
    const back = candidates.shift()!;
    scaled += back.to - back.from;
  }
  return candidates.sort((a, b) => a.from - b.from);
}

/** A point or length on the track: `calc(pct% + px px)`. */
export type X = { pct: number; px: number };

export type Axis = { start: number; end: number; breaks: Break[]; breakPx: number };

/** Where time `t` is on the axis: time drawn to scale shares the track's width less the breaks;
 * each break is `breakPx` wide, a time inside one proportionally across it. */
export function place(axis: Axis, t: number): X {
  const { start, end, breaks, breakPx } = axis;
  const broken = breaks.reduce((sum, b) => sum + b.to - b.from, 0);
  const scaled = Math.max(end - start - broken, 1);
  let before = 0; // scaled time before t
  let crossed = 0; // breaks before t, a fraction for the one t is in
  let cursor = start;
  const clamped = Math.min(Math.max(t, start), end);
  for (const b of breaks) {
    if (clamped <= b.from) break;
    before += b.from - cursor;
    if (clamped < b.to) {
      crossed += (clamped - b.from) / Math.max(b.to - b.from, 1);
      return xOf(before / scaled, crossed, breaks.length, breakPx);
    }
    crossed += 1;
    cursor = b.to;
  }
  before += clamped - cursor;
  return xOf(before / scaled, crossed, breaks.length, breakPx);
}

function xOf(fraction: number, crossed: number, breaks: number, breakPx: number): X {
  // fraction × (100% − breaks × breakPx) + crossed × breakPx
  return { pct: fraction * 100, px: (crossed - fraction * breaks) * breakPx };
}

/** `calc()` text for an X. */
export function cssX(x: X): string {
  const px = Math.round(x.px * 100) / 100;
  const pct = Math.round(x.pct * 1000) / 1000;
  return px === 0 ? `${pct}%` : `calc(${pct}% ${px < 0 ? "-" : "+"} ${Math.abs(px)}px)`;
}

// --- The chart ------------------------------------------------------------------------------

export type Segment = Span & { left: X; width: X; duration: number | null };

export type TimelineRow = { node: string; status: string; segments: Segment[]; duration: number | null };

export type Gap = Break & { left: X; label: string; what: string };

export type Timeline = { start: number; end: number; rows: TimelineRow[]; gaps: Gap[]; summary: Summary; axis: Axis };

/** The width of a compressed gap on the track. */
export const BREAK_PX = 76;

/** What a compressed gap waited for: people first, then a timer, a retry, child runs. */
function gapWhat(gap: Break, spans: Span[]): string {
  const during = spans.filter((s) => s.kind !== "attempt" && s.from < gap.to && s.to > gap.from);
  const people = during.filter((s) => s.wait === "people");
  if (people.length > 0) {
    const who = [...new Set(people.map((s) => s.waitingFor).filter((w): w is string => !!w))];
    return who.length > 0 ? `waiting for ${who.join(", ")}` : "waiting for people";
  }
  if (during.some((s) => s.wait === "timer")) return "waiting for a timer";
  if (during.some((s) => s.wait === "retry")) return "backoff before a retry";
  if (during.some((s) => s.wait === "children")) return "waiting for child runs";
  return "idle";
}

/** The timeline of a run: a row per step that started with a bar per attempt, wait and
 * backoff; where the time went; long idle stretches compressed. Null before any step started. */
export function timeline(steps: RunStep[], events: LiveEvent[], now: number, options: CompressOptions & { breakPx?: number } = {}): Timeline | null {
  const byNode = new Map<string, LiveEvent[]>();
  for (const e of [...events].sort((a, b) => a.id - b.id)) {
    if (!e.node) continue;
    const list = byNode.get(e.node);
    if (list) list.push(e);
    else byNode.set(e.node, [e]);
  }
  const rows = steps
    .map((step) => ({ step, spans: spansOf(step, byNode.get(step.node) ?? [], now) }))
    .filter((r) => r.spans.length > 0);
  if (rows.length === 0) return null;
  const all = rows.flatMap((r) => r.spans);
  const start = Math.min(...all.map((s) => s.from));
  const end = Math.max(...all.map((s) => s.to));
  const breaks = compressGaps(
    all.filter((s) => s.kind === "attempt"),
    start,
    end,
    options,
  );
  const axis: Axis = { start, end, breaks, breakPx: options.breakPx ?? BREAK_PX };
  const segment = (s: Span): Segment => {
    const left = place(axis, s.from);
    const right = place(axis, s.to);
    return { ...s, left, width: { pct: right.pct - left.pct, px: right.px - left.px }, duration: s.open ? null : s.to - s.from };
  };
  return {
    start,
    end,
    axis,
    summary: timeSummary(all, start, end),
    gaps: breaks.map((b) => {
      const what = gapWhat(b, all);
      return { ...b, left: place(axis, b.from), what, label: `${formatDuration(b.to - b.from)} ${what}` };
    }),
    rows: rows
      .sort((a, b) => a.spans[0].from - b.spans[0].from || a.step.node.localeCompare(b.step.node))
      .map(({ step, spans }) => {
        const last = spans[spans.length - 1];
        return {
          node: step.node,
          status: step.status,
          segments: spans.map(segment),
          duration: last.open ? null : last.to - spans[0].from,
        };
      }),
  };
}

/** What a bar says to a screen reader and in its tooltip: the step, the attempt, how it ended
 * and how long it took. "pay: failed, attempt 1, 20 ms, retried", "pay: timed out, attempt 2,
 * 30.0 s", "pay: retrying, backoff before attempt 2, 5.0 s", "ask: waiting for finance,
 * 2 d 3 h", "wait: waiting until 14:05:00". */
export function segmentLabel(node: string, segment: Segment, time: (iso: string) => string): string {
  const took = segment.open ? `${formatDuration(segment.to - segment.from)} so far` : formatDuration(segment.duration);
  if (segment.kind === "attempt") {
    const look = segment.timedOut ? "timed out" : statusLook(segment.status).label;
    const attempt = segment.attempt ? `, attempt ${segment.attempt}` : "";
    return `${node}: ${look}${attempt}, ${took}${segment.retried ? ", retried" : ""}`;
  }
  if (segment.kind === "retrying") {
    const next = segment.attempt ? ` before attempt ${segment.attempt + 1}` : "";
    if (segment.open && segment.wakeAt) return `${node}: retrying, backoff${next} until ${time(segment.wakeAt)}`;
    return `${node}: retrying, backoff${next}, ${took}`;
  }
  if (segment.wait === "people") {
    return `${node}: waiting for ${segment.waitingFor ?? "people"}${segment.attempt ? `, attempt ${segment.attempt}` : ""}, ${took}`;
  }
  if (segment.open && segment.wakeAt) return `${node}: waiting until ${time(segment.wakeAt)}`;
  const what = segment.wait === "children" ? "waiting for child runs" : "waiting";
  return `${node}: ${what}, ${took}`;
}
