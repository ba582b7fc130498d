/**
 * The one status palette (issue 17): runs, steps and human tasks take their colour from here
 * wherever they are drawn (badges, tables, the run graph, the timeline, charts). Colours are
 * Mantine colour names, so each has a light and a dark rendering from the theme; `statusVar`
 * gives the CSS variable for places that are not Mantine components (SVG, React Flow, charts).
 */
import type { MantineColor } from "@mantine/core";

export type StatusLook = {
  /** A Mantine colour name (theme.colors key). */
  color: MantineColor;
  /** The word shown to people. */
  label: string;
  /** Work is going on (drawn with motion: a pulse on the graph, a dot on badges). */
  active: boolean;
};

const LOOKS: Record<string, StatusLook> = {
  // Runs and steps (CONTRACT §4).
  pending: { color: "gray", label: "pending", active: false },
  queued: { color: "indigo", label: "queued", active: false },
  running: { color: "blue", label: "running", active: true },
  waiting: { color: "yellow", label: "waiting", active: true },
  retrying: { color: "orange", label: "retrying", active: true },
  succeeded: { color: "teal", label: "succeeded", active: false },
  failed: { color: "red", label: "failed", active: false },
  skipped: { color: "gray", label: "skipped", active: false },
  cancelled: { color: "dark", label: "cancelled", active: false },
  // A failed run undoing its succeeded steps (issue 20): in motion, in the compensation colour.
  compensating: { color: "orange", label: "compensating", active: true },
  // Human tasks.
  open: { color: "yellow", label: "open", active: true },
  approved: { color: "teal", label: "approved", active: false },
  rejected: { color: "red", label: "rejected", active: false },
  submitted: { color: "teal", label: "submitted", active: false },
  timed_out: { color: "red", label: "timed out", active: false },
};

export const RUN_STATUSES = ["queued", "running", "waiting", "compensating", "succeeded", "failed", "cancelled"] as const;
/** Run states with work still going on (the runs list's "in progress"). */
export const ACTIVE_RUN_STATUSES = ["queued", "running", "waiting", "compensating"] as const;

/** The colour of compensation (the `compensate` handle and edges, steps that undo another),
 * a Mantine colour name like the statuses'. */
export const COMPENSATION_COLOR: MantineColor = "orange";
export const STEP_STATUSES = [
  "pending",
  "queued",
  "running",
  "waiting",
  "retrying",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
] as const;

/** How a status looks; one the page does not know (a newer server) looks like pending. */
export function statusLook(status: string | null | undefined): StatusLook {
  if (status && Object.hasOwn(LOOKS, status)) return LOOKS[status];
  return { ...LOOKS.pending, label: status ?? "not started" };
}

/** A CSS colour for a status outside Mantine components: `filled` (solid, for bars and
 * borders), `light` (a tinted background) or `text` (readable on the light background); each
 * follows the colour scheme. */
export function statusVar(status: string | null | undefined, tone: "filled" | "light" | "text" = "filled"): string {
  const { color } = statusLook(status);
  const suffix = tone === "filled" ? "filled" : tone === "light" ? "light" : "light-color";
  return `var(--mantine-color-${color}-${suffix})`;
}
