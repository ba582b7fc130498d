/**
 * Run priorities (the API's `priority`): a run's steps are taken from the queue before lower
 * ones waiting there, with a share that keeps low runs moving (engine/priority.py).
 */
export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
export type Priority = (typeof PRIORITIES)[number];

export const PRIORITY_COLORS: Record<Priority, string> = {
  low: "gray",
  normal: "blue",
  high: "orange",
  urgent: "red",
};

export function isPriority(value: unknown): value is Priority {
  return typeof value === "string" && (PRIORITIES as readonly string[]).includes(value);
}

/** A graph's priority, normal when it names none (or names something unknown). */
export function priorityOf(graph: { priority?: unknown }): Priority {
  return isPriority(graph.priority) ? graph.priority : "normal";
}

/** What the graph stores for a chosen priority: nothing for normal, the default. */
export function storedPriority(priority: Priority): Priority | undefined {
  return priority === "normal" ? undefined : priority;
}

/** The label a badge shows, or null where nothing is worth showing (a normal run). */
export function priorityLabel(priority: string | null | undefined): string | null {
  if (!isPriority(priority) || priority === "normal") return null;
  return `${priority} priority`;
}
