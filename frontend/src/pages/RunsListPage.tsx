/**
 * The runs the user may see, newest first (GET /api/runs/, keyset pages): filters by workflow,
 * status, trigger, who started it and days (kept in the URL); sortable columns over the loaded
 * runs; live from /ws/runs/ (a status changes in place, a new run appears on top, and only the
 * first page is read again for it); select runs to cancel them or retry their failed steps.
 */
import "@mantine/dates/styles.css";

import {
  Anchor,
  Badge,
  Button,
  Collapse,
  Group,
  MultiSelect,
  Paper,
  Select,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { DatePickerInput } from "@mantine/dates";
import { useDebouncedValue, useDisclosure, useMediaQuery } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import {
  IconAdjustmentsHorizontal,
  IconArrowsDiff,
  IconFilterOff,
  IconPlayerPlay,
  IconPlayerStop,
  IconPlus,
  IconRefresh,
  IconRoute,
  IconSitemap,
  IconX,
} from "@tabler/icons-react";
import { type InfiniteData, hashKey, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DataTable } from "mantine-datatable";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";

import { api } from "../api";
import { type PageCommand, usePageCommands } from "../CommandPalette";
import { type LiveEvent, useLiveEvents } from "../live";
import { keys, queryString } from "../query";
import { LiveBadge } from "../runview/LiveBadge";
import { useNow } from "../runview/useNow";
import {
  ENDED,
  type Filters,
  NO_FILTERS,
  type RunRow,
  type RunsPage,
  type SortStatus,
  TRIGGERS,
  actionable,
  bringsNewRuns,
  bulkSummary,
  duration,
  filtersFromSearch,
  filtersToSearch,
  hasFilters,
  mergeFirstPage,
  patchCached,
  runsParams,
  sampleInput,
  sortRuns,
} from "../runslist/model";
import { comparePair, comparePath } from "../runcompare/model";
import { ACTIVE_RUN_STATUSES, RUN_STATUSES, statusLook } from "../status";
import { Empty } from "../ui/Empty";
import { errorText, notifyError } from "../ui/notify";
import { PageHeader } from "../ui/PageHeader";
import { RelativeTime } from "../ui/RelativeTime";
import { PriorityBadge } from "../ui/PriorityBadge";
import { StatusBadge } from "../ui/StatusBadge";
import classes from "./RunsListPage.module.css";
import { LIST_TABLE } from "../ui/table";

export { duration, runsParams } from "../runslist/model";

type WorkflowRow = { id: number; name: string };
type WorkflowDetail = { id: number; name: string; version: { graph: { input_schema?: unknown } } };

const WORKFLOW_NAMES = { page_size: 200, ordering: "name" } as const;
// The examples that run with their sample input and no setup, the simplest first.
const EXAMPLES = ["Fetch and transform", "Route an order", "Parallel fan-out with a join"];

/** The names of the workflows the user may see (the same query as the command palette's). */
function useWorkflowNames() {
  return useQuery({
    queryKey: keys.workflows(WORKFLOW_NAMES),
    queryFn: () => api<{ results: WorkflowRow[] }>(`/api/workflows/${queryString(WORKFLOW_NAMES)}`),
    select: (page) => page.results,
  });
}

/** Start an example with its sample input and open its run; one that needs more input opens in
 * the designer, whose Run form asks for it. */
function useRunExample() {
  const navigate = useNavigate();
  return useMutation({
    mutationFn: async (workflow: WorkflowRow) => {
      const detail = await api<WorkflowDetail>(`/api/workflows/${workflow.id}/`);
      return api<{ id: number }>(`/api/workflows/${workflow.id}/runs/`, {
        method: "POST",
        body: { input: sampleInput(detail.version.graph.input_schema) },
      });
    },
    onSuccess: (run) => navigate(`/runs/${run.id}`),
    onError: (error, workflow) => {
      notifyError(error, `${workflow.name} needs input`);
      navigate(`/designer/${workflow.id}`);
    },
  });
}

function NoRunsYet({ workflows }: { workflows: WorkflowRow[] | undefined }) {
  const runExample = useRunExample();
  const example = workflows?.find((w) => EXAMPLES.includes(w.name)) ?? null;
  return (
    <Empty
      icon={<IconRoute size={28} />}
      title="No runs yet"
      description={
        example
          ? `Runs appear here, live, as soon as a workflow starts: from the designer's Run button, a schedule, a webhook or the API. Try it with the example “${example.name}”.`
          : "Runs appear here, live, as soon as a workflow starts: from the designer's Run button, a schedule, a webhook or the API."
      }
      actions={
        <>
          {example ? (
            <Button leftSection={<IconPlayerPlay size={16} />} loading={runExample.isPending} onClick={() => runExample.mutate(example)}>
              Run {example.name}
            </Button>
          ) : (
            <Button component={Link} to="/designer/new" leftSection={<IconPlus size={16} />}>
              Create a workflow
            </Button>
          )}
          <Button component={Link} to="/workflows" variant="default" leftSection={<IconSitemap size={16} />}>
            Open the workflows
          </Button>
        </>
      }
    />
  );
}

function FilterBar({
  filters,
  onChange,
  workflows,
}: {
  filters: Filters;
  onChange: (f: Filters) => void;
  workflows: WorkflowRow[] | undefined;
}) {
  const phone = useMediaQuery("(max-width: 48em)", undefined, { getInitialValueInEffect: false }) ?? false;
  const [opened, { toggle }] = useDisclosure(false);
  // Typing a username filters once the typing stops.
  const [actor, setActor] = useState(filters.actor);
  const [typed] = useDebouncedValue(actor, 350);
  const latest = useRef(filters);
  latest.current = filters;
  useEffect(() => {
    if (typed !== latest.current.actor) onChange({ ...latest.current, actor: typed });
  }, [typed, onChange]);
  useEffect(() => setActor(filters.actor), [filters.actor]);

  const count = [filters.workflow, filters.status.length, filters.trigger, filters.actor.trim(), filters.since || filters.until].filter(Boolean).length;
  const controls = (
    <Group align="flex-end" gap="sm" className={classes.filters}>
      <Select
        label="Workflow"
        placeholder="Any workflow"
        searchable
        clearable
        nothingFoundMessage="No workflow of that name"
        data={(workflows ?? []).map((w) => ({ value: String(w.id), label: w.name }))}
        value={filters.workflow}
        onChange={(workflow) => onChange({ ...filters, workflow })}
        className={classes.filterWide}
      />
      <MultiSelect
        label="Status"
        placeholder={filters.status.length ? undefined : "Any status"}
        clearable
        data={RUN_STATUSES.map((s) => ({ value: s, label: statusLook(s).label }))}
        value={filters.status}
        onChange={(status) => onChange({ ...filters, status })}
        className={classes.filterWide}
      />
      <Select
        label="Trigger"
        placeholder="Any trigger"
        clearable
        data={[...TRIGGERS]}
        value={filters.trigger}
        onChange={(trigger) => onChange({ ...filters, trigger })}
        className={classes.filter}
      />
      <TextInput label="Started by" placeholder="Username" value={actor} onChange={(e) => setActor(e.currentTarget.value)} className={classes.filter} />
      <DatePickerInput
        type="range"
        label="Created"
        placeholder="Any day"
        clearable
        allowSingleDateInRange
        valueFormat="D MMM YYYY"
        // Its placeholder is text in a button: the theme's placeholder grey is 2:1 on white.
        styles={{ placeholder: { color: "var(--mantine-color-dimmed)" } }}
        value={[filters.since, filters.until]}
        onChange={([since, until]) => onChange({ ...filters, since: since ? String(since) : null, until: until ? String(until) : since ? String(since) : null })}
        className={classes.filterWide}
      />
      {hasFilters(filters) && (
        <Button variant="subtle" color="gray" leftSection={<IconFilterOff size={16} />} onClick={() => onChange(NO_FILTERS)} mih={36}>
          Clear filters
        </Button>
      )}
    </Group>
  );
  return (
    <Paper withBorder p="sm" mb="md" role="search" aria-label="Filter runs">
      {phone ? (
        <Stack gap="sm">
          <Button
            variant="default"
            onClick={toggle}
            leftSection={<IconAdjustmentsHorizontal size={16} />}
            rightSection={count ? <Badge size="sm" circle>{count}</Badge> : undefined}
            aria-expanded={opened}
            mih={40}
            fullWidth
          >
            Filters
          </Button>
          <Collapse expanded={opened}>{controls}</Collapse>
        </Stack>
      ) : (
        controls
      )}
    </Paper>
  );
}

export function RunsListPage() {
  const client = useQueryClient();
  const navigate = useNavigate();
  const phone = useMediaQuery("(max-width: 48em)", undefined, { getInitialValueInEffect: false }) ?? false;
  // The filters live in the URL (a link keeps them) and in state: the router writes the URL in
  // a transition, and a click that follows at once must see the filters it just set.
  const [search, setSearch] = useSearchParams();
  const [filters, setFilterState] = useState(() => filtersFromSearch(search));
  const shown = useRef(filters);
  shown.current = filters;
  useEffect(() => {
    // The URL changed from outside (a link to /runs?workflow=3, back and forward).
    const fromUrl = filtersFromSearch(search);
    if (filtersToSearch(fromUrl).toString() !== filtersToSearch(shown.current).toString()) setFilterState(fromUrl);
  }, [search]);
  const setFilters = useCallback(
    (f: Filters) => {
      shown.current = f;
      setFilterState(f);
      setSearch(filtersToSearch(f), { replace: true });
    },
    [setSearch],
  );
  const params = useMemo(() => runsParams(filters), [filters]);
  const listKey = useMemo(() => keys.runs(params), [params]);
  const workflows = useWorkflowNames();

  const list = useInfiniteQuery({
    queryKey: listKey,
    queryFn: ({ pageParam }) => api<RunsPage>(pageParam ?? `/api/runs/${queryString(params)}`),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.results) ?? [], [list.data]);

  // The live feed: statuses change in place in every cached list; a new run reads the shown
  // list's first page again (one read at a time, one more if runs came meanwhile).
  const known = useRef(new Set<number>());
  known.current = new Set(rows.map((r) => r.id));
  const head = useRef<{ busy: boolean; again: boolean }>({ busy: false, again: false });
  const readHead = useCallback(() => {
    const state = head.current;
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    api<RunsPage>(`/api/runs/${queryString(params)}`)
      .then((first) => client.setQueryData<InfiniteData<RunsPage, unknown>>(listKey, (data) => mergeFirstPage(data, first)))
      .catch(() => undefined)
      .finally(() => {
        state.busy = false;
        if (state.again) {
          state.again = false;
          readHead();
        }
      });
  }, [client, listKey, params]);
  useEffect(() => {
    head.current = { busy: false, again: false };
  }, [listKey]);
  const live = useLiveEvents<LiveEvent>("/ws/runs/", null, (events) => {
    for (const [key, data] of client.getQueriesData<InfiniteData<RunsPage, unknown> | RunsPage>({ queryKey: ["runs"] })) {
      const keyParams = (key[1] ?? {}) as { status?: string };
      const statuses = keyParams.status ? String(keyParams.status).split(",") : [];
      const patched = patchCached(data, events, statuses);
      if (patched !== data) client.setQueryData(key, patched);
    }
    if (bringsNewRuns(events, known.current, filters)) {
      readHead();
      // Other lists (other filters) read theirs when shown again.
      void client.invalidateQueries({ queryKey: ["runs"], refetchType: "none", predicate: (q) => q.queryHash !== hashKey(listKey) });
    }
  });

  // Sorting and pages are over the loaded runs; the page after the last loaded one reads the
  // next keyset page.
  const [sort, setSort] = useState<SortStatus>({ columnAccessor: "id", direction: "desc" });
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(25);
  useEffect(() => setPage(1), [listKey]);
  const anyRunning = rows.some((r) => !ENDED.has(r.status));
  const now = useNow(anyRunning);
  const sorted = useMemo(() => sortRuns(rows, sort, now), [rows, sort, now]);
  const records = sorted.slice((page - 1) * perPage, page * perPage);
  const more = list.hasNextPage ?? false;
  const goTo = (next: number) => {
    setPage(next);
    if (next * perPage > rows.length && more && !list.isFetchingNextPage) void list.fetchNextPage();
  };

  // Selection, by id (rows are replaced as they change).
  const [chosen, setChosen] = useState<Set<number>>(new Set());
  useEffect(() => setChosen(new Set()), [listKey]);
  const selected = rows.filter((r) => chosen.has(r.id));
  const cancellable = actionable(selected, "cancel");
  const retryable = actionable(selected, "retry");
  // Two selected runs compare (the older as A); the ids, so runs on other pages count too.
  const pair = comparePair([...chosen]);

  const bulk = useMutation({
    mutationFn: async (what: "cancel" | "retry") => {
      const targets = actionable(selected, what);
      const outcomes: { run: number; ok: boolean; text: string }[] = [];
      for (const run of targets) {
        try {
          if (what === "cancel") {
            await api(`/api/runs/${run.id}/cancel/`, { method: "POST", body: { reason: "bulk cancel" } });
            outcomes.push({ run: run.id, ok: true, text: "cancelled" });
          } else {
            const detail = await api<{ steps: { node: string; status: string }[] }>(`/api/runs/${run.id}/`);
            const failed = detail.steps.filter((s) => s.status === "failed");
            for (const step of failed) {
              await api(`/api/runs/${run.id}/steps/${encodeURIComponent(step.node)}/retry/`, { method: "POST", body: { reason: "bulk retry" } });
            }
            outcomes.push({ run: run.id, ok: true, text: `retried ${failed.map((s) => s.node).join(", ") || "nothing"}` });
          }
        } catch (e) {
          outcomes.push({ run: run.id, ok: false, text: errorText(e).message });
        }
      }
      return { what, outcomes, selected: selected.length };
    },
    onSuccess: ({ what, outcomes, selected: count }) => {
      const done = outcomes.filter((o) => o.ok).length;
      const failed = outcomes.length - done;
      notifications.show({
        color: failed ? (done ? "yellow" : "red") : "teal",
        title: bulkSummary(what, done, count),
        message: (
          <Stack gap={2}>
            {outcomes.map((o) => (
              <Text key={o.run} size="sm" c={o.ok ? undefined : "var(--mantine-color-red-light-color)"}>
                Run {o.run}: {o.text}
              </Text>
            ))}
            {count > outcomes.length && (
              <Text size="sm" c="dimmed">
                {count - outcomes.length} not {what === "cancel" ? "running" : "failed"}: left as they were.
              </Text>
            )}
          </Stack>
        ),
        autoClose: failed ? 10_000 : 6000,
      });
      setChosen(new Set());
    },
    onError: (e) => notifyError(e),
  });

  const confirm = (what: "cancel" | "retry") => {
    const targets = actionable(selected, what);
    const n = targets.length;
    const runs = `${n} run${n === 1 ? "" : "s"}`;
    modals.openConfirmModal({
      title: what === "cancel" ? `Cancel ${runs}?` : `Retry the failed steps of ${runs}?`,
      children: (
        <Text size="sm">
          {what === "cancel"
            ? `Runs ${targets.map((r) => r.id).join(", ")} stop: running attempts are told, waiting steps stop and child runs are cancelled. Cancelled runs cannot be resumed.`
            : `The failed steps of runs ${targets.map((r) => r.id).join(", ")} run again with the same input; each run reopens.`}
          {selected.length > n ? ` ${selected.length - n} other selected run${selected.length - n === 1 ? " is" : "s are"} left as ${selected.length - n === 1 ? "it is" : "they are"}.` : ""}
        </Text>
      ),
      labels: { confirm: what === "cancel" ? `Cancel ${runs}` : `Retry ${runs}`, cancel: "Back" },
      confirmProps: { color: what === "cancel" ? "red.9" : undefined },
      onConfirm: () => bulk.mutate(what),
    });
  };

  const commands = useMemo<PageCommand[]>(
    () => [
      { id: "runs:failed", label: "Show failed runs", leftSection: <IconX size={18} />, onClick: () => setFilters({ ...NO_FILTERS, status: ["failed"] }) },
      { id: "runs:active", label: "Show runs in progress", leftSection: <IconRefresh size={18} />, onClick: () => setFilters({ ...NO_FILTERS, status: [...ACTIVE_RUN_STATUSES] }) },
      { id: "runs:clear", label: "Clear the run filters", leftSection: <IconFilterOff size={18} />, onClick: () => setFilters(NO_FILTERS) },
    ],
    [setFilters],
  );
  usePageCommands("runs-list", commands);

  const filtered = hasFilters(filters);
  const empty = list.isSuccess && rows.length === 0;
  const workflowName = (id: string | null) => workflows.data?.find((w) => String(w.id) === id)?.name;

  return (
    <section aria-labelledby="runs-title">
      <PageHeader
        id="runs-title"
        title="Runs"
        description="Every run of the workflows you may see, newest first, as it happens."
        actions={<LiveBadge status={live} />}
      />
      {!(empty && !filtered) && <FilterBar filters={filters} onChange={setFilters} workflows={workflows.data} />}
      {filters.parent && (
        <Group mb="sm" gap="xs">
          <Text size="sm">
            Child runs of <Anchor component={Link} to={`/runs/${filters.parent}`}>run {filters.parent}</Anchor>
          </Text>
          <Button size="compact-sm" variant="subtle" onClick={() => setFilters({ ...filters, parent: null })}>
            Show top-level runs
          </Button>
        </Group>
      )}

      {selected.length > 0 && (
        <Paper withBorder p="xs" mb="sm" className={classes.bulk}>
          <Group role="toolbar" aria-label="Selected runs" gap="xs" justify="space-between">
            <Text size="sm" fw={500} px="xs">
              {selected.length} selected
            </Text>
            <Group gap="xs">
              <Button
                variant="light"
                leftSection={<IconArrowsDiff size={16} />}
                disabled={pair === null}
                title={pair === null ? "Select exactly two runs to compare them" : undefined}
                onClick={() => pair && navigate(comparePath(...pair))}
                mih={40}
              >
                Compare
              </Button>
              <Button
                color="red"
                variant="light"
                leftSection={<IconPlayerStop size={16} />}
                disabled={cancellable.length === 0}
                loading={bulk.isPending && bulk.variables === "cancel"}
                onClick={() => confirm("cancel")}
                mih={40}
              >
                Cancel selected ({cancellable.length})
              </Button>
              <Button
                variant="light"
                leftSection={<IconRefresh size={16} />}
                disabled={retryable.length === 0}
                loading={bulk.isPending && bulk.variables === "retry"}
                onClick={() => confirm("retry")}
                mih={40}
              >
                Retry failed steps of selected ({retryable.length})
              </Button>
              <Button variant="subtle" color="gray" onClick={() => setChosen(new Set())} mih={40}>
                Clear selection
              </Button>
            </Group>
          </Group>
        </Paper>
      )}

      {list.error ? (
        <Empty
          icon={<IconX size={28} />}
          color="red"
          title="The runs could not be read"
          description={errorText(list.error).message}
          actions={<Button onClick={() => void list.refetch()}>Try again</Button>}
        />
      ) : empty && !filtered ? (
        <NoRunsYet workflows={workflows.data} />
      ) : empty ? (
        <Empty
          icon={<IconFilterOff size={28} />}
          title="No run matches these filters"
          description={
            filters.workflow && workflowName(filters.workflow)
              ? `${workflowName(filters.workflow)} has no run with these filters. Widen them, or clear them to see every run.`
              : "Widen the filters, or clear them to see every run."
          }
          actions={
            <Button leftSection={<IconFilterOff size={16} />} onClick={() => setFilters(NO_FILTERS)}>
              Clear filters
            </Button>
          }
        />
      ) : (
        <DataTable<RunRow>
          aria-label="Runs"
          {...LIST_TABLE}
          minHeight={list.isPending ? 240 : undefined}
          fetching={list.isPending || (list.isFetchingNextPage && records.length === 0)}
          records={records}
          idAccessor="id"
          customRowAttributes={(r) => ({ "data-id": r.id, "data-status": r.status })}
          onRowClick={({ record, event }) => {
            // A click on the row opens the run; links and checkboxes do their own thing.
            if ((event.target as HTMLElement).closest("a, button, input, label")) return;
            navigate(`/runs/${record.id}`);
          }}
          selectionTrigger="cell"
          selectedRecords={selected}
          onSelectedRecordsChange={(next) => {
            const shown = new Set(records.map((r) => r.id));
            // Runs on other pages stay selected.
            setChosen(new Set([...[...chosen].filter((id) => !shown.has(id)), ...next.map((r) => r.id)]));
          }}
          getRecordSelectionCheckboxProps={(r) => ({ "aria-label": `Select run ${r.id}` })}
          allRecordsSelectionCheckboxProps={{ "aria-label": "Select all shown runs" }}
          sortStatus={sort}
          onSortStatusChange={(s) => {
            setSort(s as SortStatus);
            setPage(1);
          }}
          page={page}
          onPageChange={goTo}
          totalRecords={rows.length + (more ? 1 : 0)}
          recordsPerPage={perPage}
          recordsPerPageOptions={[25, 50, 100]}
          onRecordsPerPageChange={(n) => {
            setPerPage(n);
            setPage(1);
          }}
          recordsPerPageLabel="Runs per page"
          paginationSize={phone ? "lg" : "sm"}
          paginationText={({ from, to }) => `${from}–${Math.min(to, rows.length)} of ${rows.length}${more ? "+" : ""} loaded`}
          getPaginationControlProps={(control) => ({ "aria-label": `${control[0].toUpperCase()}${control.slice(1)} page` })}
          columns={[
            {
              accessor: "id",
              title: "Run",
              sortable: true,
              width: phone ? undefined : 110,
              render: (r) =>
                phone ? (
                  // A phone has room for three columns: the run, what it ran and when, its status.
                  <div className={classes.workflowCell}>
                    <Anchor component={Link} to={`/runs/${r.id}`} fw={600} size="sm">
                      Run {r.id}
                    </Anchor>
                    <Text size="sm" truncate>
                      {r.workflow_name}
                    </Text>
                    <Text size="xs" c="dimmed">
                      <RelativeTime value={r.started_at ?? r.created_at} size="xs" /> · {duration(r, now)}
                    </Text>
                  </div>
                ) : (
                  <Anchor component={Link} to={`/runs/${r.id}`} fw={600} size="sm">
                    Run {r.id}
                  </Anchor>
                ),
            },
            {
              accessor: "workflow_name",
              title: "Workflow",
              sortable: true,
              visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
              render: (r) => (
                <div className={classes.workflowCell}>
                  <Text size="sm" truncate>
                    {r.workflow_name}{" "}
                    <Text span size="xs" c="dimmed">
                      v{r.version}
                    </Text>
                  </Text>
                </div>
              ),
            },
            { accessor: "status", title: "Status", sortable: true, width: phone ? 112 : 140, render: (r) => (
                <Stack gap={4} align="flex-start">
                  <StatusBadge status={r.status} />
                  <PriorityBadge priority={r.priority} size="xs" />
                </Stack>
              ) },
            {
              accessor: "created_at",
              title: "Started",
              sortable: true,
              visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
              render: (r) => <RelativeTime value={r.started_at ?? r.created_at} size="sm" />,
            },
            {
              accessor: "duration",
              title: "Duration",
              sortable: true,
              textAlign: "right",
              visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
              render: (r) => (
                <Text size="sm" ff="monospace" c={ENDED.has(r.status) ? undefined : "dimmed"}>
                  {duration(r, now)}
                </Text>
              ),
            },
            {
              accessor: "trigger",
              title: "Trigger",
              visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.md})`,
              render: (r) => (
                <Group gap={6} wrap="nowrap">
                  <Badge variant="default" tt="none" fw={500}>
                    {r.trigger}
                  </Badge>
                  <Text size="sm" c="dimmed" truncate>
                    {r.actor ? `by ${r.actor}` : ""}
                  </Text>
                </Group>
              ),
            },
          ]}
        />
      )}
    </section>
  );
}
