/**
 * The editor's toolbar: the workflow's name and save state, the edit actions (undo, redo,
 * delete, auto-layout, validate, find, history), Run and Save. Every button has an accessible
 * name and a tooltip with its shortcut.
 */
import {
  ActionIcon,
  Badge,
  Button,
  Divider,
  Group,
  Indicator,
  Menu,
  Text,
  TextInput,
  Textarea,
  Tooltip,
} from "@mantine/core";
import {
  IconArrowBackUp,
  IconArrowForwardUp,
  IconChecklist,
  IconChevronDown,
  IconCopy,
  IconDeviceFloppy,
  IconHistory,
  IconLayoutDistributeVertical,
  IconPlayerPlay,
  IconPlus,
  IconSearch,
  IconTrash,
} from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useReactFlow } from "@xyflow/react";
import { type ReactNode, useMemo, useState } from "react";

import { FIT_VIEW } from "../steps/geometry";
import { toastError } from "./toast";
import { autoLayout } from "./layout";
import { useAddStep } from "./Palette";
import { PresenceAvatars } from "./PresenceAvatars";
import { findStep } from "./slices/find";
import { StepTypePicker } from "./StepTypePicker";
import { isDirty, isEditing, useEditor } from "./store";
import classes from "./Toolbar.module.css";
import { useReveal } from "./useReveal";
import { useSave } from "./useSave";

function Tool({ label, tip, children, ...rest }: { label: string; tip?: string; children: ReactNode } & Record<string, unknown>) {
  return (
    <Tooltip label={tip ?? label}>
      <ActionIcon variant="subtle" color="gray" size={36} aria-label={label} {...rest}>
        {children}
      </ActionIcon>
    </Tooltip>
  );
}

/** "Version 3", "Unsaved changes" or "New": what is saved of what is on screen. */
function SaveState() {
  const dirty = useEditor(isDirty);
  const meta = useEditor((s) => s.meta);
  const text = dirty ? "Unsaved changes" : meta.id ? `Version ${meta.version}` : "New";
  return (
    <Badge
      aria-label="Save state"
      variant="dot"
      color={dirty ? "yellow" : meta.id ? "teal" : "gray"}
      size="lg"
      radius="sm"
      tt="none"
      fw={500}
      className={classes.state}
    >
      {text}
    </Badge>
  );
}

function FindBox() {
  const find = useEditor((s) => s.find);
  const reveal = useReveal();
  const [missing, setMissing] = useState(false);
  const go = () => {
    const match = findStep(useEditor.getState().graph, find);
    setMissing(!match && !!find.trim());
    if (match) reveal(match.id);
  };
  return (
    <TextInput
      type="search"
      aria-label="Find step"
      placeholder="Find step"
      size="sm"
      w={170}
      leftSection={<IconSearch size={15} />}
      value={find}
      error={missing ? `No step matches "${find.trim()}"` : undefined}
      aria-invalid={missing}
      onChange={(e) => {
        setMissing(false);
        useEditor.getState().setFind(e.currentTarget.value);
      }}
      onKeyDown={(e) => {
        if (e.key === "Enter") go();
      }}
      classNames={{ error: classes.findError }}
    />
  );
}

function SaveButton() {
  const { save, saving } = useSave();
  const editing = useEditor(isEditing);
  const dirty = useEditor(isDirty);
  const saved = useEditor((s) => s.meta.id !== null);
  const note = useEditor((s) => s.note);
  return (
    <Group gap={0} wrap="nowrap">
      <Indicator disabled={!dirty} color="yellow" size={9} offset={3} processing={false}>
        <Button
          onClick={() => save()}
          disabled={!editing}
          loading={saving}
          leftSection={<IconDeviceFloppy size={17} />}
          className={classes.saveMain}
          aria-keyshortcuts="Control+S"
        >
          Save
        </Button>
      </Indicator>
      <Menu position="bottom-end" width={300} withinPortal>
        <Menu.Target>
          <Button px={8} disabled={!editing} className={classes.saveMore} aria-label="Save options">
            <IconChevronDown size={16} />
          </Button>
        </Menu.Target>
        <Menu.Dropdown p="sm">
          <Textarea
            label="Note for this version"
            description="Saved with the next version, shown in the history"
            placeholder="What changed, and why (optional)"
            autosize
            minRows={2}
            value={note}
            onChange={(e) => useEditor.getState().setNote(e.currentTarget.value)}
          />
          <Menu.Divider my="sm" />
          <Menu.Item leftSection={<IconDeviceFloppy size={16} />} onClick={() => save()}>
            Save{note.trim() ? " with this note" : ""}
          </Menu.Item>
          <Menu.Item leftSection={<IconCopy size={16} />} onClick={() => save(true)} disabled={!saved}>
            Save as a new workflow
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
    </Group>
  );
}

