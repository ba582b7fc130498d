/**
 * Two runs side by side (/runs/compare/:a/:b, issue 18): both runs' header, every step of
 * either run with its status, duration and attempts in each and what differs, a step's input
 * and output diff on expanding it, the runs' own input and output, and the graph diff of their
 * versions when they differ. Read from GET /api/runs/compare/; kept current by /ws/runs/ (an
 * event of either run reads the comparison again).
 */
import "jsondiffpatch/formatters/styles/html.css";
import "./jsondiff.css";

import {
  Anchor,
  Badge,
  Box,
  Button,
  Group,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Skeleton,
  Stack,
  Switch,
  Text,
  Title,
  UnstyledButton,
} from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { IconAlertTriangle, IconArrowLeft, IconArrowsExchange, IconChevronRight } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { DataTable } from "mantine-datatable";
import { useState } from "react";
import { Link, useNavigate } from "react-router";

import { ApiError, api } from "../api";
import { type LiveEvent, useLiveEvents } from "../live";
import { keys } from "../query";
import { JsonBlock } from "../runview/JsonBlock";
import { LiveBadge } from "../runview/LiveBadge";
import { formatDuration } from "../runview/model";
import { Empty } from "../ui/Empty";
import { errorText } from "../ui/notify";
import { PageHeader } from "../ui/PageHeader";
import { RelativeTime } from "../ui/RelativeTime";
import { StatusBadge } from "../ui/StatusBadge";
import { LIST_TABLE } from "../ui/table";
import classes from "./ComparePage.module.css";
import {
  type ComparedRun,
  type ComparedStep,
  type RunCompare,
  type VersionDiff,
  changedParts,
  comparePath,
  differs,
  edgeLabel,
  onlyIn,
  summary,
} from "./model";
import { diffHtml } from "./jsonDiff";

function useCompare(a: number, b: number) {
  return useQuery({
    queryKey: keys.runCompare(a, b),
    queryFn: () => api<RunCompare>(`/api/runs/compare/?a=${a}&b=${b}`),
  });
}

function took(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "—" : formatDuration(ms);
}

/** One run's card in the header: which side it is, a link, its status, version and times. */
function RunCard({ side, run }: { side: "A" | "B"; run: ComparedRun }) {
  return (
    <Paper withBorder p="sm" className={classes.runCard} aria-label={`Run ${side}: run ${run.id}`} component="section">
      <Group justify="space-between" gap="xs" wrap="nowrap">
        <Group gap="xs" wrap="nowrap" className={classes.shrink}>
          <Badge variant="default" radius="sm" aria-hidden="true">
            {side}
          </Badge>
          <Anchor component={Link} to={`/runs/${run.id}`} fw={600}>
            Run {run.id}
          </Anchor>
        </Group>
        <StatusBadge status={run.status} />
      </Group>
      <Text size="sm" mt={6} truncate>
        <Anchor component={Link} to={`/designer/${run.workflow}`} size="sm">
          {run.workflow_name}
        </Anchor>{" "}
        <Text span size="sm" c="dimmed">
          · version {run.version}
        </Text>
      </Text>
      <Text size="xs" c="dimmed" mt={2}>
        {run.trigger}
        {run.actor ? ` by ${run.actor}` : ""} · started <RelativeTime value={run.started_at ?? run.created_at} size="xs" /> · {run.finished_at ? `took ${took(run.duration_ms)}` : "still going"}
      </Text>
    </Paper>
  );
}

