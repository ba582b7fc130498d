/**
 * The node views of the canvas, one per step category (STYLE 17), declared once at module scope
 * so React Flow never re-mounts the nodes. Their differences: a trigger has no input and a
 * rounded start; the others share StepNode, which draws a step with several outputs (a
 * condition's true and false, a switch's cases, an approval's decisions) as labelled rows.
 */
import type { NodeTypes } from "@xyflow/react";

import type { NodeKind } from "./kinds";
import { StepNodeView } from "./StepNode";
import { TriggerNode } from "./TriggerNode";

export const NODE_TYPES: Record<NodeKind, NodeTypes[string]> = {
  step: StepNodeView,
  trigger: TriggerNode,
  logic: StepNodeView,
  flow: StepNodeView,
  data: StepNodeView,
  http: StepNodeView,
  human: StepNodeView,
  notify: StepNodeView,
  code: StepNodeView,
};

export { nodeTypeOf } from "./kinds";
