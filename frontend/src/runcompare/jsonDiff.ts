/** The JSON diff of two values: jsondiffpatch, drawn by its HTML formatter (ComparePage). */
import { create } from "jsondiffpatch";
import { format } from "jsondiffpatch/formatters/html";

// Array items are matched by position: moves would draw arrows with a script of the
// formatter's own (which the Content-Security-Policy would refuse to run anyway).
const patcher = create({ arrays: { detectMove: false } });

/** The HTML of the changes from `a` to `b` (jsondiffpatch's formatter escapes every value),
 * or null when they are the same. */
export function diffHtml(a: unknown, b: unknown): string | null {
  const left = a === undefined ? null : a;
  const right = b === undefined ? null : b;
  const delta = patcher.diff(left, right);
  if (delta === undefined) return null;
  return format(delta, left) ?? null;
}