/** The changes from `a` to `b` (jsondiffpatch's HTML), or both values side by side. */
export function JsonDiff({ a, b, label }: { a: unknown; b: unknown; label: string }) {
  const [mode, setMode] = useState<"changes" | "both">("changes");
  const [onlyChanges, setOnlyChanges] = useState(false);
  const html = diffHtml(a, b);
  if (html === null) {
    return <JsonBlock value={a} label={label} title={`${label} · same in both runs`} maxHeight={240} />;
  }
  return (
    <Stack gap={6} className={classes.shrink} role="group" aria-label={label}>
      <Group justify="space-between" gap="xs">
        <Text size="xs" fw={600} c="dimmed" tt="uppercase" aria-hidden="true">
          {label}
        </Text>
        <Group gap="sm">
          {mode === "changes" && (
            <Switch size="xs" label="Only changes" checked={onlyChanges} onChange={(e) => setOnlyChanges(e.currentTarget.checked)} />
          )}
          <SegmentedControl
            size="xs"
            aria-label={`How to show the ${label.toLowerCase()}`}
            value={mode}
            onChange={(v) => setMode(v as "changes" | "both")}
            data={[
              { value: "changes", label: "Changes" },
              { value: "both", label: "Side by side" },
            ]}
          />
        </Group>
      </Group>
      {mode === "changes" ? (
        <Box
          role="figure"
          aria-label={`${label} diff`}
          className={`fd-jsondiff ${classes.diff} ${onlyChanges ? "jsondiffpatch-unchanged-hidden" : "jsondiffpatch-unchanged-visible"}`}
          // The formatter escapes every key and value (model.test.ts checks it).
          dangerouslySetInnerHTML={{ __html: html }}
        />
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          <JsonBlock value={a} label={`${label} in run A`} title="Run A" maxHeight={320} empty="none" />
          <JsonBlock value={b} label={`${label} in run B`} title="Run B" maxHeight={320} empty="none" />
        </SimpleGrid>
      )}
    </Stack>
  );
}

/** A step's expanded row: the input and output diffs, and the errors when there are any. */
function StepDetail({ step }: { step: ComparedStep }) {
  const only = onlyIn(step);
  return (
    <Stack gap="md" p="sm" className={classes.detail}>
      {only && (
        <Text size="sm" c="dimmed">
          Only run {only.toUpperCase()} has this step: the other run's version has no step {step.node}.
        </Text>
      )}
      <JsonDiff a={step.a?.input} b={step.b?.input} label="Input" />
      <JsonDiff a={step.a?.output} b={step.b?.output} label="Output" />
      {Boolean(step.a?.error || step.b?.error) && <JsonDiff a={step.a?.error} b={step.b?.error} label="Error" />}
    </Stack>
  );
}

/** Two values of a column, a over b, each marked with its run. */
function Pair({ a, b, mono = false }: { a: string; b: string; mono?: boolean }) {
  return (
    <Stack gap={0}>
      <Text size="sm" ff={mono ? "monospace" : undefined}>
        <span className={classes.side}>A</span> {a}
      </Text>
      <Text size="sm" ff={mono ? "monospace" : undefined}>
        <span className={classes.side}>B</span> {b}
      </Text>
    </Stack>
  );
}

function ChangeMarks({ step }: { step: ComparedStep }) {
  const only = onlyIn(step);
  if (only) {
    return (
      <Badge size="xs" variant="light" color={only === "b" ? "teal" : "red"} tt="none">
        only in {only.toUpperCase()}
      </Badge>
    );
  }
  const parts = changedParts(step);
  if (!parts.length) {
    return (
      <Text size="xs" c="dimmed">
        same
      </Text>
    );
  }
  return (
    <Group gap={4}>
      {parts.map((part) => (
        <Badge key={part} size="xs" variant="light" color="orange" tt="none">
          {part}
        </Badge>
      ))}
    </Group>
  );
}

