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
  const selectedId = useEditor((s) =>
    s.mode.kind === "edit" && s.selected.size === 1 ? s.graph.nodes.find((n) => s.selected.has(n.id))?.id : undefined,
  );
  // Deferred: a click draws the step selected on the canvas first, and the step's form (rjsf,
  // the heaviest part of the page) renders just after, without holding that frame
  // (bench/designer_canvas.py, "click to drawn selected"). The panel reads the step's current
  // data from the store by id, so a panel that lags shows the right data of the step it names.
  const shownId = useDeferredValue(selectedId);
  const stillThere = useEditor((s) => (shownId ? s.graph.nodes.some((n) => n.id === shownId) : false));
  let panel = null;
  if (historyOpen && id !== null) panel = <VersionsPanel workflowId={id} />;
  else if (shownId && stillThere) panel = <StepPanel key={shownId} nodeId={shownId} />;
  else if (editing) panel = <WorkflowPanel />;
  if (!panel) return null;
  return (
    <ScrollArea className={classes.side} type="auto" scrollbarSize={8}>
      {panel}
    </ScrollArea>
  );
}
