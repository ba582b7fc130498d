/**
 * The runs list's pure parts: filters (kept in the page's URL) and the API query they make,
 * durations, sorting the loaded runs, and what the live feed of run events (`/ws/runs/`) does
 * to the cached pages: a known run changes in place (and leaves a list filtered by a status it
 * no longer has); a new run means reading the first page again, and only that page.
 */
import type { InfiniteData } from "@tanstack/react-query";

import type { LiveEvent } from "../live";

export type RunRow = {
  id: number;
  workflow: number;
  workflow_name: string;
  version: number;
  status: string;
  trigger: string;
  priority?: string;
  actor: string | null;
  parent_run: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};

/** One page of GET /api/runs/ (keyset pages, newest first). */
export type RunsPage = { next: string | null; previous?: string | null; results: RunRow[] };

export const TRIGGERS = ["manual", "api", "cli", "schedule", "webhook", "parent"] as const;
export const ENDED = new Set(["succeeded", "failed", "cancelled"]);
export const API_PAGE = 50;

export type Filters = {
  workflow: string | null;
  status: string[];
  trigger: string | null;
  actor: string;
  /** Local days, "YYYY-MM-DD" (what @mantine/dates gives), both included. */
  since: string | null;
  until: string | null;
  /** Child runs of this run (the run view's "and 90 more"). */
  parent: string | null;
};

export const NO_FILTERS: Filters = { workflow: null, status: [], trigger: null, actor: "", since: null, until: null, parent: null };

export function hasFilters(f: Filters): boolean {
  return Boolean(f.workflow || f.status.length || f.trigger || f.actor.trim() || f.since || f.until || f.parent);
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The filters a URL's query string holds (junk is ignored, not an error). */
export function filtersFromSearch(search: URLSearchParams): Filters {
  const id = (name: string) => {
    const value = search.get(name);
    return value && /^\d+$/.test(value) ? value : null;
  };
  const day = (name: string) => {
    const value = search.get(name);
    return value && DAY.test(value) ? value : null;
  };
  const trigger = search.get("trigger");
  return {
    workflow: id("workflow"),
    status: (search.get("status") ?? "").split(",").filter(Boolean),
    trigger: trigger && (TRIGGERS as readonly string[]).includes(trigger) ? trigger : null,
    actor: search.get("actor") ?? "",
    since: day("since"),
    until: day("until"),
    parent: id("parent"),
  };
}

/** The URL's query string for the filters (the empty ones left out). */
export function filtersToSearch(f: Filters): URLSearchParams {
  const search = new URLSearchParams();
  if (f.workflow) search.set("workflow", f.workflow);
  if (f.status.length) search.set("status", f.status.join(","));
  if (f.trigger) search.set("trigger", f.trigger);
  if (f.actor.trim()) search.set("actor", f.actor.trim());
  if (f.since) search.set("since", f.since);
  if (f.until) search.set("until", f.until);
  if (f.parent) search.set("parent", f.parent);
  return search;
}

function startOfDay(day: string, plusDays = 0): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

/** The API's parameters for the filters: top-level runs unless a parent is asked for; days
 * are the user's local days, `until` included (so the API's `until` is the next midnight). */
export function runsParams(f: Filters): Record<string, string> {
  const params: Record<string, string> = { page_size: String(API_PAGE) };
  if (f.parent) params.parent = f.parent;
  else params.top_level = "true";
  if (f.workflow) params.workflow = f.workflow;
  if (f.status.length) params.status = f.status.join(",");
  if (f.trigger) params.trigger = f.trigger;
  if (f.actor.trim()) params.actor = f.actor.trim();
  if (f.since) params.since = startOfDay(f.since);
  if (f.until) params.until = startOfDay(f.until, 1);
  return params;
}

/** How long a run took, or has taken so far, in milliseconds. */
export function durationMs(run: Pick<RunRow, "started_at" | "finished_at" | "created_at">, now = Date.now()): number {
  const start = Date.parse(run.started_at ?? run.created_at);
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return Math.max(0, end - start);
}

/** "850 ms", "12.3 s", "4 min 10 s", "2 h 5 min". */
export function duration(run: Pick<RunRow, "started_at" | "finished_at" | "created_at">, now = Date.now()): string {
  const ms = durationMs(run, now);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export type SortStatus = { columnAccessor: string; direction: "asc" | "desc" };

const STATUS_ORDER = ["queued", "running", "waiting", "compensating", "failed", "cancelled", "succeeded"];

/** The loaded runs in the table's order (the API gives newest first; other orders sort what
 * is loaded). */
export function sortRuns(rows: RunRow[], sort: SortStatus, now = Date.now()): RunRow[] {
  const key = (r: RunRow): number | string => {
    switch (sort.columnAccessor) {
      case "workflow_name":
        return r.workflow_name.toLowerCase();
      case "status":
        return STATUS_ORDER.indexOf(r.status) + 1 || 99;
      case "created_at":
        return Date.parse(r.started_at ?? r.created_at);
      case "duration":
        return durationMs(r, now);
      default:
        return r.id;
    }
  };
  const sign = sort.direction === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    // Ties keep the newest first.
    return (ka < kb ? -1 : ka > kb ? 1 : 0) * sign || b.id - a.id;
  });
}