/** On a phone the palette is not beside the canvas: its steps are a menu here. */
function AddStepMenu() {
  const catalog = useEditor((s) => s.catalog);
  const types = useMemo(() => Object.values(catalog), [catalog]);
  const add = useAddStep();
  return (
    <StepTypePicker types={types} label="Search steps to add" onPick={(type) => void add(type)}>
      <Button variant="light" leftSection={<IconPlus size={16} />} hiddenFrom="sm">
        Add step
      </Button>
    </StepTypePicker>
  );
}

export function Toolbar() {
  const editing = useEditor(isEditing);
  const dirty = useEditor(isDirty);
  const name = useEditor((s) => s.meta.name);
  const id = useEditor((s) => s.meta.id);
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const hasSelection = useEditor((s) => s.selected.size > 0);
  const steps = useEditor((s) => s.graph.nodes.length);
  const connections = useEditor((s) => s.graph.edges.length);
  const historyOpen = useEditor((s) => s.historyOpen);
  const queryClient = useQueryClient();
  const flow = useReactFlow();
  const { undo, redo, deleteSelected, setHistoryOpen, setRunOpen } = useEditor.getState();

  const layout = async () => {
    const { graph, catalog, moveNodes } = useEditor.getState();
    try {
      moveNodes(await autoLayout(graph, catalog, 20));
      requestAnimationFrame(() => void flow.fitView({ ...FIT_VIEW, duration: 200 }));
    } catch (e) {
      toastError(e, "Auto-layout failed");
    }
  };

  return (
    <Group role="toolbar" aria-label="Edit" className={classes.toolbar} gap="xs" wrap="nowrap" justify="space-between">
      <Group gap="xs" wrap="nowrap" className={classes.left}>
        <TextInput
          aria-label="Workflow name"
          placeholder="Untitled workflow"
          value={name}
          readOnly={!editing}
          onChange={(e) => useEditor.getState().setName(e.currentTarget.value)}
          variant="filled"
          size="sm"
          className={classes.name}
          styles={{ input: { fontWeight: 600 } }}
        />
        <SaveState />
        <PresenceAvatars />
        <Text size="xs" c="dimmed" aria-label="Graph size" className={classes.size}>
          {steps} steps, {connections} connections
        </Text>
      </Group>
      <Group gap={2} wrap="nowrap" className={classes.tools}>
        <Tool label="Undo" tip="Undo (Ctrl+Z)" onClick={undo} disabled={!editing || !canUndo}>
          <IconArrowBackUp size={19} />
        </Tool>
        <Tool label="Redo" tip="Redo (Ctrl+Shift+Z)" onClick={redo} disabled={!editing || !canRedo}>
          <IconArrowForwardUp size={19} />
        </Tool>
        <Tool label="Delete" tip="Delete the selection (Delete)" onClick={deleteSelected} disabled={!editing || !hasSelection}>
          <IconTrash size={19} />
        </Tool>
        <Divider orientation="vertical" mx={4} />
        <Tool label="Auto-layout" tip="Lay the steps out left to right" onClick={() => void layout()} disabled={!editing || !steps}>
          <IconLayoutDistributeVertical size={19} />
        </Tool>
        <Tool
          label="Validate"
          tip="Ask the server to check the workflow now"
          onClick={() => void queryClient.invalidateQueries({ queryKey: ["validation"] })}
          disabled={!editing}
        >
          <IconChecklist size={19} />
        </Tool>
        <Tool
          label="History"
          tip={id === null ? "Save first: the history lists saved versions" : "Version history"}
          onClick={() => setHistoryOpen(!historyOpen)}
          disabled={id === null}
          aria-pressed={historyOpen}
          variant={historyOpen ? "light" : "subtle"}
        >
          <IconHistory size={19} />
        </Tool>
        <Divider orientation="vertical" mx={4} />
        <FindBox />
      </Group>
      <Group gap="xs" wrap="nowrap">
        {editing && <AddStepMenu />}
        <Tooltip label={id === null || dirty ? "Save first: a run uses a saved version" : "Start a run"}>
          <Button
            variant="default"
            leftSection={<IconPlayerPlay size={17} />}
            onClick={() => setRunOpen(true)}
            disabled={id === null || dirty}
          >
            Run
          </Button>
        </Tooltip>
        <SaveButton />
      </Group>
    </Group>
  );
}
