/**
 * Pure helpers for the schedule trigger's preview: what to ask `POST /api/schedules/preview/`
 * for, and how to show its answer. The server reads the cron (the same code that fires it), so
 * the designer shows exactly the times that will fire, daylight-saving changes included.
 */
import { ApiError } from "../../api";

export type PreviewRequest = { cron: string; timezone: string };
export type PreviewResponse = { cron: string; timezone: string; next_fire_times: string[] };

/** Wait this long after the last keystroke before asking the server. */
export const PREVIEW_DEBOUNCE_MS = 400;

/** The preview request for a trigger.schedule config, or null while the cron is empty. */
export function previewRequest(config: Record<string, unknown> | undefined): PreviewRequest | null {
  const cron = typeof config?.cron === "string" ? config.cron.trim() : "";
  if (!cron) return null;
  const zone = typeof config?.timezone === "string" && config.timezone.trim() ? config.timezone.trim() : "UTC";
  return { cron, timezone: zone };
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2})?(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A fire time as the server sends it (ISO 8601 with the schedule zone's offset) in words, at
 * the wall-clock time of the schedule's zone, not the browser's: "Sun 2026-03-29 03:00
 * (UTC+02:00)". Text that is not such a time is returned as it is.
 */
export function formatFireTime(iso: string): string {
  const m = ISO.exec(iso);
  if (!m) return iso;
  const [, year, month, day, hour, minute, offset] = m;
  const weekday = DAYS[new Date(Date.UTC(Number(year), Number(month) - 1, Number(day))).getUTCDay()];
  const zone = offset === "Z" || offset === "+00:00" ? "UTC" : `UTC${offset}`;
  return `${weekday} ${year}-${month}-${day} ${hour}:${minute} (${zone})`;
}

/** What to say when the preview failed: the server's message for the cron or the zone. */
export function previewError(error: unknown): string {
  if (error instanceof ApiError) {
    const item = error.errors.find((e) => e.field === "cron" || e.field === "timezone") ?? error.errors[0];
    if (item) return item.field === "timezone" ? `Time zone: ${item.message}` : item.message;
    return error.message;
  }
  return "The next fire times could not be read (is the server reachable?)";
}
