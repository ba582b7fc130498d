/**
 * The open tasks as a list to work through: each row its kind's icon, title, workflow and run,
 * requester, its countdown (amber when little time is left, red when overdue), reminders and
 * N-of-M progress. A row is a link to the
 * task (`/inbox/<id>`), so the browser's back button and a shared link work.
 */
import { Badge, Group, Progress, Stack, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { IconBellRinging } from "@tabler/icons-react";
import { memo } from "react";
import { Link } from "react-router";

import { useInbox } from "../../inbox";
import { StepIcon } from "../../steps/icons";
import { Countdown } from "../../ui/Countdown";
import classes from "./Inbox.module.css";
import { type Task, approvalProgress, taskStepType } from "./model";

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

const TaskRow = memo(function TaskRow({ task, selected }: { task: Task; selected: boolean }) {
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
              <DueTime task={task} />
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

export function TaskList({ tasks, selectedId }: { tasks: Task[]; selectedId: number | null }) {
  return (
    <ul aria-label="Open tasks" className={classes.list}>
      {tasks.map((task) => (
        <TaskRow key={task.id} task={task} selected={task.id === selectedId} />
      ))}
    </ul>
  );
}
