/** Where the time and the failures go: the failing workflows, the slowest and the busiest steps
 * of the window, as sortable tables (mantine-datatable), each row leading to the runs. */
import { Anchor, Group, Paper, Progress, Text, Title } from "@mantine/core";
import { DataTable } from "mantine-datatable";
import { type ReactNode, useMemo, useState } from "react";
import { Link } from "react-router";

import { queryString } from "../../query";
import classes from "./Dashboard.module.css";
import { type SortStatus, type Stats, percent, seconds, sortRecords } from "./kpi";

type Failing = Stats["failing_workflows"][number];
type Slow = Stats["slowest_steps"][number];
type Busy = Stats["busiest_steps"][number];

export function useSorted<T>(records: T[], initial: SortStatus<T>) {
  const [sortStatus, setSortStatus] = useState<SortStatus<T>>(initial);
  const sorted = useMemo(() => sortRecords(records, sortStatus), [records, sortStatus]);
  return { sorted, sortStatus, setSortStatus };
}

export function TableCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md" className={classes.tableCard}>
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

function runsLink(workflow: number, status?: string): string {
  return `/runs${queryString({ workflow, status })}`;
}

export function StepName({ node, workflow }: { node: string; workflow: string }) {
  return (
    <div style={{ minWidth: 0 }}>
      <Text size="sm" ff="monospace" truncate="end">
        {node}
      </Text>
      <Text size="xs" c="dimmed" truncate="end">
        {workflow}
      </Text>
    </div>
  );
}

export const common = {
  withTableBorder: false,
  borderRadius: "md",
  verticalSpacing: 6,
  horizontalSpacing: "xs",
  highlightOnHover: true,
  minHeight: 120,
  noRecordsText: "",
  fz: "sm",
} as const;

export function FailingWorkflows({ rows }: { rows: Failing[] }) {
  const { sorted, sortStatus, setSortStatus } = useSorted(rows, { columnAccessor: "failed", direction: "desc" });
  return (
    <TableCard title="Failing workflows">
      <DataTable<Failing>
        {...common}
        aria-label="Failing workflows"
        idAccessor="workflow"
        records={sorted}
        sortStatus={sortStatus}
        onSortStatusChange={setSortStatus}
        emptyState={<Text size="sm" c="dimmed">No run failed in this window.</Text>}
        columns={[
          {
            accessor: "workflow_name",
            title: "Workflow",
            sortable: true,
            render: (r) => (
              <Anchor component={Link} to={runsLink(r.workflow, "failed")} size="sm">
                {r.workflow_name}
              </Anchor>
            ),
          },
          { accessor: "failed", title: "Failed", sortable: true, textAlign: "right", width: 70 },
          {
            accessor: "failure_rate",
            title: "Rate",
            sortable: true,
            width: 130,
            render: (r) => (
              <Group gap={6} wrap="nowrap">
                <Progress value={r.failure_rate * 100} color="red" size="sm" w={40} aria-hidden="true" />
                <Text size="xs" style={{ whiteSpace: "nowrap" }}>
                  {percent(r.failure_rate)}
                </Text>
              </Group>
            ),
          },
        ]}
      />
    </TableCard>
  );
}

export function SlowestSteps({ rows }: { rows: Slow[] }) {
  const { sorted, sortStatus, setSortStatus } = useSorted(rows, { columnAccessor: "mean_s", direction: "desc" });
  return (
    <TableCard title="Slowest steps">
      <DataTable<Slow>
        {...common}
        aria-label="Slowest steps"
        idAccessor={(r) => `${r.workflow}:${r.node}`}
        records={sorted}
        sortStatus={sortStatus}
        onSortStatusChange={setSortStatus}
        emptyState={<Text size="sm" c="dimmed">No step ended in this window.</Text>}
        columns={[
          {
            accessor: "node",
            title: "Step",
            sortable: true,
            render: (r) => <StepName node={r.node} workflow={r.workflow_name} />,
          },
          { accessor: "mean_s", title: "Mean", sortable: true, textAlign: "right", render: (r) => seconds(r.mean_s) },
          { accessor: "p95_s", title: "p95", sortable: true, textAlign: "right", render: (r) => seconds(r.p95_s) },
        ]}
      />
    </TableCard>
  );
}

export function BusiestSteps({ rows }: { rows: Busy[] }) {
  const { sorted, sortStatus, setSortStatus } = useSorted(rows, { columnAccessor: "attempts", direction: "desc" });
  return (
    <TableCard title="Busiest steps">
      <DataTable<Busy>
        {...common}
        aria-label="Busiest steps"
        idAccessor={(r) => `${r.workflow}:${r.node}`}
        records={sorted}
        sortStatus={sortStatus}
        onSortStatusChange={setSortStatus}
        emptyState={<Text size="sm" c="dimmed">No step ran in this window.</Text>}
        columns={[
          {
            accessor: "node",
            title: "Step",
            sortable: true,
            render: (r) => <StepName node={r.node} workflow={r.workflow_name} />,
          },
          {
            accessor: "attempts",
            title: "Attempts",
            sortable: true,
            textAlign: "right",
            render: (r) => (
              <div>
                <Text size="sm">{r.attempts}</Text>
                {r.attempts > r.step_runs && (
                  <Text size="xs" c="dimmed" style={{ whiteSpace: "nowrap" }}>
                    +{r.attempts - r.step_runs} {r.attempts - r.step_runs === 1 ? "retry" : "retries"}
                  </Text>
                )}
              </div>
            ),
          },
        ]}
      />
    </TableCard>
  );
}
