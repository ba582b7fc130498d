/** A step of a run, inspected: what it is, where it stands, what the operator can do, its
 * error, output, input, logs per attempt and attempts. A side panel on a wide screen, a bottom
 * drawer on a phone (RunView decides). */
import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  CloseButton,
  CopyButton,
  DataList,
  Group,
  Stack,
  Tabs,
  Text,
  TextInput,
  Timeline,
  Title,
  Tooltip,
} from "@mantine/core";
import {
  IconAlertTriangle,
  IconArrowBackUp,
  IconCheck,
  IconCopy,
  IconHourglass,
  IconInbox,
  IconPlayerSkipForward,
  IconPencil,
  IconRefresh,
} from "@tabler/icons-react";
import { useMemo } from "react";
import { Link } from "react-router";

import type { LiveEvent } from "../live";
import { Discussion } from "../pages/inbox/Discussion";
import { COMPENSATION_COLOR, statusLook } from "../status";
import { StepIcon } from "../steps/icons";
import { exactTime, RelativeTime } from "../ui/RelativeTime";
import { Countdown } from "../ui/Countdown";
import { StatusBadge } from "../ui/StatusBadge";
import type { Action } from "./ActionDialog";
import { JsonBlock, jsonText } from "./JsonBlock";
import { type RunStep, elapsed, formatDuration, idempotencyKey } from "./model";
import { StepLogs } from "./StepLogs";
import { useNow } from "./useNow";

type Attempt = { number: number | null; id: number; from: string; to: string | null; outcome: string | null; error: string | null };

/** The step's attempts from the event log: each start, and what ended it. */
export function attemptsOf(node: string, events: LiveEvent[]): Attempt[] {
  const mine = events.filter((e) => e.node === node && e.new_status && e.old_status !== e.new_status);
  return mine
    .filter((e) => e.new_status === "running")
    .map((start) => {
      const end = mine.find((x) => x.id > start.id && x.old_status === "running");
      const error = end?.data && typeof end.data.error === "object" && end.data.error ? (end.data.error as { message?: string }).message ?? null : null;
      return { number: start.attempt, id: start.id, from: start.created_at, to: end?.created_at ?? null, outcome: end?.new_status ?? null, error };
    });
}

/** "Undoes <step>" or "Undone by <step>" beside the compensation's undo arrow, the step a link
 * to it. */
function CompensationLine({ what, other, onSelect }: {
  what: string;
  other: { node: string; label: string };
  onSelect?: (node: string) => void;
}) {
  return (
    <Group gap={6} wrap="nowrap" data-testid="compensation-link">
      {/* Orange marks compensation; the text keeps the theme's colours (contrast). */}
      <IconArrowBackUp size={16} aria-hidden="true" color={`var(--mantine-color-${COMPENSATION_COLOR}-filled)`} />
      <Text size="sm">
        {what}{" "}
        {onSelect ? (
          <Anchor component="button" type="button" size="sm" fw={600} onClick={() => onSelect(other.node)}>
            {other.label}
          </Anchor>
        ) : (
          <Text span size="sm" fw={600}>
            {other.label}
          </Text>
        )}
      </Text>
    </Group>
  );
}

