/** A trigger (manual, schedule, webhook) starts the workflow: no input handle, a rounded start. */
import type { NodeProps } from "@xyflow/react";
import { memo } from "react";

import type { StepNode } from "../../editor/flowNodes";
import { StepNodeBody } from "./StepNode";

export const TriggerNode = memo(function TriggerNode(props: NodeProps<StepNode>) {
  return <StepNodeBody {...props} trigger />;
});
