/**
 * The inbox: the approvals and forms waiting for the user (GET /api/approvals/), as a list to
 * work through beside the open task (on a phone, the task fills the screen). The selected task
 * is in the address (`/inbox/<id>`). The list is a TanStack query that the inbox socket
 * (inbox.ts) invalidates, so tasks arrive and leave without a reload; a decision takes its
 * task out at once and moves on to the next one.
 */
import {
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Center,
  Checkbox,
  Group,
  Loader,
  SegmentedControl,
  Select,
  Text,
  Tooltip,
  VisuallyHidden,
} from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import {
  IconClockExclamation,
  IconFilterOff,
  IconForms,
  IconHourglass,
  IconListCheck,
  IconPlaneDeparture,
  IconSortDescending,
  IconUserCheck,
} from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { usePageCommands } from "../CommandPalette";
import { currentAbsence, useAbsences, when } from "../absences";
import { api } from "../api";
import { useNow } from "../clock";
import { useInbox } from "../inbox";
import { keys, queryString } from "../query";
import { Empty } from "../ui/Empty";
import { PageHeader } from "../ui/PageHeader";
import { notifyError } from "../ui/notify";
import { BulkBar, BulkResults, type Failures } from "./inbox/BulkBar";
import { InboxEmpty } from "./inbox/InboxEmpty";
import classes from "./inbox/Inbox.module.css";
import {
  type Task,
  type TaskPage,
  absenceNote,
  bulkSelectable,
  byUrgency,
  dueState,
  filterTasks,
  nextTaskId,
  workflowsOf,
} from "./inbox/model";
import { type Me, TaskDetail } from "./inbox/TaskDetail";
import { TaskList } from "./inbox/TaskList";

export type { Task } from "./inbox/model";

const PAGE_SIZE = 100;
type Kind = "all" | "approval" | "form";
type Sort = "due" | "newest";

/** "You are out of office until …; new tasks go to dave", and the open tasks handed to the
 * deputy meanwhile (they are no longer the user's to do, but still the user's business). */
function AwayBanner({ me, now }: { me: string | undefined; now: number }) {
  const absences = useAbsences();
  const away = currentAbsence(absences.data, now);
  const params = { status: "all", page_size: 100 };
  const handed = useQuery({
    queryKey: keys.approvals(params),
    queryFn: () => api<TaskPage>(`/api/approvals/${queryString(params)}`),
    enabled: away !== null,
    staleTime: Number.POSITIVE_INFINITY, // the inbox socket says when it changes
  });
  if (!away) return null;
  const mine = (handed.data?.results ?? []).filter((t) => t.status === "open" && absenceNote(t, me)?.startsWith("delegated"));
  return (
    <Alert
      color="indigo"
      icon={<IconPlaneDeparture size={18} />}
      title={`You are out of office until ${when(away.ends_at)}; new tasks go to ${away.deputy}.`}
      mb="md"
      role="status"
      aria-label="Out of office"
    >
      <Text size="sm">
        Tasks assigned to you by name go to {away.deputy} meanwhile; your groups&apos; tasks stay with their members.{" "}
        <Anchor component={Link} to="/account" size="sm">
          Change it in your account
        </Anchor>
      </Text>
      {mine.length > 0 && (
        <Box mt="sm">
          <Text size="sm" fw={500} mb={4}>
            Handed to your deputy
          </Text>
          <TaskList tasks={mine} selectedId={null} me={me} label="Handed to your deputy" />
        </Box>
      )}
    </Alert>
  );
}

function LiveBadge() {
  const status = useInbox((s) => s.status);
  const live = status === "live";
  return (
    <Tooltip label={live ? "New tasks appear here as they arrive" : "Reconnecting to the live feed…"}>
      <Badge
        variant="dot"
        color={live ? "teal" : status === "refused" ? "red" : "gray"}
        size="lg"
        role="status"
        aria-label="Live updates"
      >
        {live ? "live" : status}
      </Badge>
    </Tooltip>
  );
}

