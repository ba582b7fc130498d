/**
 * The open tasks as a list to work through: each row its kind's icon, title, workflow and run,
 * requester, due time (red when overdue), reminders and N-of-M progress. A row is a link to the
 * task (`/inbox/<id>`), so the browser's back button and a shared link work.
 */
import { Badge, Group, Progress, Stack, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { IconBellRinging, IconClock, IconClockExclamation } from "@tabler/icons-react";
import { memo } from "react";
import { Link } from "react-router";

import { useInbox } from "../../inbox";
import { StepIcon } from "../../steps/icons";
import { RelativeTime } from "../../ui/RelativeTime";
import classes from "./Inbox.module.css";
import { type Task, approvalProgress, dueState, taskStepType } from "./model";

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

const TaskRow = memo(function TaskRow({ task, selected, now }: { task: Task; selected: boolean; now: number }) {
  const progress = approvalProgress(task);
  const assignees = [...task.assignees.groups, ...task.assignees.users].join(", ");
  return (
    <li aria-label={task.title} data-id={task.id} className={classes.item}>
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

export function TaskList({ tasks, selectedId, now }: { tasks: Task[]; selectedId: number | null; now: number }) {
  return (
    <ul aria-label="Open tasks" className={classes.list}>
      {tasks.map((task) => (
        <TaskRow key={task.id} task={task} selected={task.id === selectedId} now={now} />
      ))}
    </ul>
  );
}
