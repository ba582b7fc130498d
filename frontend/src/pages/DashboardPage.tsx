/**
 * The dashboard: for a time window and optionally one workflow, the figures of GET /api/stats/
 * as key figures with sparklines, charts of the runs by outcome (@mantine/charts, coloured from
 * the status palette), the failing workflows and the slowest and busiest steps; then open
 * alerts, tripped circuit breakers, dead letters and the alert rules. Live: the run status changes of /ws/runs/ mark the
 * figures stale, at most once a second whatever the rate of events. A fresh install gets a
 * guide instead of a page of dashes.
 */
import "@mantine/charts/styles.css";

import { Alert, Anchor, Badge, Box, Button, Center, Group, Loader, SegmentedControl, Select, Tooltip } from "@mantine/core";
import {
  IconActivity,
  IconAlertTriangle,
  IconChartBar,
  IconCircleCheck,
  IconClockHour4,
  IconInbox,
  IconPlayerPlay,
  IconRepeat,
  IconSitemap,
  IconStack2,
  IconStopwatch,
} from "@tabler/icons-react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router";

import { usePageCommands } from "../CommandPalette";
import { api } from "../api";
import { useLiveEvents } from "../live";
import { keys, queryString } from "../query";
import { Empty } from "../ui/Empty";
import { PageHeader } from "../ui/PageHeader";
import { notifyError, notifySuccess } from "../ui/notify";
import { AlertRules } from "./AlertRules";
import { AlertsPanel } from "./AlertsPanel";
import { BreakersPanel } from "./breakers/BreakersPanel";
import { OutcomeDonut, RunsChart } from "./dashboard/Charts";
import classes from "./dashboard/Dashboard.module.css";
import { KpiCard } from "./dashboard/KpiCard";
import { type Stats, WINDOWS, finished, isEmpty, percent, seconds, sparkline, successRate } from "./dashboard/kpi";
import { HumanWork } from "./dashboard/HumanWork";
import { BusiestSteps, FailingWorkflows, SlowestSteps } from "./dashboard/StepTables";

export type { Stats } from "./dashboard/kpi";
export { WINDOWS, percent, seconds, tick } from "./dashboard/kpi";

type WorkflowName = { id: number; name: string };

/** The example a fresh install runs to see the dashboard fill: parallel calls, one of them
 * retried (designer/examples/parallel_fanout.json). */
const EXAMPLE = "Parallel fan-out with a join";

/** Run `fn` at most once per `ms`, after the first call of a burst (trailing). */
function useThrottled(fn: () => void, ms: number): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    timer.current ??= setTimeout(() => {
      timer.current = null;
      latest.current();
    }, ms);
  }, [ms]);
}

function LiveBadge({ status }: { status: string }) {
  const live = status === "live";
  return (
    <Tooltip label={live ? "The figures follow the runs as they change" : "Reconnecting to the live feed…"}>
      <Badge
        variant="dot"
        size="lg"
        color={live ? "teal" : status === "refused" ? "red" : "gray"}
        role="status"
        aria-label="Live updates"
      >
        {status}
      </Badge>
    </Tooltip>
  );
}

function FreshInstall() {
  const client = useQueryClient();
  const params = { search: EXAMPLE, page_size: 5 };
  const found = useQuery({
    queryKey: keys.workflows(params),
    queryFn: () => api<{ results: WorkflowName[] }>(`/api/workflows/${queryString(params)}`),
    staleTime: 60_000,
  });
  const example = found.data?.results.find((w) => w.name === EXAMPLE);
  const start = useMutation({
    mutationFn: async (id: number) => {
      const detail = await client.fetchQuery({
        queryKey: keys.workflow(id),
        queryFn: () => api<{ version?: { graph?: { input_schema?: { examples?: unknown[] } } } }>(`/api/workflows/${id}/`),
      });
      const sample = detail.version?.graph?.input_schema?.examples?.[0];
      return api<{ id: number }>(`/api/workflows/${id}/runs/`, {
        method: "POST",
        body: { input: sample && typeof sample === "object" ? sample : { customer: "acme" } },
      });
    },
    onSuccess: (run) =>
      notifySuccess(`Run ${run.id} started: watch the figures fill in as it goes.`, `Started ${EXAMPLE}`),
    onError: (error) => notifyError(error, `Start ${EXAMPLE}`),
  });
  return (
    <Empty
      icon={<IconChartBar size={28} />}
      title="No runs yet."
      description="Once workflows run, this page shows how many run and succeed, how long they take, where they fail and retry, what waits in the queue and for people, and the alerts that need you, live."
      actions={
        <>
          {example && (
            <Button
              size="md"
              leftSection={<IconPlayerPlay size={18} />}
              loading={start.isPending}
              onClick={() => start.mutate(example.id)}
            >
              Run an example
            </Button>
          )}
          <Button size="md" variant={example ? "default" : "filled"} component={Link} to="/workflows" leftSection={<IconSitemap size={18} />}>
            Go to the workflows
          </Button>
        </>
      }
    />
  );
}

