/**
 * The workflows the user may see (/workflows): a table sorted and paged by the server, with a
 * search, an owner filter and the archive; each row's last run, live. Open, run, duplicate,
 * export, archive (with an undo) from a row's menu; create, import or add the examples from
 * the header and the empty state.
 */
import {
  Anchor,
  Badge,
  Button,
  CloseButton,
  Group,
  Paper,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import {
  IconArchive,
  IconFileImport,
  IconPlus,
  IconSearch,
  IconSitemap,
  IconSparkles,
  IconUser,
  IconX,
} from "@tabler/icons-react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DataTable, type DataTableColumn, type DataTableSortStatus } from "mantine-datatable";
import { useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";

import { api } from "../api";
import { type PageCommand, usePageCommands } from "../CommandPalette";
import { type LiveEvent, useLiveEvents } from "../live";
import { keys, queryString } from "../query";
import { StepIcon } from "../steps/icons";
import { Empty } from "../ui/Empty";
import { PageHeader } from "../ui/PageHeader";
import { RelativeTime } from "../ui/RelativeTime";
import { StatusBadge } from "../ui/StatusBadge";
import { notifyError, notifySuccess } from "../ui/notify";
import { ImportModal } from "./workflows/ImportModal";
import {
  DEFAULT_SORT,
  PAGE_SIZE,
  type Sort,
  type View,
  type WorkflowPage,
  type WorkflowRow,
  copyName,
  isFiltered,
  listParams,
  nextSort,
  ready,
  triggerLabel,
} from "./workflows/list";
import { RowActions } from "./workflows/RowActions";
import { LIST_TABLE } from "../ui/table";

type Detail = WorkflowRow & { version: { number: number; graph: unknown } };

/** The rows' last runs follow the runs feed: a status change patches the row that shows the
 * run; a new run (which may be any row's newest) reads the list again. */
function useLiveLastRuns() {
  const client = useQueryClient();
  useLiveEvents<LiveEvent>("/ws/runs/", null, (events) => {
    if (events.some((e) => e.type === "run.created")) {
      void client.invalidateQueries({ queryKey: ["workflows"] });
      return;
    }
    const status = new Map(events.map((e) => [e.run, e.new_status]));
    client.setQueriesData<WorkflowPage>({ queryKey: ["workflows"] }, (page) => {
      if (!page?.results?.some((row) => row.last_run && status.has(row.last_run.id))) return page;
      return {
        ...page,
        results: page.results.map((row) =>
          row.last_run && status.has(row.last_run.id)
            ? { ...row, last_run: { ...row.last_run, status: status.get(row.last_run.id) as string } }
            : row,
        ),
      };
    });
  });
}

function NameCell({ row }: { row: WorkflowRow }) {
  const starts = triggerLabel(row.trigger);
  return (
    <Group gap="sm" wrap="nowrap" align="center">
      <Tooltip label={starts}>
        <span>
          <StepIcon type={row.trigger ?? "trigger"} category="trigger" size={32} radius="md" />
        </span>
      </Tooltip>
      <Stack gap={0} style={{ minWidth: 0 }}>
        {/* The name in the text colour: the brand blue is under 4.5:1 on a hovered row. */}
        <Anchor component={Link} to={`/designer/${row.id}`} fw={600} size="sm" lineClamp={1} c="var(--mantine-color-text)">
          {row.name}
        </Anchor>
        <Text size="xs" c="dimmed" lineClamp={1} title={row.description || undefined}>
          <span className="fd-visually-hidden">{starts}. </span>
          {row.description || (row.archived ? "Archived" : "No description")}
        </Text>
      </Stack>
    </Group>
  );
}

function LastRunCell({ row }: { row: WorkflowRow }) {
  if (!row.last_run) {
    return (
      <Text size="sm" c="dimmed">
        Never run
      </Text>
    );
  }
  return (
    <Group gap={6} wrap="wrap" style={{ rowGap: 2 }}>
      <Anchor
        component={Link}
        to={`/runs/${row.last_run.id}`}
        underline="never"
        aria-label={`Last run of ${row.name}: ${row.last_run.status}`}
        style={{ display: "inline-flex" }}
      >
        <StatusBadge status={row.last_run.status} style={{ cursor: "pointer" }} />
      </Anchor>
      <RelativeTime value={row.last_run.created_at} size="xs" c="dimmed" />
    </Group>
  );
}

export function WorkflowsPage() {
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search, 250);
  const [owner, setOwner] = useState<View["owner"]>("anyone");
  const [archived, setArchived] = useState(false);
  const [sort, setSort] = useState<Sort>(DEFAULT_SORT);
  const [page, setPage] = useState(1);
  const [importing, setImporting] = useState(false);
  const [busyRow, setBusyRow] = useState<number | null>(null);
  const navigate = useNavigate();
  const client = useQueryClient();

  const me = useQuery({ queryKey: keys.me(), queryFn: () => api<{ username: string }>("/api/me/") });
  const username = me.data?.username ?? null;
  const view: View = { search: debounced, owner, archived, sort, page };
  const params = listParams(view, username);
  const list = useQuery({
    queryKey: keys.workflows(params),
    queryFn: () => api<WorkflowPage>(`/api/workflows/${queryString(params)}`),
    enabled: ready(view, username),
    // Typing, sorting and paging keep the rows on screen until the new ones arrive.
    placeholderData: keepPreviousData,
  });
  useLiveLastRuns();

  // A change of what is shown starts again on the first page.
  const change =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setPage(1);
    };

  const invalidate = () => client.invalidateQueries({ queryKey: ["workflows"] });

  const examples = useMutation({
    mutationFn: () => api<WorkflowRow[]>("/api/workflows/examples/", { method: "POST" }),
    onSuccess: (added) => {
      void invalidate();
      if (added.length === 0) notifySuccess("You have every example already.", "Nothing to add");
      else notifySuccess(`${added.map((w) => w.name).join(", ")}.`, `Added ${added.length} example workflows`);
    },
    onError: (error) => notifyError(error, "Examples not added"),
  });

  const duplicate = useMutation({
    mutationFn: async (row: WorkflowRow) => {
      // The list has no graphs; the copy is of the newest version.
      const source = await client.fetchQuery({
        queryKey: keys.workflow(row.id),
        queryFn: () => api<Detail>(`/api/workflows/${row.id}/`),
        staleTime: 0,
      });
      return api<WorkflowRow>("/api/workflows/", {
        method: "POST",
        body: {
          name: copyName(source.name),
          description: source.description,
          graph: source.version.graph,
          note: `Copied from ${source.name}, version ${source.version.number}`,
        },
      });
    },
    onMutate: (row) => setBusyRow(row.id),
    onSettled: () => setBusyRow(null),
    onSuccess: (created) => {
      void invalidate();
      notifySuccess(`Opened ${created.name} in the designer.`, "Duplicated");
      navigate(`/designer/${created.id}`);
    },
    onError: (error, row) => notifyError(error, `${row.name} not duplicated`),
  });

  const setArchivedOf = useMutation({
    mutationFn: ({ row, archive }: { row: WorkflowRow; archive: boolean }) =>
      archive
        ? api(`/api/workflows/${row.id}/`, { method: "DELETE" })
        : api(`/api/workflows/${row.id}/`, { method: "PATCH", body: { archived: false } }),
    onMutate: ({ row }) => setBusyRow(row.id),
    onSettled: () => setBusyRow(null),
    onSuccess: (_, { row, archive }) => {
      void invalidate();
      client.removeQueries({ queryKey: keys.workflow(row.id), exact: true });
      if (!archive) {
        notifySuccess(`${row.name} is back in the list.`, "Restored");
        return;
      }
      const id = `archived-${row.id}`;
      notifications.show({
        id,
        color: "teal",
        title: "Archived",
        autoClose: 8000,
        message: (
          <Group justify="space-between" gap="xs" wrap="nowrap">
            <Text size="sm">{row.name} left the list. Its runs and versions are kept.</Text>
            <Button
              size="compact-sm"
              variant="light"
              onClick={() => {
                notifications.hide(id);
                setArchivedOf.mutate({ row, archive: false });
              }}
            >
              Undo
            </Button>
          </Group>
        ),
      });
    },
    onError: (error, { row, archive }) => notifyError(error, `${row.name} not ${archive ? "archived" : "restored"}`),
  });

  const confirmArchive = (row: WorkflowRow) =>
    modals.openConfirmModal({
      title: `Archive ${row.name}?`,
      children: (
        <Text size="sm">
          It leaves the list and can no longer be run. Its versions and runs are kept, and you can restore it from
          “Archived”.
        </Text>
      ),
      labels: { confirm: "Archive", cancel: "Keep it" },
      confirmProps: { color: "red", leftSection: <IconArchive size={16} /> },
      onConfirm: () => setArchivedOf.mutate({ row, archive: true }),
    });

  const commands = useMemo<PageCommand[]>(
    () => [
      {
        id: "workflows-import",
        label: "Import a workflow",
        description: "From a JSON or YAML file, or pasted text",
        leftSection: <IconFileImport size={18} />,
        onClick: () => setImporting(true),
      },
      {
        id: "workflows-examples",
        label: "Add the example workflows",
        description: "Six small workflows to run and copy from",
        leftSection: <IconSparkles size={18} />,
        onClick: () => examples.mutate(),
      },
    ],
    // examples.mutate is stable.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  usePageCommands("workflows", commands);

  const columns: DataTableColumn<WorkflowRow>[] = [
    { accessor: "name", title: "Workflow", sortable: true, render: (row) => <NameCell row={row} /> },
    {
      accessor: "owner",
      sortable: true,
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.md})`,
      render: (row) => <Text size="sm">{row.owner}</Text>,
    },
    {
      accessor: "latest_version",
      title: "Version",
      sortable: true,
      textAlign: "right",
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.lg})`,
      render: (row) => (
        <Text size="sm" ff="monospace">
          v{row.latest_version}
        </Text>
      ),
    },
    {
      accessor: "last_run",
      title: "Last run",
      sortable: true,
      // Room for the longest status badge ("succeeded") on a phone.
      cellsStyle: () => ({ minWidth: 118 }),
      render: (row) => <LastRunCell row={row} />,
    },
    {
      accessor: "updated_at",
      title: "Updated",
      sortable: true,
      noWrap: true,
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
      render: (row) => <RelativeTime value={row.updated_at} size="sm" />,
    },
    {
      accessor: "role",
      title: "Your role",
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.lg})`,
      render: (row) =>
        row.role ? (
          <Badge variant="default" tt="none" fw={500}>
            {row.role}
          </Badge>
        ) : null,
    },
    {
      accessor: "actions",
      title: <span className="fd-visually-hidden">Actions</span>,
      textAlign: "right",
      width: 64,
      render: (row) => (
        <RowActions
          row={row}
          busy={busyRow === row.id}
          onDuplicate={(r) => duplicate.mutate(r)}
          onArchive={confirmArchive}
          onRestore={(r) => setArchivedOf.mutate({ row: r, archive: false })}
        />
      ),
    },
  ];

  const rows = list.data?.results ?? [];
  const loaded = list.data !== undefined && !list.isPlaceholderData;
  const filtered = isFiltered({ ...view, search });
  const firstTime = loaded && list.data.count === 0 && !filtered && !archived;
  const noMatch = loaded && list.data.count === 0 && !firstTime;
  const clearFilters = () => {
    setSearch("");
    setOwner("anyone");
    setPage(1);
  };

  const newButton = (
    <Button component={Link} to="/designer/new" leftSection={<IconPlus size={18} />}>
      New workflow
    </Button>
  );
  const examplesButton = (
    <Button
      variant="light"
      leftSection={<IconSparkles size={18} />}
      loading={examples.isPending}
      onClick={() => examples.mutate()}
    >
      Add the example workflows
    </Button>
  );

  return (
    <Stack gap="md" component="section" aria-labelledby="workflows-title">
      <PageHeader
        id="workflows-title"
        title="Workflows"
        description="Your processes as graphs of steps: build them, version them, run them."
        actions={
          <>
            <Button variant="default" leftSection={<IconFileImport size={18} />} onClick={() => setImporting(true)}>
              Import
            </Button>
            {/* The empty state below has it, beside the examples. */}
            {!firstTime && newButton}
          </>
        }
      />
      {firstTime ? (
        <Paper withBorder p="md">
          <Empty
            icon={<IconSitemap size={28} />}
            title="Create your first workflow"
            description="Draw one from a trigger and a few steps, or start from the examples: an invoice approval, an order router, a nightly report and more, ready to run."
            actions={
              <>
                {newButton}
                {examplesButton}
              </>
            }
          />
        </Paper>
      ) : (
        <>
          <Group gap="sm" wrap="wrap" role="search" aria-label="Filter the workflows">
            <TextInput
              aria-label="Search workflows"
              placeholder="Search by name"
              leftSection={<IconSearch size={16} />}
              value={search}
              onChange={(e) => change(setSearch)(e.currentTarget.value)}
              rightSection={
                search ? <CloseButton size="sm" aria-label="Clear the search" onClick={() => change(setSearch)("")} /> : null
              }
              style={{ flex: "1 1 14rem" }}
            />
            <Select
              aria-label="Owner"
              data={[
                { value: "anyone", label: "Anyone's" },
                { value: "me", label: "Only mine" },
              ]}
              value={owner}
              onChange={(value) => change(setOwner)(value === "me" ? "me" : "anyone")}
              allowDeselect={false}
              leftSection={<IconUser size={16} />}
              w={150}
            />
            <SegmentedControl
              aria-label="Show"
              data={[
                { value: "active", label: "Active" },
                { value: "archived", label: "Archived" },
              ]}
              value={archived ? "archived" : "active"}
              onChange={(value) => change(setArchived)(value === "archived")}
            />
          </Group>
          {noMatch ? (
            <Paper withBorder p="md">
              {filtered ? (
                <Empty
                  icon={<IconSearch size={28} />}
                  title="No workflow matches"
                  description={
                    search.trim()
                      ? `No ${archived ? "archived " : ""}workflow${owner === "me" ? " of yours" : ""} has “${search.trim()}” in its name.`
                      : `You own no ${archived ? "archived " : ""}workflow yet.`
                  }
                  actions={
                    <Button variant="light" leftSection={<IconX size={16} />} onClick={clearFilters}>
                      Clear the search and filters
                    </Button>
                  }
                />
              ) : (
                <Empty
                  icon={<IconArchive size={28} />}
                  title="No archived workflows"
                  description="An archived workflow leaves the list but keeps its versions and runs; it would be here, ready to restore."
                  actions={
                    <Button variant="light" onClick={() => change(setArchived)(false)}>
                      Show the active workflows
                    </Button>
                  }
                />
              )}
            </Paper>
          ) : (
            <DataTable<WorkflowRow>
              aria-label="Workflows"
              {...LIST_TABLE}
              minHeight={rows.length ? undefined : 180}
              records={rows}
              columns={columns}
              fetching={list.isFetching && (list.isPlaceholderData || !list.data)}
              sortStatus={sort as DataTableSortStatus<WorkflowRow>}
              onSortStatusChange={(status) => change(setSort)(nextSort(sort, status))}
              totalRecords={list.data?.count ?? 0}
              recordsPerPage={PAGE_SIZE}
              page={page}
              onPageChange={setPage}
              paginationText={({ from, to, totalRecords }) => `${from}–${to} of ${totalRecords}`}
              noRecordsText=""
              customRowAttributes={(row) => ({ "data-id": row.id })}
            />
          )}
        </>
      )}
      <ImportModal opened={importing} onClose={() => setImporting(false)} />
    </Stack>
  );
}
