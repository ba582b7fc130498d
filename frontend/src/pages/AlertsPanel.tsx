/**
 * Alerts in the app (the dashboard shows this panel): open incidents of the rules on the
 * workflows the user may see, with Resolve (acknowledge), and the dead letters, runs that
 * failed for good, with a bulk retry of their failed steps. Both are queries (`keys.alerts`,
 * `keys.deadLetters`) that the dashboard's live feed invalidates.
 */
import { Anchor, Badge, Button, Group, Paper, Text, Title } from "@mantine/core";
import { IconBellCheck, IconRefresh } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DataTable } from "mantine-datatable";
import { useMemo, useState } from "react";
import { Link } from "react-router";

import { api } from "../api";
import { keys, queryString } from "../query";
import { RelativeTime } from "../ui/RelativeTime";
import { notifyError, notifySuccess } from "../ui/notify";
import classes from "./dashboard/Dashboard.module.css";
import { type SortStatus, sortRecords } from "./dashboard/kpi";

type Alert = {
  id: number;
  rule_name: string;
  kind: string;
  summary: string;
  status: string;
  opened_at: string;
  last_sent_at: string | null;
  sends: number;
};

type DeadLetter = {
  id: number;
  workflow_name: string;
  failed_steps: string[];
  finished_at: string | null;
  created_at: string;
};

type RetryAnswer = { results: { run: number; status: string; message: string }[] };

const common = {
  withTableBorder: false,
  verticalSpacing: 6,
  horizontalSpacing: "xs",
  highlightOnHover: true,
  minHeight: 110,
  noRecordsText: "",
  fz: "sm",
} as const;

function OpenAlerts({ workflow }: { workflow: string | null }) {
  const client = useQueryClient();
  const params = { status: "open", workflow: workflow ?? undefined };
  const alerts = useQuery({
    queryKey: keys.alerts(params),
    queryFn: () => api<{ results: Alert[] }>(`/api/alerts/${queryString(params)}`),
  });
  const [sortStatus, setSortStatus] = useState<SortStatus<Alert>>({ columnAccessor: "opened_at", direction: "desc" });
  const rows = useMemo(() => sortRecords(alerts.data?.results ?? [], sortStatus), [alerts.data, sortStatus]);
  const resolve = useMutation({
    mutationFn: (alert: Alert) => api<Alert>(`/api/alerts/${alert.id}/resolve/`, { method: "POST", body: {} }),
    onSuccess: (_, alert) => notifySuccess(alert.summary, "Alert resolved"),
    onError: (error) => notifyError(error, "Resolve"),
    onSettled: () => client.invalidateQueries({ queryKey: ["alerts"] }),
  });
  return (
    <Paper withBorder p="md" className={classes.tableCard}>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Open alerts
        </Title>
        {rows.length > 0 && (
          <Badge color="red" variant="light">
            {rows.length} open
          </Badge>
        )}
      </Group>
      <DataTable<Alert>
        {...common}
        aria-label="Open alerts"
        records={rows}
        fetching={alerts.isPending}
        sortStatus={sortStatus}
        onSortStatusChange={setSortStatus}
        customRowAttributes={(a) => ({ "data-id": a.id })}
        emptyState={
          <Group gap={6} c="dimmed">
            <IconBellCheck size={18} aria-hidden="true" />
            <Text size="sm">No open alerts.</Text>
          </Group>
        }
        columns={[
          {
            accessor: "summary",
            title: "Alert",
            sortable: true,
            render: (a) => (
              <div>
                <Text size="sm">{a.summary}</Text>
                <Text size="xs" c="dimmed">
                  {a.rule_name} · sent {a.sends}×
                </Text>
              </div>
            ),
          },
          {
            accessor: "opened_at",
            title: "Since",
            sortable: true,
            width: 120,
            render: (a) => <RelativeTime value={a.opened_at} size="sm" />,
          },
          {
            accessor: "actions",
            title: <span className="fd-visually-hidden">Actions</span>,
            textAlign: "right",
            width: 110,
            render: (a) => (
              <Button
                size="sm"
                h={40}
                variant="light"
                loading={resolve.isPending && resolve.variables?.id === a.id}
                onClick={() => resolve.mutate(a)}
                aria-label={`Resolve alert ${a.id}`}
              >
                Resolve
              </Button>
            ),
          },
        ]}
      />
    </Paper>
  );
}

