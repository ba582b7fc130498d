import { describe, expect, it } from "vitest";

import {
  DEFAULT_SORT,
  type View,
  copyName,
  errorLines,
  importFormat,
  isFiltered,
  listParams,
  nextSort,
  orderingOf,
  ready,
  triggerLabel,
} from "./list";

const view = (changes: Partial<View> = {}): View => ({
  search: "",
  owner: "anyone",
  archived: false,
  sort: DEFAULT_SORT,
  page: 1,
  ...changes,
});

describe("the list's parameters", () => {
  it("sorts by the column, descending with a minus", () => {
    expect(orderingOf(DEFAULT_SORT)).toBe("-updated_at");
    expect(orderingOf({ columnAccessor: "name", direction: "asc" })).toBe("name");
    expect(orderingOf({ columnAccessor: "last_run", direction: "desc" })).toBe("-last_run");
  });

  it("turns a column around, and starts another in its own direction", () => {
    const byName = nextSort(DEFAULT_SORT, { columnAccessor: "name", direction: "desc" });
    expect(byName).toEqual({ columnAccessor: "name", direction: "asc" });
    expect(nextSort(byName, { columnAccessor: "name", direction: "desc" })).toEqual({
      columnAccessor: "name",
      direction: "desc",
    });
    expect(nextSort(byName, { columnAccessor: "last_run", direction: "desc" })).toEqual({
      columnAccessor: "last_run",
      direction: "desc",
    });
  });

  it("asks for what the view shows and leaves out what it does not filter", () => {
    expect(listParams(view(), "alice")).toEqual({
      search: undefined,
      owner: undefined,
      archived: undefined,
      ordering: "-updated_at",
      page: undefined,
      page_size: 25,
    });
    const mine = listParams(view({ search: "  inv ", owner: "me", archived: true, page: 3 }), "alice");
    expect(mine).toMatchObject({ search: "inv", owner: "alice", archived: "true", page: 3 });
  });

  it("waits for the user's name before asking for their own", () => {
    expect(ready(view({ owner: "me" }), null)).toBe(false);
    expect(ready(view({ owner: "me" }), "alice")).toBe(true);
    expect(ready(view(), null)).toBe(true);
  });

  it("calls a view filtered when a search or the owner hides workflows", () => {
    expect(isFiltered(view())).toBe(false);
    expect(isFiltered(view({ search: " " }))).toBe(false);
    expect(isFiltered(view({ search: "x" }))).toBe(true);
    expect(isFiltered(view({ owner: "me" }))).toBe(true);
  });
});

describe("words", () => {
  it("says how a workflow starts", () => {
    expect(triggerLabel("trigger.schedule")).toBe("Started on a schedule");
    expect(triggerLabel(null)).toBe("No trigger yet");
    expect(triggerLabel("trigger.email")).toBe("Started by trigger.email");
  });

  it("names a copy within the limit", () => {
    expect(copyName("Invoices")).toBe("Copy of Invoices");
    expect(copyName("x".repeat(200))).toHaveLength(200);
  });

  it("puts each import error on a line naming its step, connection and field", () => {
    expect(
      errorLines([
        { node: "fetch", edge: null, field: "config.url", code: "required", message: "required" },
        { node: null, edge: "e3", field: null, code: "unknown_node", message: "no step nowhere" },
        { node: null, edge: null, field: null, code: "invalid_document", message: "not a workflow" },
      ]),
    ).toEqual(["step fetch · config.url: required", "connection e3: no step nowhere", "not a workflow"]);
  });
});

describe("an imported document's format", () => {
  it("comes from the file's extension, else from its first character", () => {
    expect(importFormat("{}", "a.YML")).toBe("yaml");
    expect(importFormat("name: x", "a.json")).toBe("json");
    expect(importFormat('  {"name": "x"}')).toBe("json");
    expect(importFormat("name: x\ngraph: {}")).toBe("yaml");
  });
});
