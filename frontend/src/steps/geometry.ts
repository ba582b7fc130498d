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