function DeadLetters({ workflow }: { workflow: string | null }) {
  const client = useQueryClient();
  const params = { page_size: 50, workflow: workflow ?? undefined };
  const dead = useQuery({
    queryKey: keys.deadLetters(params),
    queryFn: () => api<{ results: DeadLetter[] }>(`/api/runs/dead-letter/${queryString(params)}`),
  });
  const [chosen, setChosen] = useState<DeadLetter[]>([]);
  const rows = dead.data?.results ?? [];
  const retry = useMutation({
    mutationFn: (runs: number[]) =>
      api<RetryAnswer>("/api/runs/dead-letter/retry/", {
        method: "POST",
        body: { runs, reason: "retried from the dashboard" },
      }),
    onSuccess: (answer) => {
      const retried = answer.results.filter((r) => r.status === "retried").length;
      const refused = answer.results.filter((r) => r.status !== "retried");
      notifySuccess(
        refused.length ? `Not retried: ${refused.map((r) => `run ${r.run} (${r.message})`).join(", ")}` : "Their failed steps run again.",
        `Retried ${retried} of ${answer.results.length} runs`,
      );
      setChosen([]);
    },
    onError: (error) => notifyError(error, "Retry"),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: ["dead-letters"] });
      void client.invalidateQueries({ queryKey: ["runs"] });
      void client.invalidateQueries({ queryKey: ["stats"] });
    },
  });
  return (
    <Paper withBorder p="md" className={classes.tableCard}>
      <Group justify="space-between" mb="sm" wrap="wrap" gap="xs">
        <Title order={2} size="h4">
          Failed for good
        </Title>
        <Button
          size="sm"
          h={40}
          variant="light"
          leftSection={<IconRefresh size={16} />}
          disabled={chosen.length === 0}
          loading={retry.isPending}
          onClick={() => retry.mutate(chosen.map((r) => r.id))}
          aria-label="Retry selected dead letters"
        >
          Retry {chosen.length || ""} selected
        </Button>
      </Group>
      <DataTable<DeadLetter>
        {...common}
        aria-label="Failed for good"
        records={rows}
        fetching={dead.isPending}
        selectedRecords={chosen}
        onSelectedRecordsChange={setChosen}
        selectionTrigger="checkbox"
        getRecordSelectionCheckboxProps={(r) => ({ "aria-label": `Select dead letter ${r.id}` })}
        allRecordsSelectionCheckboxProps={{ "aria-label": "Select every dead letter" }}
        customRowAttributes={(r) => ({ "data-id": r.id })}
        emptyState={<Text size="sm" c="dimmed">No run failed for good: nothing waits for an operator.</Text>}
        columns={[
          {
            accessor: "id",
            title: "Run",
            width: 80,
            render: (r) => (
              <Anchor component={Link} to={`/runs/${r.id}`} size="sm">
                Run {r.id}
              </Anchor>
            ),
          },
          {
            accessor: "workflow_name",
            title: "Failed at",
            render: (r) => (
              <div>
                <Text size="sm" ff="monospace">
                  {r.failed_steps.join(", ") || "—"}
                </Text>
                <Text size="xs" c="dimmed">
                  {r.workflow_name}
                </Text>
              </div>
            ),
          },
          {
            accessor: "finished_at",
            title: "Ended",
            width: 120,
            render: (r) => <RelativeTime value={r.finished_at} size="sm" />,
          },
        ]}
      />
    </Paper>
  );
}

export function AlertsPanel({ workflow }: { workflow: string | null }) {
  return (
    <div className={classes.twoColumns}>
      <OpenAlerts workflow={workflow} />
      <DeadLetters workflow={workflow} />
    </div>
  );
}