function StepsCompared({ steps }: { steps: ComparedStep[] }) {
  const phone = useMediaQuery("(max-width: 48em)", undefined, { getInitialValueInEffect: false }) ?? false;
  // The steps that differ start open on a wide screen; on a phone each opens on demand.
  const [expanded, setExpanded] = useState<string[]>(() => (phone ? [] : steps.filter(differs).slice(0, 1).map((s) => s.node)));
  const toggle = (node: string) => setExpanded((open) => (open.includes(node) ? open.filter((n) => n !== node) : [...open, node]));
  return (
    <DataTable<ComparedStep>
      aria-label="Steps compared"
      {...LIST_TABLE}
      idAccessor="node"
      records={steps}
      customRowAttributes={(s) => ({ "data-id": s.node, "data-changed": differs(s) ? "true" : "false" })}
      rowExpansion={{
        allowMultiple: true,
        trigger: "never",
        expanded: { recordIds: expanded, onRecordIdsChange: setExpanded },
        content: ({ record }) => <StepDetail step={record} />,
      }}
      onRowClick={({ record, event }) => {
        if ((event.target as HTMLElement).closest("a, button, input, label")) return;
        toggle(record.node);
      }}
      columns={[
        {
          accessor: "node",
          title: "Step",
          render: (s) => {
            const open = expanded.includes(s.node);
            return (
              <Stack gap={4} className={classes.stepCell}>
                <UnstyledButton
                  onClick={() => toggle(s.node)}
                  aria-expanded={open}
                  aria-label={`${open ? "Hide" : "Show"} the differences of ${s.node}`}
                  mih={32}
                  className={classes.stepButton}
                >
                  <Group gap={6} wrap="nowrap">
                    <IconChevronRight size={16} className={classes.chevron} data-open={open || undefined} aria-hidden="true" />
                    <Text size="sm" fw={500} ff="monospace" truncate>
                      {s.node}
                    </Text>
                  </Group>
                </UnstyledButton>
                <Group gap={6} pl={22}>
                  {phone && (
                    <Text size="xs" c="dimmed">
                      {s.type}
                    </Text>
                  )}
                  <ChangeMarks step={s} />
                </Group>
              </Stack>
            );
          },
        },
        {
          accessor: "type",
          title: "Type",
          visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.md})`,
          render: (s) => (
            <Text size="sm" c="dimmed" truncate>
              {s.type}
            </Text>
          ),
        },
        {
          accessor: "status",
          title: "Status",
          render: (s) => (
            <Stack gap={4} align="flex-start">
              <Group gap={4} wrap="nowrap">
                <span className={classes.side}>A</span>
                {s.a ? <StatusBadge status={s.a.status} size="sm" /> : <Text size="xs" c="dimmed">none</Text>}
              </Group>
              <Group gap={4} wrap="nowrap">
                <span className={classes.side}>B</span>
                {s.b ? <StatusBadge status={s.b.status} size="sm" /> : <Text size="xs" c="dimmed">none</Text>}
              </Group>
            </Stack>
          ),
        },
        {
          accessor: "duration",
          title: "Duration",
          visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
          render: (s) => <Pair a={s.a ? took(s.a.duration_ms) : "—"} b={s.b ? took(s.b.duration_ms) : "—"} mono />,
        },
        {
          accessor: "attempts",
          title: "Attempts",
          visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
          render: (s) => <Pair a={s.a ? String(s.a.attempts) : "—"} b={s.b ? String(s.b.attempts) : "—"} mono />,
        },
      ]}
    />
  );
}

function VersionsCompared({ diff }: { diff: VersionDiff }) {
  const { nodes, edges, other } = diff;
  const nothing = !nodes.added.length && !nodes.removed.length && !nodes.changed.length && !edges.added.length && !edges.removed.length && !other.length;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="versions-title">
      <Title order={2} size="h4" id="versions-title">
        {diff.same_workflow ? `Version ${diff.a} → version ${diff.b}` : `Two workflows: version ${diff.a} of A → version ${diff.b} of B`}
      </Title>
      {nothing ? (
        <Text size="sm" c="dimmed" mt="xs">
          The two versions run the same graph (only positions on the canvas differ).
        </Text>
      ) : (
        <Stack gap={6} mt="xs">
          {nodes.added.map((id) => (
            <Group key={`+${id}`} gap="xs" wrap="nowrap">
              <Badge size="sm" variant="light" color="teal" w={76}>
                added
              </Badge>
              <Text size="sm" ff="monospace" truncate>
                {id}
              </Text>
            </Group>
          ))}
          {nodes.removed.map((id) => (
            <Group key={`-${id}`} gap="xs" wrap="nowrap">
              <Badge size="sm" variant="light" color="red" w={76}>
                removed
              </Badge>
              <Text size="sm" ff="monospace" truncate>
                {id}
              </Text>
            </Group>
          ))}
          {nodes.changed.map(({ id, fields }) => (
            <Group key={`~${id}`} gap="xs" wrap="nowrap" align="flex-start">
              <Badge size="sm" variant="light" color="orange" w={76}>
                changed
              </Badge>
              <Text size="sm" className={classes.shrink}>
                <Text span ff="monospace" size="sm">
                  {id}
                </Text>
                <Text span c="dimmed" size="sm">
                  : {fields.join(", ")}
                </Text>
              </Text>
            </Group>
          ))}
          {edges.added.map((e) => (
            <Text key={`+${edgeLabel(e)}`} size="sm">
              <Text span c="teal" fw={600}>
                + edge
              </Text>{" "}
              <Text span ff="monospace" size="sm">
                {edgeLabel(e)}
              </Text>
            </Text>
          ))}
          {edges.removed.map((e) => (
            <Text key={`-${edgeLabel(e)}`} size="sm">
              <Text span c="var(--mantine-color-red-light-color)" fw={600}>
                − edge
              </Text>{" "}
              <Text span ff="monospace" size="sm">
                {edgeLabel(e)}
              </Text>
            </Text>
          ))}
          {other.length > 0 && (
            <Text size="sm" c="dimmed">
              Also changed: {other.join(", ")}
            </Text>
          )}
        </Stack>
      )}
    </Paper>
  );
}

export function ComparePage({ a, b }: { a: number; b: number }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const query = useCompare(a, b);
  const data = query.data;
  // A change of either run (a status, a step) reads the comparison again.
  const live = useLiveEvents<LiveEvent>("/ws/runs/", null, (events) => {
    if (events.some((e) => e.run === a || e.run === b)) void client.invalidateQueries({ queryKey: keys.runCompare(a, b) });
  });

  if (query.error && !data) {
    const missing = query.error instanceof ApiError && query.error.status === 404;
    return (
      <Empty
        icon={<IconAlertTriangle />}
        color="red"
        title={missing ? `Runs ${a} and ${b} cannot be compared` : "The comparison could not be read"}
        description={missing ? "One of them does not exist, or belongs to a workflow you may not see." : errorText(query.error).message}
        actions={
          <Button component={Link} to="/runs" variant="light">
            See all runs
          </Button>
        }
      />
    );
  }
  if (!data) {
    return (
      <Stack role="status" aria-label="Loading the comparison">
        <Skeleton h={32} w={280} />
        <Skeleton h={90} />
        <Skeleton h={320} />
      </Stack>
    );
  }

  return (
    <Box className={classes.page}>
      <Anchor component={Link} to="/runs" size="sm" className={classes.back}>
        <Group gap={4} component="span">
          <IconArrowLeft size={16} />
          All runs
        </Group>
      </Anchor>
      <PageHeader
        title={`Run ${a} and run ${b}`}
        description={summary(data.steps)}
        actions={
          <>
            <LiveBadge status={live} />
            <Button variant="default" leftSection={<IconArrowsExchange size={16} />} onClick={() => navigate(comparePath(b, a))} mih={40}>
              Swap A and B
            </Button>
          </>
        }
      />
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm" mb="md">
        <RunCard side="A" run={data.a} />
        <RunCard side="B" run={data.b} />
      </SimpleGrid>

      <Stack gap="md">
        <section aria-labelledby="steps-title" className={classes.shrink}>
          <Title order={2} size="h4" id="steps-title" mb="xs">
            Steps
          </Title>
          <StepsCompared steps={data.steps} />
        </section>
        {data.versions && <VersionsCompared diff={data.versions} />}
        <Paper withBorder p="md" component="section" aria-labelledby="run-io-title" className={classes.shrink}>
          <Title order={2} size="h4" id="run-io-title" mb="xs">
            Run input and output
          </Title>
          <Stack gap="md">
            <JsonDiff a={data.a.input} b={data.b.input} label="Run input" />
            <JsonDiff a={data.a.output} b={data.b.output} label="Run output" />
          </Stack>
        </Paper>
      </Stack>
    </Box>
  );
}
