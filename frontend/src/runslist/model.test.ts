import { describe, expect, it } from "vitest";

import type { LiveEvent } from "../live";
import {
  NO_FILTERS,
  type RunRow,
  type RunsPage,
  actionable,
  bringsNewRuns,
  bulkSummary,
  duration,
  filtersFromSearch,
  filtersToSearch,
  hasFilters,
  mergeFirstPage,
  patchCached,
  patchRows,
  runsParams,
  sampleInput,
  sortRuns,
} from "./model";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

function row(id: number, status: string, more: Partial<RunRow> = {}): RunRow {
  return {
    id,
    workflow: 1,
    workflow_name: "Payout",
    version: 1,
    status,
    trigger: "manual",
    actor: "alice",
    parent_run: null,
    created_at: at(id),
    started_at: at(id),
    finished_at: null,
    ...more,
  };
}

function runEvent(id: number, run: number, status: string, more: Partial<LiveEvent> = {}): LiveEvent {
  return { id, run, node: "", type: `run.${status}`, old_status: "running", new_status: status, attempt: null, actor: null, created_at: at(id), data: {}, ...more };
}

describe("the filters", () => {
  it("ask the API only for what is set: top-level runs, local days with the last one included", () => {
    expect(runsParams(NO_FILTERS)).toEqual({ page_size: "50", top_level: "true" });
    const some = runsParams({ ...NO_FILTERS, workflow: "3", status: ["failed", "cancelled"], actor: " bob ", since: "2026-11-25", until: "2026-11-26" });
    expect(some).toMatchObject({ workflow: "3", status: "failed,cancelled", actor: "bob", top_level: "true" });
    expect(some.since).toBe(new Date(2026, 10, 25).toISOString());
    expect(some.until).toBe(new Date(2026, 10, 27).toISOString());
    expect(runsParams({ ...NO_FILTERS, parent: "8" })).toEqual({ page_size: "50", parent: "8" });
  });

  it("live in the URL, and junk there is ignored", () => {
    const filters = { ...NO_FILTERS, workflow: "3", status: ["failed"], trigger: "schedule", since: "2026-11-25" };
    expect(filtersFromSearch(filtersToSearch(filters))).toEqual(filters);
    expect(filtersFromSearch(new URLSearchParams("workflow=abc&trigger=magic&since=yesterday&parent=7"))).toEqual({ ...NO_FILTERS, parent: "7" });
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, actor: "  " })).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, status: ["queued"] })).toBe(true);
  });
});