export function InboxPage() {
  const phone = useMediaQuery("(max-width: 48em)") ?? false;
  const navigate = useNavigate();
  const { "*": rest = "" } = useParams();
  const selectedId = /^\d+$/.test(rest) ? Number(rest) : null;
  const [kind, setKind] = useState<Kind>("all");
  const [workflow, setWorkflow] = useState<string | null>(null);
  const [overdueOnly, setOverdueOnly] = useState(false);
  const [sort, setSort] = useState<Sort>("due");
  // The server's clock, for the overdue filter and count (each row's countdown ticks itself).
  const now = useNow(true, 30_000);

  const me = useQuery({ queryKey: keys.me(), queryFn: () => api<Me>("/api/me/"), staleTime: 5 * 60_000 });
  // By time left, the server picks the most urgent page, not merely the newest one.
  const params = {
    status: "open",
    page_size: PAGE_SIZE,
    kind: kind === "all" ? undefined : kind,
    ordering: sort === "due" ? "due" : undefined,
  };
  const list = useQuery({
    queryKey: keys.approvals(params),
    queryFn: () => api<TaskPage>(`/api/approvals/${queryString(params)}`),
    staleTime: Number.POSITIVE_INFINITY, // the inbox socket says when it changes
  });
  useEffect(() => {
    if (list.error) notifyError(list.error, "Inbox");
  }, [list.error]);

  // The server's order; by time left it is byUrgency's too, kept here for a patched cache.
  const all = useMemo(() => {
    const results = [...(list.data?.results ?? [])];
    return sort === "due" ? results.sort(byUrgency) : results;
  }, [list.data, sort]);
  const tasks = useMemo(() => filterTasks(all, { workflow, overdueOnly }, now), [all, workflow, overdueOnly, now]);
  const workflows = useMemo(() => workflowsOf(all), [all]);
  const overdue = useMemo(() => all.filter((t) => dueState(t.due_at, now) === "overdue").length, [all, now]);

  // The task on show: the address's, else (on a desktop) the first of the list.
  const listed = selectedId === null ? undefined : tasks.find((t) => t.id === selectedId);
  const shownId = selectedId ?? (phone ? null : (tasks[0]?.id ?? null));
  // A task no longer in the list (decided meanwhile, a shared link) is read on its own.
  const single = useQuery({
    queryKey: keys.approvals({ task: selectedId }),
    queryFn: () => api<Task>(`/api/approvals/${selectedId}/`),
    enabled: selectedId !== null && !listed && list.isSuccess,
    retry: false,
  });
  const shown: Task | undefined =
    shownId === null ? undefined : (tasks.find((t) => t.id === shownId) ?? (shownId === selectedId ? single.data : undefined));

  // Bulk decisions: the approvals picked in the list (UI state; ids no longer listed drop out).
  const [checked, setChecked] = useState<Set<number>>(() => new Set());
  const [failures, setFailures] = useState<Failures | null>(null);
  const selectable = useMemo(() => bulkSelectable(tasks), [tasks]);
  const selectableIds = useMemo(() => new Set(selectable.map((t) => t.id)), [selectable]);
  const picked = useMemo(() => selectable.filter((t) => checked.has(t.id)), [selectable, checked]);
  const pickedIds = useMemo(() => new Set(picked.map((t) => t.id)), [picked]);
  const toggle = useCallback(
    (id: number) =>
      setChecked((was) => {
        const next = new Set(was);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    [],
  );
  const allPicked = selectable.length > 0 && picked.length === selectable.length;
  const pickAll = () => setChecked(allPicked ? new Set() : new Set(selectableIds));

  const afterDecision = (id: number) => {
    const next = phone ? null : nextTaskId(tasks, id);
    navigate(next === null ? "/inbox" : `/inbox/${next}`, { replace: true });
  };
  const filtered = kind !== "all" || workflow !== null || overdueOnly;
  // The palette (Ctrl+K) offers the filters and the most urgent task.
  const first = useMemo(() => (sort === "due" ? tasks[0] : [...tasks].sort(byUrgency)[0]), [tasks, sort]);
  const commands = useMemo(
    () => [
      ...(first
        ? [
            {
              id: "inbox:first",
              label: "Open the most urgent task",
              description: first.title,
              leftSection: <IconListCheck size={18} />,
              onClick: () => navigate(`/inbox/${first.id}`),
            },
          ]
        : []),
      {
        id: "inbox:overdue",
        label: "Show overdue tasks",
        leftSection: <IconClockExclamation size={18} />,
        onClick: () => setOverdueOnly(true),
      },
      {
        id: "inbox:approvals",
        label: "Show approvals only",
        leftSection: <IconUserCheck size={18} />,
        onClick: () => setKind("approval"),
      },
      {
        id: "inbox:forms",
        label: "Show forms only",
        leftSection: <IconForms size={18} />,
        onClick: () => setKind("form"),
      },
    ],
    [first, navigate],
  );
  usePageCommands("inbox", commands);
  const clear = () => {
    setKind("all");
    setWorkflow(null);
    setOverdueOnly(false);
  };

  const header = (
    <PageHeader
      title="Inbox"
      id="inbox-title"
      description="Approvals and forms that workflows ask of you or your groups, most urgent first."
      actions={<LiveBadge />}
    />
  );

  // On a phone an open task fills the screen.
  if (phone && selectedId !== null) {
    return (
      <Box component="section" aria-labelledby="inbox-title" className={classes.page}>
        <VisuallyHidden>
          <h1 id="inbox-title">Inbox</h1>
        </VisuallyHidden>
        {shown ? (
          <TaskDetail
            task={shown}
            me={me.data}
            phone
            onBack={() => navigate("/inbox")}
            onDone={() => afterDecision(shown.id)}
          />
        ) : single.isError ? (
          <Empty
            icon={<IconListCheck size={28} />}
            title="This task is not here any more."
            description="It was decided, or it is not yours to see."
          />
        ) : (
          <Center h={200}>
            <Loader size="sm" aria-label="Loading the task" />
          </Center>
        )}
      </Box>
    );
  }

  const filters = (
    <Group gap="xs" wrap="wrap" className={classes.filters} role="search" aria-label="Task filters">
      <SegmentedControl
        size="md"
        classNames={{ label: classes.segment }}
        value={kind}
        onChange={(value) => setKind(value as Kind)}
        aria-label="Kind of task"
        data={[
          { value: "all", label: "All" },
          {
            value: "approval",
            label: (
              <Group gap={6} wrap="nowrap" justify="center">
                <IconUserCheck size={16} aria-hidden="true" />
                <span>Approvals</span>
              </Group>
            ),
          },
          {
            value: "form",
            label: (
              <Group gap={6} wrap="nowrap" justify="center">
                <IconForms size={16} aria-hidden="true" />
                <span>Forms</span>
              </Group>
            ),
          },
        ]}
      />
      <Select
        aria-label="Workflow"
        placeholder="All workflows"
        data={workflows}
        value={workflow}
        onChange={setWorkflow}
        clearable
        searchable
        style={{ flex: "1 1 160px", maxWidth: 320 }}
        size="md"
      />
      <Button
        variant={overdueOnly ? "light" : "default"}
        color={overdueOnly ? "red" : "gray"}
        size="md"
        aria-pressed={overdueOnly}
        leftSection={<IconClockExclamation size={18} />}
        onClick={() => setOverdueOnly((v) => !v)}
      >
        Overdue{overdue ? ` (${overdue})` : ""}
      </Button>
      <SegmentedControl
        size="md"
        classNames={{ label: classes.segment }}
        value={sort}
        onChange={(value) => setSort(value as Sort)}
        aria-label="Sort tasks"
        data={[
          {
            value: "due",
            label: (
              <Group gap={6} wrap="nowrap" justify="center">
                <IconHourglass size={16} aria-hidden="true" />
                <span>Due first</span>
              </Group>
            ),
          },
          {
            value: "newest",
            label: (
              <Group gap={6} wrap="nowrap" justify="center">
                <IconSortDescending size={16} aria-hidden="true" />
                <span>Newest</span>
              </Group>
            ),
          },
        ]}
      />
    </Group>
  );

  let body;
  if (list.isPending) {
    body = (
      <Center h={200}>
        <Loader size="sm" aria-label="Loading the inbox" />
      </Center>
    );
  } else if (all.length === 0 && !filtered && selectedId === null) {
    body = <InboxEmpty me={me.data} />;
  } else {
    body = (
      <div className={classes.layout}>
        <div className={classes.listColumn}>
          {all.length > 0 || filtered ? filters : null}
          {selectable.length > 0 && (
            <Group gap="xs" mb="xs" wrap="nowrap">
              <Checkbox
                size="md"
                className={classes.pick}
                checked={allPicked}
                indeterminate={picked.length > 0 && !allPicked}
                onChange={pickAll}
                aria-label="Select all approvals shown"
              />
              <Text size="sm" c="dimmed">
                {picked.length ? `${picked.length} of ${selectable.length} approvals selected` : "Select approvals to decide them together"}
              </Text>
            </Group>
          )}
          <BulkBar
            selected={picked}
            onClear={() => setChecked(new Set())}
            onDone={(decided, failed) => {
              setChecked((was) => new Set([...was].filter((id) => !decided.includes(id))));
              setFailures(failed);
            }}
          />
          {tasks.length ? (
            <TaskList
              tasks={tasks}
              selectedId={shownId}
              me={me.data?.username}
              checked={pickedIds}
              selectable={selectableIds}
              onToggle={toggle}
            />
          ) : all.length === 0 && !filtered ? (
            <InboxEmpty me={me.data} />
          ) : (
            <Empty
              icon={<IconFilterOff size={28} />}
              title="No task matches these filters."
              description="Other open tasks are hidden by the filters above."
              actions={
                <Button variant="default" size="md" leftSection={<IconFilterOff size={18} />} onClick={clear}>
                  Clear the filters
                </Button>
              }
            />
          )}
          {(list.data?.count ?? 0) > PAGE_SIZE && (
            <Text size="xs" c="dimmed" mt="xs">
              The {PAGE_SIZE} {sort === "due" ? "most urgent" : "most recent"} of {list.data?.count} open tasks.
            </Text>
          )}
        </div>
        {!phone && (
          <div className={classes.detailColumn}>
            {shown ? (
              <TaskDetail
                task={shown}
                me={me.data}
                phone={false}
                onBack={() => navigate("/inbox")}
                onDone={() => afterDecision(shown.id)}
              />
            ) : (
              <Empty
                icon={<IconListCheck size={28} />}
                title={selectedId !== null && single.isError ? "This task is not here any more." : "Pick a task"}
                description="Choose a task on the left to read it and decide."
              />
            )}
          </div>
        )}
      </div>
    );
  }

  return (
    <Box component="section" aria-labelledby="inbox-title" className={classes.page}>
      {header}
      <AwayBanner me={me.data?.username} now={now} />
      <BulkResults failures={failures} onDismiss={() => setFailures(null)} />
      {body}
    </Box>
  );
}