export function Inspector({
  runId,
  step,
  label,
  title,
  category,
  events,
  onAction,
  onClose,
  large = false,
  undoes = null,
  undoneBy = null,
  onSelect,
}: {
  runId: number;
  step: RunStep;
  label: string;
  title: string;
  category?: string;
  events: LiveEvent[];
  onAction: (action: Action) => void;
  onClose: () => void;
  /** Bigger controls for a thumb (a phone). */
  large?: boolean;
  /** Compensation (issue 20): the step this one undoes, and the one that undid it. */
  undoes?: { node: string; label: string } | null;
  undoneBy?: { node: string; label: string } | null;
  /** Inspect another step (the one undone, or its compensation). */
  onSelect?: (node: string) => void;
}) {
  const attempts = useMemo(() => attemptsOf(step.node, events), [step.node, events]);
  const now = useNow(false);
  const size = large ? "md" : "sm";
  const key = step.attempt > 0 ? idempotencyKey(runId, step.node, step.attempt) : "";
  const canSkip = step.status === "failed" || step.status === "waiting" || step.status === "retrying";
  const human = step.type.startsWith("human.");
  // The step's latest task (its discussion is shown read-only; people write in the Inbox).
  const taskId = useMemo(() => {
    const created = events.filter((e) => e.type === "task.created" && e.node === step.node).at(-1);
    return typeof created?.data.task === "number" ? created.data.task : null;
  }, [events, step.node]);

  return (
    <Stack component="section" aria-label={`Step ${step.node} details`} gap="md">
      <Group justify="space-between" wrap="nowrap" align="flex-start" gap="sm">
        <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
          <StepIcon type={step.type} category={category} size={40} radius="md" />
          <div style={{ minWidth: 0 }}>
            <Title order={2} size="h3" lineClamp={2}>
              {label}
            </Title>
            <Text size="xs" c="dimmed" truncate>
              {title} · <Text span ff="monospace" fz="xs">{step.node}</Text>
            </Text>
          </div>
        </Group>
        <CloseButton size="lg" aria-label="Close step details" onClick={onClose} />
      </Group>

      <Group gap="xs">
        <StatusBadge status={step.status} size="lg" />
        {step.attempt > 0 && (
          <Badge variant="default" size="lg" tt="none" fw={500}>
            attempt {step.attempt}
          </Badge>
        )}
      </Group>
      {undoes && <CompensationLine what="Undoes" other={undoes} onSelect={onSelect} />}
      {undoneBy && <CompensationLine what="Undone by" other={undoneBy} onSelect={onSelect} />}

      {(step.status === "failed" || canSkip) && (
        <Group gap="xs" role="group" aria-label="Step actions">
          {step.status === "failed" && (
            <>
              <Button
                size={size}
                leftSection={<IconRefresh size={16} />}
                onClick={() => onAction({ kind: "retry", node: step.node, edit: false, input: step.input, attempt: step.attempt })}
              >
                Retry
              </Button>
              <Button
                size={size}
                variant="light"
                leftSection={<IconPencil size={16} />}
                onClick={() => onAction({ kind: "retry", node: step.node, edit: true, input: step.input, attempt: step.attempt })}
              >
                Retry with edited input
              </Button>
            </>
          )}
          {canSkip && (
            <Button
              size={size}
              variant="default"
              leftSection={<IconPlayerSkipForward size={16} />}
              onClick={() => onAction({ kind: "skip", node: step.node, status: step.status })}
            >
              Skip
            </Button>
          )}
        </Group>
      )}

      {step.error && (
        <section aria-label="Step error">
        <Alert role="note" color="red" variant="light" icon={<IconAlertTriangle size={18} />} title={step.status === "retrying" ? "The last attempt failed; it is tried again" : "The step failed"}>
          <Stack gap={6}>
            <Text size="sm" style={{ wordBreak: "break-word" }}>
              {step.error.message ?? jsonText(step.error)}
              {step.error.code ? (
                <Text span c="dimmed" size="sm">
                  {" "}
                  ({step.error.code})
                </Text>
              ) : null}
            </Text>
            {step.error.traceback && <JsonBlock value={step.error.traceback} label="Traceback" maxHeight={200} />}
          </Stack>
        </Alert>
        </section>
      )}

      {step.status === "waiting" && (
        <Alert color={statusLook("waiting").color} variant="default" icon={human ? <IconInbox size={18} /> : <IconHourglass size={18} />} title={human ? "Waiting for a person" : "Waiting"}>
          <Stack gap={6} align="flex-start">
            {human && step.task?.due_at ? (
              <Group gap={6} wrap="wrap">
                <Countdown due={step.task.due_at} from={step.task.due_from} escalatedTo={step.task.escalated_to} size={large ? "lg" : "md"} />
                <Text size="xs" c="dimmed">
                  due {exactTime(step.task.due_at)}
                </Text>
              </Group>
            ) : (
              step.wake_at && (
                <Text size="sm">
                  {/* A delay wakes; a person's task without a due time wakes for its reminders. */}
                  {human ? "Next reminder" : "Wakes"} <RelativeTime value={step.wake_at} size="sm" /> ({exactTime(step.wake_at)}).
                </Text>
              )
            )}
            {human && (
              <>
                <Text size="sm">The assignees decide in their Inbox; the run goes on when they have.</Text>
                <Button component={Link} to="/inbox" size={size} variant="light" leftSection={<IconInbox size={16} />}>
                  Open the Inbox
                </Button>
              </>
            )}
          </Stack>
        </Alert>
      )}

      {human && taskId !== null && <Discussion task={{ id: taskId }} me={undefined} readOnly />}

      <DataList size="sm" labelWidth={120} gap={6}>
        <DataList.Item>
          <DataList.ItemLabel>Started</DataList.ItemLabel>
          <DataList.ItemValue>
            <RelativeTime value={step.started_at} size="sm" />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Finished</DataList.ItemLabel>
          <DataList.ItemValue>
            <RelativeTime value={step.finished_at} size="sm" />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Took</DataList.ItemLabel>
          <DataList.ItemValue>{step.started_at ? formatDuration(elapsed(step.started_at, step.finished_at, now)) : "—"}</DataList.ItemValue>
        </DataList.Item>
      </DataList>
      {key && (
        <TextInput
          label="Idempotency key"
          value={key}
          readOnly
          size="sm"
          styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
          rightSection={
            <CopyButton value={key}>
              {({ copied, copy }) => (
                <Tooltip label={copied ? "Copied" : "Copy"}>
                  <ActionIcon variant="subtle" color={copied ? "teal" : "gray"} onClick={copy} aria-label="Copy the idempotency key">
                    {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                  </ActionIcon>
                </Tooltip>
              )}
            </CopyButton>
          }
        />
      )}

      <Tabs defaultValue="output" keepMounted={false} styles={{ tab: { minHeight: 40 } }}>
        <Tabs.List>
          <Tabs.Tab value="output">Output</Tabs.Tab>
          <Tabs.Tab value="input">Input</Tabs.Tab>
          <Tabs.Tab value="logs">Logs</Tabs.Tab>
          <Tabs.Tab value="attempts" rightSection={attempts.length > 0 ? <Badge size="xs" variant="light" circle>{attempts.length}</Badge> : undefined}>
            Attempts
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="output" pt="sm">
          <JsonBlock value={step.output} label="Step output" title="Output" empty={step.status === "succeeded" ? "null" : "No output yet."} />
        </Tabs.Panel>
        <Tabs.Panel value="input" pt="sm">
          <JsonBlock value={step.input} label="Step input" title="Input (the rendered configuration)" empty="No input yet: it is rendered when the step runs." />
        </Tabs.Panel>
        <Tabs.Panel value="logs" pt="sm">
          <StepLogs runId={runId} node={step.node} status={step.status} />
        </Tabs.Panel>
        <Tabs.Panel value="attempts" pt="sm">
          {attempts.length === 0 ? (
            <Text size="sm" c="dimmed">
              No attempt yet.
            </Text>
          ) : (
            <Timeline bulletSize={14} lineWidth={2} active={attempts.length}>
              {attempts.map((a) => {
                const status = a.outcome === "retrying" ? "failed" : a.outcome === "waiting" ? "succeeded" : (a.outcome ?? "running");
                return (
                  <Timeline.Item
                    key={a.id}
                    color={statusLook(status).color}
                    title={
                      <Group gap={6}>
                        <Text size="sm" fw={600}>
                          Attempt {a.number ?? "?"}
                        </Text>
                        <StatusBadge status={a.outcome ?? "running"} size="xs" />
                      </Group>
                    }
                  >
                    <Text size="xs" c="dimmed">
                      Started <RelativeTime value={a.from} size="xs" />
                      {a.to ? `, took ${formatDuration(elapsed(a.from, a.to, now))}` : ", still going"}
                    </Text>
                    {a.error && (
                      <Text size="xs" c="var(--mantine-color-red-light-color)" style={{ wordBreak: "break-word" }}>
                        {a.error}
                      </Text>
                    )}
                  </Timeline.Item>
                );
              })}
            </Timeline>
          )}
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
