/**
 * The open tasks as a list to work through: each row its kind's icon, title, workflow and run,
 * requester, due time (red when overdue), reminders and N-of-M progress. A row is a link to the
 * task (`/inbox/<id>`), so the browser's back button and a shared link work.
 */
import { Badge, Checkbox, Group, Progress, Stack, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { IconBellRinging, IconClock, IconClockExclamation, IconPlaneDeparture } from "@tabler/icons-react";
import { memo } from "react";
import { Link } from "react-router";

import { useInbox } from "../../inbox";
import { StepIcon } from "../../steps/icons";
import { RelativeTime } from "../../ui/RelativeTime";
import classes from "./Inbox.module.css";
import { type Task, absenceNote, approvalProgress, dueState, taskStepType } from "./model";

export function DueTime({ task, now, size = "xs" }: { task: Task; now: number; size?: "xs" | "sm" }) {
  const state = dueState(task.due_at, now);
  if (state === "none") return null;
  return (
    <Group gap={4} wrap="nowrap" className={state === "overdue" ? classes.overdue : undefined} data-due={state}>
      {state === "overdue" && <IconClockExclamation size={14} aria-hidden="true" />}
      {state === "soon" && <IconClock size={14} aria-hidden="true" className={classes.soon} />}
      <Text span size={size} fw={state === "overdue" ? 600 : 400} c={state === "overdue" ? "inherit" : "dimmed"}>
        {state === "overdue" ? "overdue, due " : "due "}
        <RelativeTime value={task.due_at} size={size} c="inherit" fw="inherit" />
      </Text>
    </Group>
  );
}

export function ReminderBadge({ task }: { task: Task }) {
  const reminder = useInbox((s) => s.reminded[task.id]);
  if (reminder === undefined) return null;
  return (
    <Tooltip label={`You were reminded of this task (reminder ${reminder})`}>
      <Badge
        size="sm"
        color="orange"
        variant="light"
        leftSection={<IconBellRinging size={12} />}
        aria-label={`Reminder ${reminder}`}
      >
        reminder {reminder}
      </Badge>
    </Tooltip>
  );
}

/** "for alice, out of office" (the deputy) or "delegated to dave (you are out of office)". */
export function AbsenceBadge({ task, me }: { task: Task; me: string | undefined }) {
  const note = absenceNote(task, me);
  if (!note) return null;
  return (
    <Badge size="sm" color="indigo" variant="light" tt="none" leftSection={<IconPlaneDeparture size={12} />}>
      {note}
    </Badge>
  );
}

type Selection = {
  /** Whether the row may be picked for a bulk decision (an approval the user may decide). */
  selectable: boolean;
  checked: boolean;
  onToggle: (id: number) => void;
};

const TaskRow = memo(function TaskRow({
  task,
  selected,
  now,
  me,
  selection,
}: {
  task: Task;
  selected: boolean;
  now: number;
  me?: string;
  selection?: Selection;
}) {
  const progress = approvalProgress(task);
  const assignees = [...task.assignees.groups, ...task.assignees.users].join(", ");
  return (
    <li aria-label={task.title} data-id={task.id} className={classes.item} data-checked={selection?.checked || undefined}>
      {selection &&
        (selection.selectable ? (
          // Beside the link, not in it: a control inside a link is not reachable as itself.
          <Checkbox
            className={classes.pick}
            size="md"
            aria-label={`Select ${task.title}`}
            checked={selection.checked}
            onChange={() => selection.onToggle(task.id)}
          />
        ) : (
          // A form (or a task not the user's to decide) is decided on its own: no checkbox,
          // the same indent.
          <div className={classes.pick} />
        ))}
      <UnstyledButton
        component={Link}
        to={`/inbox/${task.id}`}
        className={classes.row}
        data-selected={selected || undefined}
        aria-current={selected ? "true" : undefined}
      >
        <Group gap="sm" wrap="nowrap" align="flex-start">
          <StepIcon type={taskStepType(task)} size={36} radius="md" />
          <Stack gap={4} style={{ minWidth: 0, flex: 1 }}>
            <Text fw={600} size="sm" lineClamp={2}>
              {task.title}
            </Text>
            <Text size="xs" c="dimmed" lineClamp={2}>
              {task.workflow_name} · run {task.run}
              {task.requester ? ` · started by ${task.requester}` : ""}
              {assignees ? ` · for ${assignees}` : ""}
            </Text>
            <Group gap={8} wrap="wrap">
              <DueTime task={task} now={now} />
              <ReminderBadge task={task} />
              <AbsenceBadge task={task} me={me} />
              {progress && (
                <Group gap={6} wrap="nowrap">
                  <Progress
                    value={progress.percent}
                    w={48}
                    size="sm"
                    color="teal"
                    aria-label={`${progress.done} of ${progress.required} approvals`}
                  />
                  <Text size="xs" c="dimmed">
                    {progress.done} of {progress.required}
                  </Text>
                </Group>
              )}
            </Group>
          </Stack>
        </Group>
      </UnstyledButton>
    </li>
  );
});

export function TaskList({
  tasks,
  selectedId,
  now,
  me,
  checked,
  selectable,
  onToggle,
  label = "Open tasks",
}: {
  tasks: Task[];
  selectedId: number | null;
  now: number;
  me?: string;
  /** With these three, rows get a checkbox for bulk decisions. */
  checked?: Set<number>;
  selectable?: Set<number>;
  onToggle?: (id: number) => void;
  label?: string;
}) {
  return (
    <ul aria-label={label} className={classes.list}>
      {tasks.map((task) => (
        <TaskRow
          key={task.id}
          task={task}
          selected={task.id === selectedId}
          now={now}
          me={me}
          selection={
            checked && selectable && onToggle
              ? { checked: checked.has(task.id), selectable: selectable.has(task.id), onToggle }
              : undefined
          }
        />
      ))}
    </ul>
  );
}