function Figures({ stats }: { stats: Stats }) {
  const rate = successRate(stats.totals);
  const done = finished(stats.totals);
  const failed = stats.totals.failed;
  return (
    <div className={classes.kpis}>
      <KpiCard
        label="Runs started"
        icon={IconActivity}
        value={stats.totals.started}
        detail={`${done} finished in the window`}
        spark={sparkline(stats.series, "started")}
      />
      <KpiCard
        label="Success rate"
        icon={IconCircleCheck}
        color="teal"
        value={percent(rate)}
        detail={done ? `${stats.totals.succeeded} succeeded of ${done}` : "no run finished yet"}
        spark={sparkline(stats.series, "success_rate")}
      />
      <KpiCard
        label="Failed"
        icon={IconAlertTriangle}
        color="red"
        warn={failed > 0}
        value={failed}
        detail={`failure rate ${percent(stats.failure_rate)}`}
        spark={sparkline(stats.series, "failed")}
      />
      <KpiCard
        label="Retries"
        icon={IconRepeat}
        color="orange"
        value={stats.retries.extra_attempts}
        detail={
          stats.retries.step_runs
            ? `${percent(stats.retries.rate)} of ${stats.retries.step_runs} steps tried again`
            : "no step ran in the window"
        }
      />
      <KpiCard
        label="Median duration"
        icon={IconStopwatch}
        value={seconds(stats.duration_s.p50 ?? null)}
        detail={stats.duration_s.count ? `mean ${seconds(stats.duration_s.avg)} over ${stats.duration_s.count} runs` : "no run timed yet"}
      />
      <KpiCard
        label="p95 duration"
        icon={IconClockHour4}
        value={seconds(stats.duration_s.p95)}
        detail="95 % of runs were faster"
      />
      <KpiCard
        label="Queued steps"
        icon={IconStack2}
        color="indigo"
        warn={(stats.queue.oldest_age_s ?? 0) > 60}
        value={stats.queue.depth}
        detail={stats.queue.oldest_age_s === null ? "nothing waits for a worker" : `oldest queued ${seconds(stats.queue.oldest_age_s)}`}
      />
      <KpiCard
        label="Waiting tasks"
        icon={IconInbox}
        color="yellow"
        warn={stats.tasks.overdue > 0}
        value={stats.tasks.waiting}
        detail={
          <>
            {stats.tasks.overdue ? `${stats.tasks.overdue} overdue · ` : "none overdue · "}
            <Anchor component={Link} to="/inbox" size="xs">
              open the inbox
            </Anchor>
          </>
        }
      />
    </div>
  );
}

