/** The panel right of the canvas: the version history when open, else the selected step's, else
 * the workflow's inputs and output. */
import { ScrollArea } from "@mantine/core";
import { useDeferredValue } from "react";

import { useEditor } from "../store";
import { StepPanel } from "./StepPanel";
import { VersionsPanel } from "./VersionsPanel";
import { WorkflowPanel } from "./WorkflowPanel";
import classes from "./SidePanel.module.css";

export function SidePanel() {
  const historyOpen = useEditor((s) => s.historyOpen);
  const id = useEditor((s) => s.meta.id);
  const editing = useEditor((s) => s.mode.kind === "edit");
  const node = useEditor((s) =>
    s.mode.kind === "edit" && s.selected.size === 1 ? s.graph.nodes.find((n) => s.selected.has(n.id)) : undefined,
  );
  // The panel follows the selection and the edits a moment later, in a render React may
  // interrupt: the canvas draws a click or a key first (bench/designer_canvas.py measures it).
  const shown = useDeferredValue(node);
  let panel = null;
  if (historyOpen && id !== null) panel = <VersionsPanel workflowId={id} />;
  else if (shown) panel = <StepPanel node={shown} />;
  else if (editing) panel = <WorkflowPanel />;
  if (!panel) return null;
  return (
    <ScrollArea className={classes.side} type="auto" scrollbarSize={8}>
      {panel}
    </ScrollArea>
  );
}