// --- Live -----------------------------------------------------------------------------------------

/** The rows after the run events: a known run takes its new status (and times); in a list
 * filtered by status, a run that left those statuses leaves the list. The same array when
 * nothing changed. */
export function patchRows(rows: RunRow[], events: LiveEvent[], statuses: string[] = []): RunRow[] {
  const latest = new Map<number, LiveEvent>();
  for (const e of events) {
    if (!e.new_status || e.node) continue;
    const before = latest.get(e.run);
    if (!before || e.id > before.id) latest.set(e.run, e);
  }
  let changed = false;
  const next: RunRow[] = [];
  for (const row of rows) {
    const e = latest.get(row.id);
    if (!e || e.new_status === row.status) {
      next.push(row);
      continue;
    }
    changed = true;
    if (statuses.length && !statuses.includes(e.new_status)) continue;
    next.push({
      ...row,
      status: e.new_status,
      started_at: row.started_at ?? (e.new_status === "running" ? e.created_at : null),
      finished_at: ENDED.has(e.new_status) ? e.created_at : null,
    });
  }
  return changed ? next : rows;
}

type Cached = InfiniteData<RunsPage, unknown> | RunsPage | undefined;

/** `patchRows` over a cached list, paged (useInfiniteQuery) or one page (useQuery). */
export function patchCached(data: Cached, events: LiveEvent[], statuses: string[] = []): Cached {
  if (!data) return data;
  if ("pages" in data) {
    let changed = false;
    const pages = data.pages.map((page) => {
      const results = patchRows(page.results, events, statuses);
      if (results !== page.results) changed = true;
      return results === page.results ? page : { ...page, results };
    });
    return changed ? { ...data, pages } : data;
  }
  const results = patchRows(data.results, events, statuses);
  return results === data.results ? data : { ...data, results };
}

/** Whether events bring a run the list may have to show and does not: a new run of the kind
 * the list shows (top-level, or a child of the asked parent), or an unknown run that took a
 * status the list is filtered by. */
export function bringsNewRuns(events: LiveEvent[], known: Set<number>, filters: Filters): boolean {
  return events.some((e) => {
    if (known.has(e.run) || e.node || !e.new_status) return false;
    const parent = (e.data ?? {}).parent_run;
    if (e.type === "run.created") {
      const kind = filters.parent ? String(parent) === filters.parent : !parent;
      return kind && (!filters.status.length || filters.status.includes(e.new_status));
    }
    return filters.status.length > 0 && filters.status.includes(e.new_status);
  });
}

/** The cached pages with a fresh first page merged in: runs not shown yet go on top, runs
 * already shown take the fresh rows; older pages are kept as they are. */
export function mergeFirstPage(data: InfiniteData<RunsPage, unknown> | undefined, first: RunsPage): InfiniteData<RunsPage, unknown> | undefined {
  if (!data || data.pages.length === 0) return data;
  const fresh = new Map(first.results.map((r) => [r.id, r]));
  const known = new Set(data.pages.flatMap((p) => p.results.map((r) => r.id)));
  const added = first.results.filter((r) => !known.has(r.id));
  const pages = data.pages.map((page, index) => {
    const results = page.results.map((r) => fresh.get(r.id) ?? r);
    return { ...page, results: index === 0 ? [...added, ...results].sort((a, b) => b.id - a.id) : results };
  });
  return { ...data, pages };
}

/** The selected runs an action applies to: cancel those not ended, retry the failed ones. */
export function actionable(rows: RunRow[], what: "cancel" | "retry"): RunRow[] {
  return rows.filter((r) => (what === "cancel" ? !ENDED.has(r.status) : r.status === "failed"));
}

/** The toast's title for a bulk action: "Cancelled 2 of 2 selected runs". */
export function bulkSummary(what: "cancel" | "retry", done: number, selected: number): string {
  return `${what === "cancel" ? "Cancelled" : "Retried"} ${done} of ${selected} selected run${selected === 1 ? "" : "s"}`;
}

/** A workflow's sample input: its input schema's first example, else its properties'
 * defaults (what the Run form would start from). */
export function sampleInput(schema: unknown): Record<string, unknown> {
  if (!schema || typeof schema !== "object") return {};
  const s = schema as { examples?: unknown[]; properties?: Record<string, { default?: unknown }> };
  const example = s.examples?.[0];
  if (example && typeof example === "object" && !Array.isArray(example)) return example as Record<string, unknown>;
  const input: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(s.properties ?? {})) {
    if (property && typeof property === "object" && "default" in property) input[name] = property.default;
  }
  return input;
}
