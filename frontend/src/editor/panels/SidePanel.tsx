/** The panel right of the canvas: the version history when open, else the selected step's, else
 * the workflow's inputs and output. */
import { ScrollArea } from "@mantine/core";

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
  // Its parts are memoised and read the graph deferred (StepPanel, ConfigPanel): a key typed
  // in the label re-renders the label field and the canvas at once, the rest a moment later.
  const shown = node;
  let panel = null;
  if (historyOpen && id !== null) panel = <VersionsPanel workflowId={id} />;
  else if (shown) panel = <StepPanel key={shown.id} node={shown} />;
  else if (editing) panel = <WorkflowPanel />;
  if (!panel) return null;
  return (
    <ScrollArea className={classes.side} type="auto" scrollbarSize={8}>
      {panel}
    </ScrollArea>
  );
}
