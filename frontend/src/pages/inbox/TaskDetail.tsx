/**
 * One task, to read and act on: what it is about (description, workflow and run, who asked,
 * who is asked, due time, reminders, approvals so far, hand-overs), then the decision: approve
 * or reject with a comment (a rejection is confirmed), a form's fields, or a hand-over to
 * someone else. On a phone it fills the screen, with the decision at the bottom, in reach of a
 * thumb.
 */
import {
  Alert,
  Anchor,
  Autocomplete,
  Badge,
  Button,
  Collapse,
  Divider,
  Group,
  Modal,
  Paper,
  Progress,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Textarea,
  Title,
} from "@mantine/core";
import { useDebouncedValue, useDisclosure } from "@mantine/hooks";
import {
  IconArrowForwardUp,
  IconArrowLeft,
  IconCheck,
  IconExternalLink,
  IconInfoCircle,
  IconMail,
  IconUserShare,
  IconUsers,
  IconX,
} from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { type ReactNode, useMemo, useState } from "react";
import { Link } from "react-router";

import { api } from "../../api";
import { keys, queryString } from "../../query";
import { StepIcon } from "../../steps/icons";
import { RelativeTime, exactTime } from "../../ui/RelativeTime";
import { useTaskAction } from "./actions";
import { Discussion } from "./Discussion";
import classes from "./Inbox.module.css";
import { type Task, approvalProgress, decidedBy, decider, interval, taskStepType, viaText, whyNotDecide } from "./model";
import { DueTime, ReminderBadge } from "./TaskList";
import { TaskForm } from "./TaskForm";

export type Me = { id: number; username: string; is_staff: boolean; groups: string[] };

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={500}>
        {label}
      </Text>
      <div className={classes.factValue}>{children}</div>
    </div>
  );
}

/** People to hand a task to: staff may search the users; everyone gets the names the task
 * itself mentions. The server checks the name either way. */
function useDelegateSuggestions(task: Task, me: Me | undefined, search: string): string[] {
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const params = { search: debounced, active: true, page_size: 20 };
  const users = useQuery({
    queryKey: keys.users(params),
    queryFn: () => api<{ results: { username: string }[] }>(`/api/users/${queryString(params)}`),
    enabled: Boolean(me?.is_staff),
    retry: false,
    staleTime: 60_000,
  });
  return useMemo(() => {
    const names = new Set<string>([
      ...(users.data?.results ?? []).map((u) => u.username),
      ...task.assignees.users,
      ...(task.decisions ?? []).map((d) => d.user ?? ""),
      ...(task.delegations ?? []).flatMap((d) => [d.from_user ?? "", d.to_user ?? ""]),
    ]);
    names.delete("");
    if (me) names.delete(me.username);
    if (task.requester && task.policy.forbid_requester) names.delete(task.requester);
    return [...names].sort();
  }, [users.data, task, me]);
}

function Delegate({ task, me, onDone }: { task: Task; me: Me | undefined; onDone: () => void }) {
  const [opened, { toggle }] = useDisclosure(false);
  const [to, setTo] = useState("");
  const [note, setNote] = useState("");
  const suggestions = useDelegateSuggestions(task, me, to);
  const action = useTaskAction(task, onDone);
  return (
    <Stack gap="xs">
      <Button
        variant="subtle"
        color="gray"
        size="sm"
        h={40}
        leftSection={<IconUserShare size={18} />}
        onClick={toggle}
        aria-expanded={opened}
        style={{ alignSelf: "flex-start" }}
      >
        Hand over to someone else
      </Button>
      <Collapse expanded={opened}>
        <form
          aria-label="Hand over"
          onSubmit={(event) => {
            event.preventDefault();
            if (to.trim()) action.mutate({ kind: "delegate", to: to.trim(), comment: note });
          }}
        >
          <Stack gap="xs">
            <Autocomplete
              label="Hand over to"
              description="The person becomes an assignee in your place."
              placeholder="Username"
              data={suggestions}
              value={to}
              onChange={setTo}
              size="md"
              comboboxProps={{ withinPortal: true }}
            />
            <TextInput label="Note for them" value={note} onChange={(e) => setNote(e.currentTarget.value)} size="md" />
            <Group justify="flex-end">
              <Button
                type="submit"
                variant="default"
                size="md"
                disabled={!to.trim()}
                loading={action.isPending}
                leftSection={<IconArrowForwardUp size={18} />}
              >
                Hand over
              </Button>
            </Group>
          </Stack>
        </form>
      </Collapse>
    </Stack>
  );
}