describe("a run's row", () => {
  it("says how long a run took, or has taken so far", () => {
    expect(duration({ created_at: at(0), started_at: at(0), finished_at: at(0.85) })).toBe("850 ms");
    expect(duration({ created_at: at(0), started_at: at(1), finished_at: at(13.3) })).toBe("12.3 s");
    expect(duration({ created_at: at(0), started_at: null, finished_at: at(250) })).toBe("4 min 10 s");
    expect(duration({ created_at: at(0), started_at: at(0), finished_at: null }, Date.parse(at(7500)))).toBe("2 h 5 min");
  });

  it("sorts the loaded runs by any column, newest first among equals", () => {
    const rows = [row(1, "succeeded", { workflow_name: "b" }), row(2, "failed", { workflow_name: "a" }), row(3, "running", { workflow_name: "a" })];
    expect(sortRuns(rows, { columnAccessor: "id", direction: "desc" }).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(sortRuns(rows, { columnAccessor: "workflow_name", direction: "asc" }).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(sortRuns(rows, { columnAccessor: "status", direction: "asc" }).map((r) => r.status)).toEqual(["running", "failed", "succeeded"]);
  });
});

describe("the live feed on cached pages", () => {
  it("changes a known run in place, and leaves the rest alone", () => {
    const rows = [row(2, "running"), row(1, "succeeded")];
    const next = patchRows(rows, [runEvent(10, 2, "failed")]);
    expect(next[0]).toMatchObject({ id: 2, status: "failed", finished_at: at(10) });
    expect(next[1]).toBe(rows[1]);
    expect(patchRows(rows, [runEvent(11, 99, "failed")])).toBe(rows);
  });

  it("drops a run from a list filtered by a status it no longer has", () => {
    const rows = [row(2, "running"), row(1, "running")];
    expect(patchRows(rows, [runEvent(10, 2, "succeeded")], ["running"]).map((r) => r.id)).toEqual([1]);
  });

  it("patches paged lists and single pages, the same object when nothing changed", () => {
    const infinite = { pages: [{ next: null, results: [row(2, "running")] }], pageParams: [null] };
    const patched = patchCached(infinite, [runEvent(10, 2, "cancelled")]) as typeof infinite;
    expect(patched.pages[0].results[0].status).toBe("cancelled");
    expect(patchCached(infinite, [runEvent(10, 7, "cancelled")])).toBe(infinite);
    const single: RunsPage = { next: null, results: [row(2, "running")] };
    expect((patchCached(single, [runEvent(10, 2, "failed")]) as RunsPage).results[0].status).toBe("failed");
  });

  it("reads the first page again only for a run the list should show", () => {
    const known = new Set([1, 2]);
    const created = (run: number, data = {}) => runEvent(20, run, "queued", { type: "run.created", old_status: "", data });
    expect(bringsNewRuns([created(3)], known, NO_FILTERS)).toBe(true);
    expect(bringsNewRuns([created(3, { parent_run: 1 })], known, NO_FILTERS)).toBe(false); // a child run
    expect(bringsNewRuns([created(3, { parent_run: 1 })], known, { ...NO_FILTERS, parent: "1" })).toBe(true);
    expect(bringsNewRuns([runEvent(21, 2, "failed")], known, NO_FILTERS)).toBe(false); // known: patched in place
    expect(bringsNewRuns([runEvent(21, 9, "failed")], known, NO_FILTERS)).toBe(false); // an older run, not shown
    expect(bringsNewRuns([runEvent(21, 9, "failed")], known, { ...NO_FILTERS, status: ["failed"] })).toBe(true);
    expect(bringsNewRuns([created(3)], known, { ...NO_FILTERS, status: ["failed"] })).toBe(false);
  });

  it("merges a fresh first page on top, keeping the older pages as they are", () => {
    const older = { next: null, results: [row(1, "succeeded")] };
    const data = { pages: [{ next: "x", results: [row(3, "running"), row(2, "running")] }, older], pageParams: [null, "x"] };
    const merged = mergeFirstPage(data, { next: "x", results: [row(4, "queued"), row(3, "waiting"), row(2, "running")] })!;
    expect(merged.pages[0].results.map((r) => [r.id, r.status])).toEqual([
      [4, "queued"],
      [3, "waiting"],
      [2, "running"],
    ]);
    expect(merged.pages[1]).toEqual(older);
  });
});

describe("bulk actions and examples", () => {
  it("applies an action to the runs it fits, and says how it went", () => {
    const rows = [row(1, "running"), row(2, "failed"), row(3, "succeeded")];
    expect(actionable(rows, "cancel").map((r) => r.id)).toEqual([1]);
    expect(actionable(rows, "retry").map((r) => r.id)).toEqual([2]);
    expect(bulkSummary("cancel", 2, 2)).toBe("Cancelled 2 of 2 selected runs");
    expect(bulkSummary("retry", 1, 1)).toBe("Retried 1 of 1 selected run");
  });

  it("starts an example with its schema's sample input, else its defaults", () => {
    expect(sampleInput({ examples: [{ order_id: "A-1" }], properties: { order_id: { default: "x" } } })).toEqual({ order_id: "A-1" });
    expect(sampleInput({ properties: { url: { default: "http://127.0.0.1:9000/orders" }, n: { type: "number" } } })).toEqual({
      url: "http://127.0.0.1:9000/orders",
    });
    expect(sampleInput(undefined)).toEqual({});
  });
});
