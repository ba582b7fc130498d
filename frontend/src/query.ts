/**
 * Server state lives in TanStack Query (STYLE 21): one query key per resource, named here so
 * that a live event can patch or invalidate exactly what it changed. Pages read through
 * `useQuery({queryKey: keys.x(...), queryFn: () => api(...)})` or the hooks beside their
 * resource; they never fetch in an effect by hand.
 *
 * Keys start with the resource's name, so `invalidateQueries({queryKey: ["runs"]})` reaches
 * every list of runs whatever its filters, and `["run", id]` one run.
 */
import { QueryClient } from "@tanstack/react-query";

import { ApiError } from "./api";

type Params = Record<string, string | number | boolean | null | undefined>;

export const keys = {
  me: () => ["me"] as const,
  catalog: () => ["step-types"] as const,
  workflows: (params: Params = {}) => ["workflows", params] as const,
  workflow: (id: number) => ["workflow", id] as const,
  versions: (workflowId: number) => ["workflow", workflowId, "versions"] as const,
  version: (workflowId: number, number: number) => ["workflow", workflowId, "versions", number] as const,
  /** Who has the workflow open in the designer (filled by its socket only: editor/presence.ts). */
  presence: (workflowId: number) => ["workflow", workflowId, "presence"] as const,
  schedule: (workflowId: number) => ["workflow", workflowId, "schedule"] as const,
  /** The next fire times of a cron expression in a time zone (the designer's schedule panel). */
  schedulePreview: (cron: string, timezone: string) => ["schedule-preview", cron, timezone] as const,
  /** The server's validation of one state of the graph being edited (a number per graph object). */
  validation: (graph: number) => ["validation", graph] as const,
  webhook: (workflowId: number) => ["workflow", workflowId, "webhook"] as const,
  runs: (params: Params = {}) => ["runs", params] as const,
  run: (id: number) => ["run", id] as const,
  /** Two runs side by side (GET /api/runs/compare/?a=&b=). */
  runCompare: (a: number, b: number) => ["run-compare", a, b] as const,
  runEvents: (id: number) => ["run", id, "events"] as const,
  stepLogs: (runId: number, node: string) => ["run", runId, "logs", node] as const,
  deadLetters: (params: Params = {}) => ["dead-letters", params] as const,
  approvals: (params: Params = {}) => ["approvals", params] as const,
  stats: (params: Params = {}) => ["stats", params] as const,
  alerts: (params: Params = {}) => ["alerts", params] as const,
  alertRules: () => ["alert-rules"] as const,
  /** Circuit breakers (GET /api/breakers/), by filter. */
  breakers: (params: Params = {}) => ["breakers", params] as const,
  credentials: (params: Params = {}) => ["credentials", params] as const,
  credentialKinds: () => ["credential-kinds"] as const,
  credentialGrants: (id: number) => ["credential", id, "grants"] as const,
  users: (params: Params = {}) => ["users", params] as const,
  groups: (params: Params = {}) => ["groups", params] as const,
  group: (id: number) => ["group", id] as const,
  tokens: (params: Params = {}) => ["tokens", params] as const,
  /** The caller's absences (out of office), current and planned. */
  absences: () => ["absences"] as const,
};

/** A query string from the defined, non-empty parameters, in a stable order. */
export function queryString(params: Params): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === null || value === undefined || value === "") continue;
    search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** 4xx answers are final (the same request gets the same answer); network errors and 5xx are
 * tried again, a little later each time. */
export function shouldRetry(failures: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failures < 3;
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: shouldRetry,
        // Live pages are kept fresh by their websockets (events patch or invalidate the cache),
        // so a query is not read again merely because a window got focus or a page remounted.
        staleTime: 30_000,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export const queryClient = makeQueryClient();
