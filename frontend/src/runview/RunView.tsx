/** One run (/runs/:id): its header, graph, steps, timeline, events, input and output, and the
 * inspector of a step, all from TanStack Query and kept current by the run's live socket
 * (cache.ts patches the cached run and events; nothing is read again that events carry). */
import {
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Center,
  Drawer,
  Group,
  Loader,
  Paper,
  SimpleGrid,
  Skeleton,
  Stack,
  Tabs,
  Text,
  Title,
} from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import {
  IconAlertTriangle,
  IconArrowLeft,
  IconBug,
  IconChartBar,
  IconHistory,
  IconList,
  IconPlayerStop,
  IconSitemap,
  IconTransfer,
} from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { Suspense, lazy, useCallback, useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";

import { ApiError } from "../api";
import { type PageCommand, usePageCommands } from "../CommandPalette";
import { useLiveEvents } from "../live";
import { Empty } from "../ui/Empty";
import { errorText } from "../ui/notify";
import { PageHeader } from "../ui/PageHeader";
import { RelativeTime } from "../ui/RelativeTime";
import { PriorityBadge } from "../ui/PriorityBadge";
import { StatusBadge } from "../ui/StatusBadge";
import { type Action, ActionDialog } from "./ActionDialog";
import { applyRunEvents } from "./cache";
import { EventsTable } from "./EventsTable";
import { compensationLinks } from "./compensation";
import { Inspector } from "./Inspector";
import { JsonBlock } from "./JsonBlock";
import { LiveBadge } from "./LiveBadge";
import { ENDED, type Run, elapsed, formatDuration } from "./model";
import { useCatalog, useRun, useRunEvents, useVersionGraph } from "./queries";
import { RunTimeline } from "./RunTimeline";
import classes from "./RunView.module.css";
import { StepsTable } from "./StepsTable";
import { useNow } from "./useNow";

// React Flow and the layout come with the graph, not with the page's first paint.
const RunGraph = lazy(() => import("./RunGraph").then((m) => ({ default: m.RunGraph })));
const Legend = lazy(() => import("./RunGraph").then((m) => ({ default: m.Legend })));

function GraphPlaceholder({ text }: { text: string }) {
  return (
    <Center className={classes.graphPlaceholder}>
      <Group gap="xs">
        <Loader size="xs" />
        <Text size="sm" c="dimmed">
          {text}
        </Text>
      </Group>
    </Center>
  );
}

/** Parent and child runs, the run this one replayed and its replays, linked. */
function RelatedRuns({ run }: { run: Run }) {
  const children = run.children ?? [];
  const replays = run.replays ?? [];
  if (!run.parent_run && children.length === 0 && !run.replay_of && replays.length === 0) return null;
  const shown = children.slice(0, 12);
  return (
    <Group component="nav" aria-label="Related runs" gap="lg" className={classes.related}>
      {run.replay_of ? (
        <Text size="sm">
          Replay of{" "}
          <Anchor component={Link} to={`/runs/${run.replay_of}`}>
            run {run.replay_of}
          </Anchor>
        </Text>
      ) : null}
      {replays.length > 0 && (
        <Text size="sm">
          Replayed as{" "}
          {replays.map((id, i) => (
            <span key={id}>
              {i > 0 && ", "}
              <Anchor component={Link} to={`/runs/${id}`}>
                run {id}
              </Anchor>
            </span>
          ))}
        </Text>
      )}
      {run.parent_run ? (
        <Text size="sm">
          Parent:{" "}
          <Anchor component={Link} to={`/runs/${run.parent_run}`}>
            run {run.parent_run}
          </Anchor>
          {run.parent_node ? ` (step ${run.parent_node}${run.parent_index !== null && run.parent_index !== undefined ? ` #${run.parent_index}` : ""})` : ""}
        </Text>
      ) : null}
      {children.length > 0 && (
        <Text size="sm">
          Child runs:{" "}
          {shown.map((child, i) => (
            <span key={child}>
              {i > 0 && ", "}
              <Anchor component={Link} to={`/runs/${child}`}>
                run {child}
              </Anchor>
            </span>
          ))}
          {children.length > shown.length && (
            <>
              {" "}
              <Anchor component={Link} to={`/runs?parent=${run.id}`}>
                and {children.length - shown.length} more
              </Anchor>
            </>
          )}
        </Text>
      )}
    </Group>
  );
}

export function RunView({ id }: { id: number }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const phone = useMediaQuery("(max-width: 48em)", undefined, { getInitialValueInEffect: false }) ?? false;
  const runQuery = useRun(id);
  const run = runQuery.data;
  const eventsQuery = useRunEvents(id, run !== undefined);
  // A test run carries its graph (a snapshot of a draft); a run of a version reads it.
  const versionGraph = useVersionGraph(run?.workflow, run?.graph ? undefined : (run?.version ?? undefined));
  const graph = run?.graph ? { data: run.graph, error: null } : versionGraph;
  const catalog = useCatalog();
  const [selected, setSelected] = useState<string | null>(null);
  const [action, setAction] = useState<Action | null>(null);
  const [tab, setTab] = useState<string | null>("steps");

  // The socket opens once the first read of the run says which event the page shows.
  const onEvents = useCallback((events: Parameters<typeof applyRunEvents>[2]) => applyRunEvents(client, id, events), [client, id]);
  const live = useLiveEvents(`/ws/runs/${id}/`, run ? (run.last_event_id ?? null) : undefined, onEvents);

  const ended = run ? ENDED.has(run.status) : true;
  const now = useNow(!ended);
  const steps = useMemo(() => run?.steps ?? [], [run]);
  const events = useMemo(() => eventsQuery.data ?? [], [eventsQuery.data]);
  const labels = useMemo(() => new Map((graph.data?.nodes ?? []).map((n) => [n.id, n.label ?? n.id])), [graph.data]);
  const step = steps.find((s) => s.node === selected) ?? null;
  const links = useMemo(() => compensationLinks(steps, graph.data), [steps, graph.data]);
  const linked = (node: string | null | undefined) => (node ? { node, label: labels.get(node) ?? node } : null);

  const commands = useMemo<PageCommand[]>(() => {
    if (!run) return [];
    const list: PageCommand[] = [
      {
        id: "run:workflow",
        label: `Open ${run.workflow_name} in the designer`,
        leftSection: <IconSitemap size={18} />,
        onClick: () => navigate(`/designer/${run.workflow}`),
      },
      {
        id: "run:all-runs",
        label: `Show every run of ${run.workflow_name}`,
        leftSection: <IconList size={18} />,
        onClick: () => navigate(`/runs?workflow=${run.workflow}`),
      },
    ];
    if (!ENDED.has(run.status)) {
      list.push({ id: "run:cancel", label: `Cancel run ${run.id}`, leftSection: <IconPlayerStop size={18} />, onClick: () => setAction({ kind: "cancel" }) });
    }
    return list;
  }, [run, navigate]);
  usePageCommands("run-view", commands);

  if (runQuery.error && !run) {
    const missing = runQuery.error instanceof ApiError && runQuery.error.status === 404;
    return (
      <Empty
        icon={<IconAlertTriangle />}
        color="red"
        title={missing ? `There is no run ${id}` : "The run could not be read"}
        description={missing ? "It may belong to a workflow you may not see." : errorText(runQuery.error).message}
        actions={
          <Button component={Link} to="/runs" variant="light">
            See all runs
          </Button>
        }
      />
    );
  }
  if (!run) {
    return (
      <Stack role="status" aria-label="Loading the run">
        <Skeleton h={32} w={240} />
        <Skeleton h={18} w={420} />
        <Skeleton h={440} />
      </Stack>
    );
  }

  const inspector = step ? (
    <Inspector
      runId={run.id}
      step={step}
      label={labels.get(step.node) ?? step.node}
      title={catalog.data?.[step.type]?.title ?? step.type}
      category={catalog.data?.[step.type]?.category}
      events={events}
      onAction={setAction}
      onClose={() => setSelected(null)}
      large={phone}
      undoes={linked(links.get(step.node)?.undoes)}
      undoneBy={linked(links.get(step.node)?.undoneBy)}
      onSelect={setSelected}
    />
  ) : null;
  const failedNode = run.status === "failed" && typeof run.error?.node === "string" ? run.error.node : null;
  const took = elapsed(run.started_at ?? run.created_at, run.finished_at, now);

  return (
    <Box className={classes.page}>
      <Anchor component={Link} to="/runs" size="sm" className={classes.back}>
        <Group gap={4} component="span">
          <IconArrowLeft size={16} />
          All runs
        </Group>
      </Anchor>
      <PageHeader
        title={`Run ${run.id}`}
        description={
          <>
            <Anchor component={Link} to={`/designer/${run.workflow}`} size="sm" fw={500}>
              {run.workflow_name}
            </Anchor>{" "}
            · {run.test ? "test run of a draft" : `version ${run.version}`} · {run.trigger}
            {run.actor ? ` by ${run.actor}` : ""} · started <RelativeTime value={run.started_at ?? run.created_at} size="sm" />
            {run.finished_at ? (
              <>
                {" "}
                · finished <RelativeTime value={run.finished_at} size="sm" />
              </>
            ) : null}{" "}
            · {ended ? "took" : "running for"} {formatDuration(took)}
          </>
        }
        actions={
          <>
            <Group role="status" aria-label="Run status" gap={0}>
              <StatusBadge status={run.status} size="xl" />
            </Group>
            <PriorityBadge priority={run.priority} size="lg" />
            <LiveBadge status={live} />
            {!ended && (
              <Button color="red" variant="light" leftSection={<IconPlayerStop size={16} />} onClick={() => setAction({ kind: "cancel" })} mih={40}>
                Cancel run
              </Button>
            )}
            {ended && run.status !== "succeeded" && !run.test && (
              <Button
                component={Link}
                to={`/designer/${run.workflow}?debug=${run.id}`}
                variant="default"
                leftSection={<IconBug size={16} />}
                mih={40}
              >
                Debug in editor
              </Button>
            )}
          </>
        }
      />
      <RelatedRuns run={run} />

      {run.error?.message && (
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title={
            run.status === "compensating"
              ? "The run failed: undoing the steps that succeeded"
              : `The run ${run.status === "failed" ? "failed" : "stopped"}`
          } mb="md">
          <Group justify="space-between" gap="sm">
            <Text size="sm" style={{ wordBreak: "break-word", flex: "1 1 16rem" }}>
              {run.error.message}
            </Text>
            {failedNode && steps.some((s) => s.node === failedNode) && (
              <Button size="sm" variant="default" onClick={() => setSelected(failedNode)} mih={40}>
                Show the failed step
              </Button>
            )}
          </Group>
        </Alert>
      )}

      {/* The graph takes the page's width; a step's inspector sits beside the tabs below it
          (as Camunda Operate puts the details under the diagram), so opening it never shrinks
          the graph. */}
      <Paper withBorder p={phone ? "xs" : "sm"} className={classes.graphCard} mb="md">
        <Group justify="space-between" mb="xs" gap="xs">
          <Title order={2} size="h4">
            Graph
          </Title>
          <Suspense fallback={null}>
            <Legend steps={steps} nodes={(graph.data?.nodes ?? []).map((n) => n.id)} />
          </Suspense>
        </Group>
        {graph.error || catalog.error ? (
          <Alert color="red" title="The graph could not be read">
            {errorText(graph.error ?? catalog.error).message}
          </Alert>
        ) : graph.data && catalog.data ? (
          <Suspense fallback={<GraphPlaceholder text="Loading the graph…" />}>
            <RunGraph graph={graph.data} catalog={catalog.data} steps={steps} selected={selected} onSelect={setSelected} vertical={phone} />
          </Suspense>
        ) : (
          <GraphPlaceholder text="Loading the graph…" />
        )}
      </Paper>
      <div className={classes.layout} data-inspecting={(step && !phone) || undefined}>
        <Stack gap="md" className={classes.main}>
          <Tabs value={tab} onChange={setTab} keepMounted={false}>
              <Tabs.List className={classes.tabs}>
                <Tabs.Tab value="steps" leftSection={phone ? undefined : <IconList size={16} />}>
                  Steps
                </Tabs.Tab>
                <Tabs.Tab value="timeline" leftSection={phone ? undefined : <IconChartBar size={16} />}>
                  Timeline
                </Tabs.Tab>
                <Tabs.Tab
                  value="events"
                  leftSection={phone ? undefined : <IconHistory size={16} />}
                  rightSection={
                    phone ? undefined : (
                      <Badge size="xs" variant="light" color="gray">
                        {events.length}
                      </Badge>
                    )
                  }
                >
                  Events
                </Tabs.Tab>
                <Tabs.Tab value="io" leftSection={phone ? undefined : <IconTransfer size={16} />}>
                  Input/output
                </Tabs.Tab>
              </Tabs.List>
            <Tabs.Panel value="steps" pt="md">
              <StepsTable steps={steps} graph={graph.data} catalog={catalog.data} now={now} selected={selected} onSelect={setSelected} compact={step !== null} />
            </Tabs.Panel>
            <Tabs.Panel value="timeline" pt="md">
              <Paper withBorder p="sm">
                <RunTimeline steps={steps} events={events} labels={labels} now={now} selected={selected} onSelect={setSelected} />
              </Paper>
            </Tabs.Panel>
            <Tabs.Panel value="events" pt="md">
              <EventsTable events={events} loading={eventsQuery.isPending} />
            </Tabs.Panel>
            <Tabs.Panel value="io" pt="md">
              <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
                <Paper withBorder p="sm">
                  <JsonBlock value={run.input} label="Run input" title="Input" empty="{}" maxHeight={480} />
                </Paper>
                <Paper withBorder p="sm">
                  <JsonBlock
                    value={run.output}
                    label="Run output"
                    title="Output"
                    empty={ended ? "No output." : "The output is computed when the run succeeds."}
                    maxHeight={480}
                  />
                </Paper>
              </SimpleGrid>
            </Tabs.Panel>
          </Tabs>
        </Stack>

        {!phone && inspector && (
          <Paper withBorder p="md" className={classes.inspector} shadow="xs">
            {inspector}
          </Paper>
        )}
      </div>

      {phone && (
        <Drawer.Root opened={inspector !== null} onClose={() => setSelected(null)} position="bottom" size="88%">
          <Drawer.Overlay />
          <Drawer.Content aria-label={step ? `Step ${step.node}` : "Step"} radius="lg">
            <Drawer.Body pt="md">{inspector}</Drawer.Body>
          </Drawer.Content>
        </Drawer.Root>
      )}

      <ActionDialog runId={run.id} action={action} onClose={() => setAction(null)} />
    </Box>
  );
}
