/**
 * The designer (/designer/new, /designer/:id): the toolbar, the palette, the canvas and the
 * side panel over the editor's store (editor/store.ts). Where things are:
 * - canvas, its node views and connections: editor/canvas/, steps/nodes/
 * - toolbar, palette: editor/Toolbar.tsx, editor/Palette.tsx
 * - side panels (step config, connections, workflow inputs, versions): editor/panels/
 * - dialogs (run, unsaved changes, stale save): editor/dialogs/
 * - loading and saving: editor/useDocument.ts, editor/useSave.ts; shortcuts: editor/shortcuts.ts
 */
import { Alert, Center } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";
import { ReactFlowProvider } from "@xyflow/react";
import { useEffect, useMemo } from "react";
import { useParams, useSearchParams } from "react-router";

import { type PageCommand, usePageCommands } from "../CommandPalette";
import { Canvas } from "../editor/canvas/Canvas";
import { useDebugParam } from "../editor/debug";
import { RunDialog } from "../editor/dialogs/RunDialog";
import { StaleSaveDialog } from "../editor/dialogs/StaleSaveDialog";
import { UnsavedChangesDialog } from "../editor/dialogs/UnsavedChangesDialog";
import classes from "../editor/Editor.module.css";
import { Palette, useAddStep } from "../editor/Palette";
import { SidePanel } from "../editor/panels/SidePanel";
import { ProblemsSync } from "../editor/problems";
import { useShortcuts } from "../editor/shortcuts";
import { useEditor } from "../editor/store";
import { Toolbar } from "../editor/Toolbar";
import { resetEditor, useDocument } from "../editor/useDocument";
import { usePresence } from "../editor/presence";
import { useSave } from "../editor/useSave";
import { StepIcon } from "../steps/icons";

/** "Add step: <title>" for every step type, in the command palette (Ctrl+K). */
function StepCommands() {
  const catalog = useEditor((s) => s.catalog);
  const add = useAddStep();
  const commands: PageCommand[] = useMemo(
    () =>
      Object.values(catalog).map((info) => ({
        id: `add-step:${info.type}`,
        label: `Add step: ${info.title}`,
        description: info.description,
        keywords: [info.type, info.category, "step", "add"],
        leftSection: <StepIcon type={info.type} category={info.category} size={26} />,
        onClick: () => void add(info.type),
      })),
    [catalog, add],
  );
  usePageCommands("designer", commands);
  return null;
}

function Editor() {
  const routeId = useParams()["*"];
  const workflowId = routeId && /^\d+$/.test(routeId) ? Number(routeId) : null;
  const error = useDocument(workflowId);
  const mode = useEditor((s) => s.mode.kind);
  const name = useEditor((s) => s.meta.name);
  const { save } = useSave();
  useShortcuts(save);
  // Who else has it open, and their saves, once it is saved (editor/presence.ts).
  usePresence(useEditor((s) => s.meta.id));
  // `?debug=<run>` (the run view's "Debug in editor"): editor/debug.tsx.
  useDebugParam(workflowId);
  // Leaving the page leaves nothing behind for the next workflow opened.
  useEffect(() => resetEditor, []);
  // `?run=1` (the workflows list's "Run…") opens the Run dialog once the workflow is in; the
  // parameter then goes, so a reload does not open it again.
  const [params, setParams] = useSearchParams();
  const loadedHere = useEditor((s) => s.loaded && s.meta.id !== null && s.meta.id === workflowId);
  useEffect(() => {
    if (!loadedHere || params.get("run") !== "1") return;
    useEditor.getState().setRunOpen(true);
    setParams((p) => {
      p.delete("run");
      return p;
    }, { replace: true });
  }, [loadedHere, params, setParams]);

  if (error) {
    return (
      <Center p="xl">
        <Alert color="red" icon={<IconAlertTriangle />} title="The workflow could not be opened" role="alert">
          {error.message}
        </Alert>
      </Center>
    );
  }
  return (
    <div className={classes.editor} data-mode={mode} data-editor>
      <h1 className="fd-visually-hidden">Designer: {name || "untitled workflow"}</h1>
      <div className={classes.toolbar}>
        <Toolbar />
      </div>
      <div className={classes.palette}>{mode === "edit" && <Palette />}</div>
      <div className={classes.canvas}>
        <Canvas />
      </div>
      <div className={classes.side}>
        <SidePanel />
      </div>
      <ProblemsSync />
      <StepCommands />
      <RunDialog />
      <StaleSaveDialog />
      <UnsavedChangesDialog />
    </div>
  );
}

export function DesignerPage() {
  return (
    <ReactFlowProvider>
      <Editor />
    </ReactFlowProvider>
  );
}
