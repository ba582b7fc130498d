/**
 * The open tasks as a list to work through: each row its kind's icon, title, workflow and run,
 * requester, its countdown (amber when little time is left, red when overdue), reminders,
 * out-of-office hand-overs and N-of-M progress. A row is a link to the
 * task (`/inbox/<id>`), so the browser's back button and a shared link work.
 */
import { Badge, Checkbox, Group, Progress, Stack, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { IconBellRinging, IconPlaneDeparture } from "@tabler/icons-react";
import { memo } from "react";
import { Link } from "react-router";

import { useInbox } from "../../inbox";
import { StepIcon } from "../../steps/icons";
import { Countdown } from "../../ui/Countdown";
import classes from "./Inbox.module.css";
import { type Task, absenceNote, approvalProgress, taskStepType } from "./model";

/** The task's countdown (ui/Countdown): amber in the last 20 % of its window, red when
 * overdue, naming the groups it was escalated to. */
export function DueTime({ task, size = "sm" }: { task: Task; size?: "xs" | "sm" | "md" }) {
  if (!task.due_at || task.status !== "open") return null;
  return <Countdown due={task.due_at} from={task.due_from} escalatedTo={task.escalated_to} size={size} />;
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
  me,
  selection,
}: {
  task: Task;
  selected: boolean;
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
              <DueTime task={task} />
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
  me,
  checked,
  selectable,
  onToggle,
  label = "Open tasks",
}: {
  tasks: Task[];
  selectedId: number | null;
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
