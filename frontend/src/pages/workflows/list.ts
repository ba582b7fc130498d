/**
 * The workflows list's pure parts: the rows the API sends, the query parameters a view of
 * the list asks for, the sort of a column as the server's ?ordering=, how a trigger and an
 * import's errors are put into words.
 */
import type { ApiErrorItem } from "../../api";

export type LastRun = { id: number; status: string; created_at: string };

export type WorkflowRow = {
  id: number;
  name: string;
  description: string;
  owner: string;
  archived: boolean;
  latest_version: number;
  /** The newest version's trigger type ("trigger.manual"), or null. */
  trigger: string | null;
  role: "viewer" | "runner" | "editor" | "owner" | null;
  last_run: LastRun | null;
  created_at: string;
  updated_at: string;
};

export type WorkflowPage = { count: number; results: WorkflowRow[] };

/** The columns the server sorts by (designer/views.py ORDER_BY). */
export const SORTABLE = ["name", "owner", "latest_version", "last_run", "updated_at"] as const;
export type SortColumn = (typeof SORTABLE)[number];
export type Sort = { columnAccessor: SortColumn; direction: "asc" | "desc" };

export const DEFAULT_SORT: Sort = { columnAccessor: "updated_at", direction: "desc" };
export const PAGE_SIZE = 25;

/** The direction a column sorts in when first chosen: words A to Z, numbers and times newest
 * or highest first. */
const FIRST_DIRECTION: Record<SortColumn, Sort["direction"]> = {
  name: "asc",
  owner: "asc",
  latest_version: "desc",
  last_run: "desc",
  updated_at: "desc",
};

/** The sort after a click on a column's header: the same column turns around; another starts
 * in its own first direction (the table would keep the previous column's). */
export function nextSort(previous: Sort, clicked: { columnAccessor: string; direction: Sort["direction"] }): Sort {
  const column = clicked.columnAccessor as SortColumn;
  if (column === previous.columnAccessor) return { columnAccessor: column, direction: clicked.direction };
  return { columnAccessor: column, direction: FIRST_DIRECTION[column] ?? "asc" };
}

/** The server's ?ordering= for a column's sort. */
export function orderingOf(sort: Sort): string {
  return `${sort.direction === "desc" ? "-" : ""}${sort.columnAccessor}`;
}

export type View = {
  search: string;
  /** Only the user's own ("me"), or anyone's they may see. */
  owner: "anyone" | "me";
  archived: boolean;
  sort: Sort;
  page: number;
};

/** The query parameters of a view of the list; ``me`` is the user's name (null while it is
 * not known: "me" then asks for nothing, see ``ready``). */
export function listParams(view: View, me: string | null): Record<string, string | number | undefined> {
  return {
    search: view.search.trim() || undefined,
    owner: view.owner === "me" ? (me ?? undefined) : undefined,
    archived: view.archived ? "true" : undefined,
    ordering: orderingOf(view.sort),
    page: view.page > 1 ? view.page : undefined,
    page_size: PAGE_SIZE,
  };
}

/** Whether the list can be asked for: "me" needs the user's name first. */
export function ready(view: View, me: string | null): boolean {
  return view.owner !== "me" || me !== null;
}

/** Whether the view hides some workflows (an empty list then means "none matches", not
 * "none yet"). */
export function isFiltered(view: View): boolean {
  return view.search.trim() !== "" || view.owner !== "anyone";
}

const TRIGGERS: Record<string, string> = {
  "trigger.manual": "Started by hand",
  "trigger.schedule": "Started on a schedule",
  "trigger.webhook": "Started by a webhook",
};

/** How a workflow starts, in words, from its trigger type. */
export function triggerLabel(trigger: string | null): string {
  if (!trigger) return "No trigger yet";
  return TRIGGERS[trigger] ?? `Started by ${trigger}`;
}

export const NAME_LIMIT = 200; // WorkflowCreateSerializer.name

/** The name of a duplicate, within the server's limit. */
export function copyName(name: string): string {
  return `Copy of ${name}`.slice(0, NAME_LIMIT);
}

export type ImportFormat = "json" | "yaml";

/** The format of a workflow document: from the file's name when it has a known extension,
 * else from its first character (JSON starts with "{" or "["). */
export function importFormat(text: string, fileName?: string): ImportFormat {
  if (fileName && /\.ya?ml$/i.test(fileName)) return "yaml";
  if (fileName && /\.json$/i.test(fileName)) return "json";
  return /^\s*[[{]/.test(text) ? "json" : "yaml";
}

/** An import's errors, one line each, saying where: "step fetch · config.url: required". */
export function errorLines(errors: ApiErrorItem[]): string[] {
  return errors.map((e) => {
    const where = [e.node && `step ${e.node}`, e.edge && `connection ${e.edge}`, e.field].filter(Boolean).join(" · ");
    return where ? `${where}: ${e.message}` : e.message;
  });
}