export function DashboardPage() {
  const client = useQueryClient();
  const [range, setRange] = useState<string>("24h");
  const [workflow, setWorkflow] = useState<string | null>(null);

  const workflowParams = { page_size: 200, ordering: "name" };
  const workflows = useQuery({
    queryKey: keys.workflows(workflowParams),
    queryFn: () => api<{ results: WorkflowName[] }>(`/api/workflows/${queryString(workflowParams)}`),
    staleTime: 60_000,
  });
  const names = workflows.data?.results ?? [];

  const params = { window: range, workflow: workflow ?? undefined };
  const stats = useQuery({
    queryKey: keys.stats(params),
    queryFn: () => api<Stats>(`/api/stats/${queryString(params)}`),
    placeholderData: keepPreviousData,
    // The socket marks the figures stale when runs change; the window also slides with the
    // clock, so they are read again each minute while the page is open.
    staleTime: Number.POSITIVE_INFINITY,
    refetchInterval: 60_000,
  });
  const empty = stats.data ? isEmpty(stats.data) : false;
  // Whether any run exists at all, asked only when the window is empty.
  const anyRunParams = { page_size: 1 };
  const anyRun = useQuery({
    queryKey: keys.runs(anyRunParams),
    queryFn: () => api<{ results: unknown[] }>(`/api/runs/${queryString(anyRunParams)}`),
    enabled: empty,
  });
  useEffect(() => {
    if (stats.error) notifyError(stats.error, "Dashboard");
  }, [stats.error]);

  // Live: a burst of run events marks the figures (and what follows runs) stale once.
  const refresh = useThrottled(() => {
    void client.invalidateQueries({ queryKey: ["stats"] });
    void client.invalidateQueries({ queryKey: ["dead-letters"] });
    void client.invalidateQueries({ queryKey: ["alerts"] });
    void client.invalidateQueries({ queryKey: keys.runs(anyRunParams) });
  }, 1000);
  const live = useLiveEvents("/ws/runs/", null, refresh);

  // The palette (Ctrl+K) switches the window.
  const commands = useMemo(
    () =>
      WINDOWS.map((w) => ({
        id: `dashboard:${w.value}`,
        label: `Dashboard: last ${w.label}`,
        leftSection: <IconClockHour4 size={18} />,
        onClick: () => setRange(w.value),
      })),
    [],
  );
  usePageCommands("dashboard", commands);

  const fresh = empty && anyRun.isSuccess && anyRun.data.results.length === 0 && !workflow;

  return (
    <Box component="section" aria-labelledby="dashboard-title" className={classes.page}>
      <PageHeader
        title="Dashboard"
        id="dashboard-title"
        description="How your workflows run: throughput, outcomes, durations, retries, queues and people."
        actions={
          <Group gap="xs" wrap="wrap" role="search" aria-label="Dashboard filters" className={classes.filters}>
            <SegmentedControl
              size="md"
              classNames={{ label: classes.segment }}
              value={range}
              onChange={setRange}
              data={WINDOWS.map((w) => ({ value: w.value, label: w.label }))}
              aria-label="Window"
            />
            <Select
              aria-label="Workflow"
              placeholder="All workflows"
              data={names.map((w) => ({ value: String(w.id), label: w.name }))}
              value={workflow}
              onChange={setWorkflow}
              clearable
              searchable
              w={{ base: "100%", xs: 220 }}
              size="md"
              nothingFoundMessage="No such workflow"
            />
            <LiveBadge status={live} />
          </Group>
        }
      />
      {!stats.data ? (
        <Center h={240}>
          {stats.isError ? (
            <Button variant="default" onClick={() => void stats.refetch()}>
              Try again
            </Button>
          ) : (
            <Loader size="sm" aria-label="Loading the figures" />
          )}
        </Center>
      ) : fresh ? (
        <FreshInstall />
      ) : (
        <>
          {empty && (
            <Alert color="gray" mb="md" title="Nothing ran in this window">
              <Group gap="xs" justify="space-between" wrap="wrap">
                <span>Runs exist, but none started or ended in the last {WINDOWS.find((w) => w.value === range)?.label ?? range}.</span>
                {range !== "30d" && (
                  <Button size="xs" variant="default" onClick={() => setRange("30d")}>
                    Show 30 days
                  </Button>
                )}
              </Group>
            </Alert>
          )}
          <Figures stats={stats.data} />
          <div className={classes.charts}>
            <RunsChart stats={stats.data} />
            <OutcomeDonut stats={stats.data} />
          </div>
          <div className={classes.tables}>
            <FailingWorkflows rows={stats.data.failing_workflows} />
            <SlowestSteps rows={stats.data.slowest_steps} />
            <BusiestSteps rows={stats.data.busiest_steps} />
          </div>
          <HumanWork human={stats.data.human} />
          <BreakersPanel />
          <AlertsPanel workflow={workflow} />
        </>
      )}
      {!fresh && <AlertRules workflows={names} />}
    </Box>
  );
}
