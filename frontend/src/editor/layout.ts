/**
 * Auto-layout: elkjs's layered algorithm places the steps left to right as a DAG (STYLE: a
 * library for what is not our core). elkjs is large, so it is loaded on first use only.
 */
import type { ElkNode } from "elkjs/lib/elk-api";

import { STEP_WIDTH, stepHeight } from "../steps/geometry";
import { type Catalog, ERROR_HANDLE, type GraphDoc, type Position, handlesOf } from "./graph";

/** A step's box on the canvas, as the node view draws it (steps/geometry.ts): taller with
 * several outputs; `error` leaves from the bottom edge. */
export function stepSize(handles: string[]): { width: number; height: number } {
  return { width: STEP_WIDTH, height: stepHeight(handles.filter((h) => h !== ERROR_HANDLE).length) };
}

export function elkGraph(graph: GraphDoc, catalog: Catalog): ElkNode {
  return {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": "70",
      "elk.spacing.nodeNode": "40",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    },
    children: graph.nodes.map((node) => ({ id: node.id, ...stepSize(handlesOf(node, catalog)) })),
    edges: graph.edges
      .filter((e) => e.source !== e.target)
      .map((edge) => ({ id: edge.id, sources: [edge.source], targets: [edge.target] })),
  };
}

/** New positions for every step, snapped to the canvas grid. */
export async function autoLayout(graph: GraphDoc, catalog: Catalog, grid = 20): Promise<Record<string, Position>> {
  const { default: ELK } = await import("elkjs/lib/elk.bundled.js");
  const laid = await new ELK().layout(elkGraph(graph, catalog));
  const snap = (v: number) => Math.round(v / grid) * grid;
  return Object.fromEntries((laid.children ?? []).map((n) => [n.id, { x: snap(n.x ?? 0), y: snap(n.y ?? 0) }]));
}
