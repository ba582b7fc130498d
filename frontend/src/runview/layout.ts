/**
 * Positions for a run's graph when its version has none, or when the graph is drawn top to
 * bottom on a narrow screen (a phone): elkjs's layered layout, loaded on first use only.
 */
import type { Catalog, GraphDoc, Position } from "../editor/graph";
import { elkGraph } from "../editor/layout";

/** The run graph's card (ui/StepCard.module.css): 240 px wide (RunGraph.module.css), about 60 tall. */
export const CARD = { width: 240, height: 60 };

export async function runLayout(graph: GraphDoc, catalog: Catalog, vertical: boolean): Promise<Record<string, Position>> {
  const { default: ELK } = await import("elkjs/lib/elk.bundled.js");
  const base = elkGraph(graph, catalog);
  const laid = await new ELK().layout({
    ...base,
    layoutOptions: {
      ...base.layoutOptions,
      "elk.direction": vertical ? "DOWN" : "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": vertical ? "48" : "80",
      "elk.spacing.nodeNode": vertical ? "24" : "40",
    },
    children: (base.children ?? []).map((child) => ({ ...child, ...CARD })),
  });
  return Object.fromEntries((laid.children ?? []).map((n) => [n.id, { x: Math.round(n.x ?? 0), y: Math.round(n.y ?? 0) }]));
}
