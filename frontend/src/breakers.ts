/**
 * Circuit breakers (GET /api/breakers/): the rows the dashboard and the credentials page show,
 * and how a state reads to an operator.
 */
export type BreakerState = "closed" | "open" | "half_open";

export type Breaker = {
  id: number;
  key: string;
  scope: "credential" | "host" | "function";
  target: string;
  state: BreakerState;
  failures: number;
  failures_total: number;
  opens_total: number;
  thresholds: { failures?: number; window_s?: number; open_s?: number };
  opened_at: string | null;
  retry_at: string | null;
  retry_in_s: number | null;
  last_failure_at: string | null;
  last_error: { code?: string; message?: string };
  closed_at: string | null;
  closed_by: string | null;
  may_close: boolean;
};

export const STATE_LABELS: Record<BreakerState, string> = {
  closed: "Closed",
  open: "Open",
  half_open: "Half-open",
};

export const STATE_COLORS: Record<BreakerState, string> = {
  closed: "teal",
  open: "red",
  half_open: "orange",
};

const SCOPE_LABELS: Record<Breaker["scope"], string> = {
  credential: "Credential",
  host: "Host",
  function: "Function",
};

/** "Credential payments", "Host api.example.com:8443", "Function billing.charge". */
export function breakerName(breaker: Pick<Breaker, "scope" | "target">): string {
  return `${SCOPE_LABELS[breaker.scope] ?? breaker.scope} ${breaker.target}`;
}

/** "4 of 5 failures in 60 s": the count against its threshold, when the threshold is known. */
export function failureCount(breaker: Pick<Breaker, "failures" | "thresholds">): string {
  const { failures, window_s } = breaker.thresholds;
  const of = failures ? ` of ${failures}` : "";
  const within = window_s ? ` in ${window_s} s` : "";
  const noun = breaker.failures === 1 && !failures ? "failure" : "failures";
  return `${breaker.failures}${of} ${noun}${within}`;
}

/** What happens next: "probe in 12 s", "probe out (12 s left)", or nothing when closed. */
export function nextStep(breaker: Pick<Breaker, "state" | "retry_in_s">): string {
  if (breaker.state === "closed" || breaker.retry_in_s === null) return "";
  const left = Math.ceil(breaker.retry_in_s);
  if (breaker.state === "half_open") return `a probe is out (${left} s left)`;
  return left > 0 ? `a probe may go in ${left} s` : "a probe may go now";
}
