/**
 * Compensation on a run (issue 20), pure: which step undid which, from the run detail's
 * `compensates` / `compensated_by` (the server's word) or, for a run read before a
 * compensation had a row, from the graph's `compensate` edges; and the colours the graph and
 * the timeline draw compensation in. Colours are the palette's (status.ts), never from here.
 */
import type { GraphDoc } from "../editor/graph";
import { compensations } from "../editor/graph";
import { COMPENSATION_COLOR } from "../status";
import type { RunStep } from "./model";

/** A step's part in compensation: the node it undoes, the node that undoes it (null if none). */
export type CompensationLink = { undoes: string | null; undoneBy: string | null };

/**
 * Every node's compensation links. The steps' own fields win; the graph fills in a
 * compensation that has no row yet (the step it would undo names it, `undoneBy` stays null
 * until the server says so, so "Undone by" is only said of what really ran) and marks every
 * compensation node as one, so the graph draws it orange before it runs.
 */
export function compensationLinks(steps: RunStep[], graph: GraphDoc | null | undefined): Map<string, CompensationLink> {
  const links = new Map<string, CompensationLink>();
  const link = (node: string) => {
    let found = links.get(node);
    if (!found) links.set(node, (found = { undoes: null, undoneBy: null }));
    return found;
  };
  for (const [target, source] of compensations(graph?.edges ?? [])) link(target).undoes = source;
  for (const step of steps) {
    if (step.compensates) {
      link(step.node).undoes = step.compensates;
      link(step.compensates).undoneBy = step.node;
    }
    if (step.compensated_by) {
      link(step.node).undoneBy = step.compensated_by;
      link(step.compensated_by).undoes = step.node;
    }
  }
  return links;
}

/** Whether a node undoes another (by the step's field, or the graph's compensate edge). */
export function isCompensation(links: Map<string, CompensationLink>, node: string): boolean {
  return !!links.get(node)?.undoes;
}

/** The CSS colour compensation is drawn in: `filled` for lines and bars, `light` for tints,
 * `text` for readable text; each follows the colour scheme. */
export function compensationVar(tone: "filled" | "light" | "text" = "filled"): string {
  const suffix = tone === "filled" ? "filled" : tone === "light" ? "light" : "light-color";
  return `var(--mantine-color-${COMPENSATION_COLOR}-${suffix})`;
}

/** The colour of a compensation's bar on the timeline: orange while it runs or when it did its
 * work; a failed attempt stays the failure's colour (an undo that failed needs an operator). */
export function compensationBarColours(status: string, statusColour: (s: string, tone: "filled" | "light") => string): {
  bar: string;
  light: string;
} {
  if (status === "failed") return { bar: statusColour(status, "filled"), light: statusColour(status, "light") };
  return { bar: compensationVar("filled"), light: compensationVar("light") };
}
