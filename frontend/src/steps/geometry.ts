/**
 * The size of a step on the designer's canvas, in flow units (px at zoom 1). The node views
 * draw exactly this (StepNode.module.css reads the same numbers through CSS variables), and the
 * canvas uses it to place a dropped step under the pointer, to lay steps out and to keep labels
 * readable when it fits the view.
 */
import { STEP_LABEL_PX } from "../ui/StepCard";

export const STEP_WIDTH = 200;
/** The card's first line (icon, label, type): the input handle and a single output sit at its middle. */
export const STEP_HEADER = 56;
/** One labelled output below the header, for steps with several (a condition's true and false). */
export const STEP_ROW = 22;

/** The smallest label on screen a person can still read (issue 17: labels stay >= 10 px). */
export const MIN_LABEL_PX = 10;

/** The smallest zoom at which a step's label is still MIN_LABEL_PX tall on screen. */
export function readableZoom(labelPx: number = STEP_LABEL_PX): number {
  return MIN_LABEL_PX / labelPx;
}

/** Fit the view no smaller than labels can be read, and no larger than zoom 1. */
export const FIT_VIEW = { padding: 0.15, minZoom: readableZoom(), maxZoom: 1 } as const;

/** How many outputs get a labelled row of their own (those other than `error`, when more than one). */
export function outputRows(outputs: number): number {
  return outputs > 1 ? outputs : 0;
}

/** The card's height for its outputs (without `error`, which leaves from the bottom edge). */
export function stepHeight(outputs: number): number {
  const rows = outputRows(outputs);
  return rows ? STEP_HEADER + rows * STEP_ROW + 6 : STEP_HEADER;
}

/**
 * Where a step dropped at flow point `p` goes: the pointer is at the middle of the step's
 * header (its icon and label line), horizontally centred. The node's position is its top-left.
 */
export function dropPosition(p: { x: number; y: number }): { x: number; y: number } {
  return { x: Math.round(p.x - STEP_WIDTH / 2), y: Math.round(p.y - STEP_HEADER / 2) };
}

/** The side of a handle on the card: the input left, outputs right, `error` at the bottom. */
export type HandleSide = "left" | "right" | "bottom";

/** A handle's box relative to the step's top-left, as the node view draws it (12 px dots). */
export type HandleBox = { id: string | null; type: "source" | "target"; side: HandleSide; x: number; y: number; width: number; height: number };

const DOT = 12;
/** The `compensate` handle: a rounded square (not a dot) holding an undo arrow. */
export const COMPENSATE_BOX = 16;
/** Its centre's distance from the card's left edge, on the bottom edge (left of `error`). */
export const COMPENSATE_X = 36;

/**
 * Where the node view draws each handle: React Flow gets these with the node, so a step it has
 * not drawn yet (outside the view) needs no drawing to be measured, and edges to it still
 * end at its handles.
 */
export function handleBoxes(outputs: string[], hasError: boolean, trigger: boolean): HandleBox[] {
  const box = (id: string | null, type: "source" | "target", side: HandleSide, cx: number, cy: number): HandleBox => ({
    id,
    type,
    side,
    x: cx - DOT / 2,
    y: cy - DOT / 2,
    width: DOT,
    height: DOT,
  });
  const list: HandleBox[] = [];
  if (!trigger) list.push(box(null, "target", "left", 0, STEP_HEADER / 2));
  if (outputs.length === 1) list.push(box(outputs[0], "source", "right", STEP_WIDTH, STEP_HEADER / 2));
  else outputs.forEach((h, i) => list.push(box(h, "source", "right", STEP_WIDTH, STEP_HEADER + i * STEP_ROW + STEP_ROW / 2)));
  if (hasError) list.push(box("error", "source", "bottom", STEP_WIDTH / 2, stepHeight(outputs.length)));
  // Every step has one (issue 20): an edge from it names the step that undoes this one.
  const bottom = stepHeight(outputs.length);
  list.push({
    id: "compensate",
    type: "source",
    side: "bottom",
    x: COMPENSATE_X - COMPENSATE_BOX / 2,
    y: bottom - COMPENSATE_BOX / 2,
    width: COMPENSATE_BOX,
    height: COMPENSATE_BOX,
  });
  return list;
}