function Approve({ task, onDone }: { task: Task; onDone: () => void }) {
  const [comment, setComment] = useState("");
  const [confirming, { open, close }] = useDisclosure(false);
  const action = useTaskAction(task, onDone);
  const busy = action.isPending;
  const progress = approvalProgress(task);
  // The workflow asks a rejection to say why (the server refuses one without).
  const reasonRequired = Boolean(task.policy.require_comment_on_reject);
  const reasonMissing = reasonRequired && !comment.trim();
  return (
    <>
      <Textarea
        label="Comment"
        description={
          progress
            ? `Your approval counts as one of the ${progress.required} needed.`
            : "Saved with your decision and shown in the run."
        }
        placeholder={reasonRequired ? "Why you approve or reject (required to reject)" : "Why you approve or reject (optional)"}
        autosize
        minRows={2}
        maxRows={6}
        size="md"
        value={comment}
        onChange={(e) => setComment(e.currentTarget.value)}
      />
      <div className={classes.decisionButtons}>
        <Button
          color="red"
          variant="light"
          size="md"
          leftSection={<IconX size={18} />}
          onClick={open}
          disabled={busy}
        >
          Reject
        </Button>
        <Button
          // teal.9: white on it reads at 5:1 (the default teal shade gives 2.6:1).
          color="teal.9"
          size="md"
          leftSection={<IconCheck size={18} />}
          loading={busy && action.variables?.kind === "approve"}
          disabled={busy}
          onClick={() => action.mutate({ kind: "approve", comment })}
        >
          Approve
        </Button>
      </div>
      <Modal
        opened={confirming}
        onClose={close}
        title="Reject this task?"
        size="md"
        closeButtonProps={{ "aria-label": "Close" }}
      >
        <Stack gap="sm">
          <Text size="sm">
            <b>{task.title}</b> will be rejected: the run takes its <i>rejected</i> branch, and nobody else can
            decide it.
          </Text>
          <Textarea
            label="Reason"
            description={
              reasonRequired
                ? "Required: this workflow asks every rejection to say why. Shown in the run."
                : "Shown in the run; tell the requester what to change."
            }
            required={reasonRequired}
            autosize
            minRows={2}
            size="md"
            data-autofocus
            value={comment}
            onChange={(e) => setComment(e.currentTarget.value)}
          />
          <Group justify="flex-end" gap="xs">
            <Button variant="default" size="md" onClick={close}>
              Cancel
            </Button>
            <Button
              color="red.9"
              size="md"
              loading={busy}
              disabled={reasonMissing}
              leftSection={<IconX size={18} />}
              onClick={() => action.mutate({ kind: "reject", comment }, { onSettled: close })}
            >
              Reject task
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

function FormTask({ task, onDone }: { task: Task; onDone: () => void }) {
  const action = useTaskAction(task, onDone);
  return (
    <TaskForm
      schema={task.form_schema}
      disabled={!task.can_decide}
      busy={action.isPending}
      onSubmit={(data) => action.mutate({ kind: "submit", data })}
    />
  );
}

export function TaskDetail({
  task,
  me,
  phone,
  onBack,
  onDone,
}: {
  task: Task;
  me: Me | undefined;
  phone: boolean;
  onBack: () => void;
  onDone: () => void;
}) {
  const progress = approvalProgress(task);
  const username = me?.username ?? "";
  const blocked = task.status === "open" ? whyNotDecide(task, username) : null;
  const open = task.status === "open";
  const approvers = (task.decisions ?? []).filter((d) => d.decision === "approve" && decider(d));

  return (
    <Paper
      component="section"
      aria-label={`Task: ${task.title}`}
      className={classes.detail}
      withBorder={!phone}
      data-id={task.id}
    >
      <Stack gap="md" className={classes.detailBody}>
        {phone && (
          <Button
            variant="subtle"
            color="gray"
            leftSection={<IconArrowLeft size={18} />}
            onClick={onBack}
            h={40}
            px="xs"
            style={{ alignSelf: "flex-start" }}
          >
            All tasks
          </Button>
        )}
        <Group gap="sm" wrap="nowrap" align="flex-start">
          <StepIcon type={taskStepType(task)} size={44} radius="md" />
          <Stack gap={4} style={{ minWidth: 0, flex: 1 }}>
            <Title order={2} className={classes.title}>
              {task.title}
            </Title>
            <Group gap={8} wrap="wrap">
              <Badge variant="default" size="sm">
                {task.kind === "form" ? "Form" : "Approval"}
              </Badge>
              <ReminderBadge task={task} />
            </Group>
          </Stack>
        </Group>

        {task.description && (
          <Text size="sm" className={classes.description}>
            {task.description}
          </Text>
        )}

        <SimpleGrid cols={{ base: 2, md: 3 }} spacing="sm" verticalSpacing="sm">
          <Fact label="Workflow">
            <Text size="sm" truncate="end">
              {task.workflow_name}
            </Text>
          </Fact>
          <Fact label="Run">
            <Anchor component={Link} to={`/runs/${task.run}`} size="sm" className={classes.factLink}>
              <Group gap={4} wrap="nowrap" component="span">
                Run {task.run}
                <IconExternalLink size={14} aria-hidden="true" />
              </Group>
            </Anchor>
          </Fact>
          <Fact label="Requested by">
            <Text size="sm">{task.requester ?? "a trigger"}</Text>
          </Fact>
          <Fact label="Asked">
            <Group gap={4} wrap="wrap">
              {task.assignees.groups.map((g) => (
                <Badge
                  key={`g:${g}`}
                  size="md"
                  variant="light"
                  color="grape"
                  tt="none"
                  leftSection={<IconUsers size={12} aria-hidden="true" />}
                  aria-label={`group ${g}`}
                >
                  {g}
                </Badge>
              ))}
              {task.assignees.users.map((u) => (
                <Badge key={`u:${u}`} size="md" variant="light" color="gray" tt="none">
                  {u}
                </Badge>
              ))}
              {(task.assignees.emails ?? []).map((e) => (
                <Badge
                  key={`e:${e}`}
                  size="md"
                  variant="light"
                  color="gray"
                  tt="none"
                  leftSection={<IconMail size={12} aria-hidden="true" />}
                  aria-label={`by email ${e}`}
                >
                  {e}
                </Badge>
              ))}
              {!task.assignees.groups.length && !task.assignees.users.length && !task.assignees.emails?.length && (
                <Text size="sm">—</Text>
              )}
            </Group>
          </Fact>
          <Fact label="Arrived">
            <RelativeTime value={task.created_at} size="sm" />
          </Fact>
          <Fact label="Due">
            {task.due_at ? (
              <Stack gap={2} align="flex-start">
                <DueTime task={task} size="md" />
                {/* The countdown says how long; this says when. */}
                <Text size="xs" c="dimmed">
                  {exactTime(task.due_at)}
                </Text>
              </Stack>
            ) : (
              <Text size="sm">no due time</Text>
            )}
          </Fact>
          {task.policy.reminder_every_s ? (
            <Fact label="Reminders">
              <Text size="sm">every {interval(task.policy.reminder_every_s)}</Text>
            </Fact>
          ) : null}
          {task.policy.escalate_to?.groups?.length ? (
            <Fact label="If late">
              <Text size="sm">goes to {task.policy.escalate_to.groups.join(", ")}</Text>
            </Fact>
          ) : null}
        </SimpleGrid>

        {progress && (
          <Stack gap={6}>
            <Group justify="space-between">
              <Text size="sm" fw={500}>
                Approvals
              </Text>
              <Text size="sm" c="dimmed">
                {progress.done} of {progress.required}
              </Text>
            </Group>
            <Progress
              value={progress.percent}
              color="teal"
              size="md"
              aria-label={`${progress.done} of ${progress.required} approvals`}
            />
            {approvers.length > 0 && (
              <Text size="xs" c="dimmed">
                Approved by {approvers.map((d) => `${decider(d)}${viaText(d)}`).join(", ")}
              </Text>
            )}
          </Stack>
        )}

        {(task.delegations ?? []).length > 0 && (
          <Text size="xs" c="dimmed">
            {(task.delegations ?? [])
              .map((d) => `Handed from ${d.from_user ?? "?"} to ${d.to_user ?? "?"}${d.comment ? `: “${d.comment}”` : ""}`)
              .join(" · ")}
          </Text>
        )}

        {!open && (
          <Alert color="gray" icon={<IconInfoCircle size={18} />} title="No longer open">
            {decidedBy(task)}
          </Alert>
        )}
        {blocked && (
          <Alert color="yellow" icon={<IconInfoCircle size={18} />} title="Not yours to decide">
            {blocked}
          </Alert>
        )}
      </Stack>

      {open && !blocked && (
        <div className={classes.decision} role="group" aria-label="Decision" data-kind={task.kind}>
          {task.kind === "form" ? (
            <FormTask task={task} onDone={onDone} />
          ) : (
            <Stack gap="sm">
              <Approve task={task} onDone={onDone} />
            </Stack>
          )}
        </div>
      )}
      {open && task.can_delegate && (
        <>
          <Divider />
          <div className={classes.delegate}>
            <Delegate task={task} me={me} onDone={onDone} />
          </div>
        </>
      )}
      {/* After the decision: what is asked comes first, the talk about it below. */}
      <Divider />
      <div className={classes.discussion}>
        <Discussion task={task} me={me} />
      </div>
    </Paper>
  );
}
