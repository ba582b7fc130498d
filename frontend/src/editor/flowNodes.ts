/**
 * The React Flow nodes for a graph, rebuilt per edit without rebuilding what did not change.
 * React Flow takes a node object it has not seen as a new node: it forgets its measured size
 * and handles and mounts it to measure it again, visible or not. With 1,000 steps, one click
 * rebuilding every object cost ~240 ms (bench/designer_canvas.py). So an object is reused
 * while its inputs are the same, and a rebuilt one carries the size React Flow measured.
 */
import type { Node } from "@xyflow/react";

import { nodeTypeOf } from "../steps/nodes/kinds";
import type { NodeChangeKind } from "./diff";
import { Position as Side } from "@xyflow/react";

import { STEP_WIDTH, handleBoxes, stepHeight } from "../steps/geometry";
import { type Catalog, ERROR_HANDLE, type NodeDoc, type Position, handlesOf } from "./graph";

export type StepData = {
  label: string;
  type: string;
  title: string;
  /** The step type's catalog category (its icon). */
  category: string;
  handles: string[];
  problems: number;
  /** Its output is pinned: tests of the steps below take it without running this one. */
  pinned?: boolean;
  /** How the step differs in a version comparison. */
  change?: NodeChangeKind;
  /** The label of the step this one undoes (it is the target of that step's compensate edge). */
  undoes?: string;
};
/** A step as React Flow draws it; its type is its category's node view (steps/nodes). */
export type StepNode = Node<StepData>;

type Inputs = {
  doc: NodeDoc;
  selected: boolean;
  problems: number;
  pinned: boolean;
  change: NodeChangeKind | undefined;
  catalog: Catalog;
  position: Position | undefined;
  undoes: string | undefined;
};

type Size = { width: number; height: number };

const SIDES = { left: Side.Left, right: Side.Right, bottom: Side.Bottom } as const;

function same(a: Inputs, b: Inputs): boolean {
  return (
    a.doc === b.doc &&
    a.selected === b.selected &&
    a.problems === b.problems &&
    a.pinned === b.pinned &&
    a.change === b.change &&
    a.catalog === b.catalog &&
    a.position === b.position &&
    a.undoes === b.undoes
  );
}

export class FlowNodes {
  private built = new Map<string, { inputs: Inputs; node: StepNode }>();
  private sizes = new Map<string, Size>();

  /** Remember a size React Flow measured (its `dimensions` node change). */
  measured(id: string, size: Size): void {
    this.sizes.set(id, size);
  }

  build(
    docs: NodeDoc[],
    catalog: Catalog,
    view: {
      selected: (id: string) => boolean;
      problems: (id: string) => number;
      pinned?: (id: string) => boolean;
      change: (id: string) => NodeChangeKind | undefined;
      /** Where a step being dragged is now (not yet an edit). */
      dragged: (id: string) => Position | undefined;
      /** The label of the step this one undoes, if it is a compensation. */
      undoes?: (id: string) => string | undefined;
    },
  ): StepNode[] {
    const next = new Map<string, { inputs: Inputs; node: StepNode }>();
    const nodes = docs.map((doc) => {
      const inputs: Inputs = {
        doc,
        selected: view.selected(doc.id),
        problems: view.problems(doc.id),
        pinned: view.pinned?.(doc.id) ?? false,
        change: view.change(doc.id),
        catalog,
        position: view.dragged(doc.id),
        undoes: view.undoes?.(doc.id),
      };
      const before = this.built.get(doc.id);
      if (before && same(before.inputs, inputs)) {
        next.set(doc.id, before);
        return before.node;
      }
      const size = this.sizes.get(doc.id);
      const handles = handlesOf(doc, catalog);
      const outputs = handles.filter((h) => h !== ERROR_HANDLE);
      const category = catalog[doc.type]?.category ?? "";
      const node: StepNode = {
        id: doc.id,
        type: nodeTypeOf(category),
        position: inputs.position ?? doc.position ?? { x: 0, y: 0 },
        selected: inputs.selected,
        // The size the node view draws, until React Flow measures it: steps outside the view
        // (onlyRenderVisibleElements) are never measured, and the minimap and fitView need it.
        initialWidth: STEP_WIDTH,
        initialHeight: stepHeight(outputs.length),
        // Where its handles are, so React Flow need not draw a step outside the view to
        // measure it (onlyRenderVisibleElements draws every unmeasured node once otherwise).
        handles: handleBoxes(outputs, handles.includes(ERROR_HANDLE), category === "trigger").map((h) => ({
          id: h.id,
          type: h.type,
          position: SIDES[h.side],
          x: h.x,
          y: h.y,
          width: h.width,
          height: h.height,
        })),
        ...(size ? { measured: size } : {}),
        data: {
          label: doc.label ?? doc.id,
          type: doc.type,
          title: catalog[doc.type]?.title ?? doc.type,
          category: catalog[doc.type]?.category ?? "",
          handles,
          problems: inputs.problems,
          pinned: inputs.pinned,
          change: inputs.change,
          ...(inputs.undoes !== undefined ? { undoes: inputs.undoes } : {}),
        },
      };
      next.set(doc.id, { inputs, node });
      return node;
    });
    this.built = next;
    for (const id of this.sizes.keys()) if (!next.has(id)) this.sizes.delete(id);
    return nodes;
  }
}
