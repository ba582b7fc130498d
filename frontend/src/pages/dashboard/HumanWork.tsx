/** The dashboard's "Human work" view (issue 19, item 5: what approvals cost): for the window,
 * how many tasks people were asked, how long they took (p50/p95), how often the due time was
 * missed, escalations and rejections; per workflow step with a bar chart of the waits
 * (@mantine/charts, in the theme's colours), per person who decided and per assigned group. */
import { BarChart } from "@mantine/charts";
import { Anchor, Box, Group, Paper, Progress, Text, Title } from "@mantine/core";
import { IconAlarm, IconHourglass, IconThumbDown, IconUsers, IconUserCheck } from "@tabler/icons-react";
import { DataTable } from "mantine-datatable";
import { Link } from "react-router";

import { queryString } from "../../query";
import { Empty } from "../../ui/Empty";
import classes from "./Dashboard.module.css";
import { type Assignee, type GroupFigures, type HumanStats, type HumanStep, noHumanWork, wait, waitBars } from "./human";
import { KpiCard } from "./KpiCard";
import { percent } from "./kpi";
import { StepName, TableCard, common, useSorted } from "./StepTables";

/** The waits' colours: the timeline's "waiting for people" hue, light for the median. */
const P50 = "grape.4";
const P95 = "grape.8";

function Rate({ value }: { value: number | null }) {
  return (
    <Group gap={6} wrap="nowrap">
      <Progress value={(value ?? 0) * 100} color="red" size="sm" w={36} aria-hidden="true" />
      <Text size="xs" style={{ whiteSpace: "nowrap" }}>
        {percent(value)}
      </Text>
    </Group>
  );
}

function Totals({ human }: { human: HumanStats }) {
  const t = human.totals;
  return (
    <div className={classes.kpis}>
      <KpiCard label="Tasks asked" icon={IconUserCheck} color="grape" value={t.opened} detail={`${t.closed} closed · ${t.open} open now`} />
      <KpiCard
        label="Time to decide"
        icon={IconHourglass}
        color="grape"
        value={wait(t.wait_p50_s)}
        detail={t.wait_p95_s === null ? "no task closed in the window" : `median · p95 ${wait(t.wait_p95_s)}`}
      />
      <KpiCard
        label="SLA missed"
        icon={IconAlarm}
        color="orange"
        warn={t.breached > 0}
        value={percent(t.breach_rate)}
        detail={t.with_due ? `${t.breached} of ${t.with_due} tasks with a due time · ${t.escalated} escalated` : "no task had a due time"}
      />
      <KpiCard label="Rejected" icon={IconThumbDown} color="red" value={t.rejected} detail={`${t.approved} approved · ${t.timed_out} timed out`} />
    </div>
  );
}

function WaitChart({ steps }: { steps: HumanStep[] }) {
  const { unit, bars } = waitBars(steps);
  return (
    <Paper withBorder p="md" component="figure" aria-label="Waiting for people per step" className={classes.chartCard}>
      <Group justify="space-between" mb="sm" wrap="wrap" gap="xs">
        <Title order={3} size="h4" component="figcaption">
          Waiting for people, per step
        </Title>
        <Text size="xs" c="dimmed">
          created → closed, in {unit.label}
        </Text>
      </Group>
      {bars.length ? (
        <BarChart
          h={Math.max(160, 44 * bars.length + 60)}
          data={bars}
          dataKey="label"
          orientation="vertical"
          withLegend
          legendProps={{ verticalAlign: "bottom", height: 36 }}
          series={[
            { name: "p50", label: "median (p50)", color: P50 },
            { name: "p95", label: "p95", color: P95 },
          ]}
          valueFormatter={(v) => `${v} ${unit.short}`}
          gridAxis="x"
          yAxisProps={{ width: 150 }}
          barProps={{ isAnimationActive: false }}
          textColor="var(--fd-chart-text)"
        />
      ) : (
        <Text size="sm" c="dimmed" py="xl">
          No task closed in this window.
        </Text>
      )}
    </Paper>
  );
}

function StepsTable({ rows }: { rows: HumanStep[] }) {
  const { sorted, sortStatus, setSortStatus } = useSorted(rows, { columnAccessor: "opened", direction: "desc" });
  return (
    <TableCard title="Per workflow step">
      <DataTable<HumanStep>
        {...common}
        aria-label="Human work per step"
        idAccessor={(r) => `${r.workflow}:${r.node}`}
        records={sorted}
        sortStatus={sortStatus}
        onSortStatusChange={setSortStatus}
        columns={[
          {
            accessor: "node",
            title: "Step",
            sortable: true,
            render: (r) => (
              <Anchor component={Link} to={`/runs${queryString({ workflow: r.workflow })}`} underline="never" c="inherit">
                <StepName node={r.node} workflow={r.workflow_name} />
              </Anchor>
            ),
          },
          { accessor: "opened", title: "Opened", sortable: true, textAlign: "right" },
          { accessor: "closed", title: "Closed", sortable: true, textAlign: "right" },
          { accessor: "open", title: "Open", sortable: true, textAlign: "right" },
          { accessor: "wait_p50_s", title: "Wait p50", sortable: true, textAlign: "right", render: (r) => wait(r.wait_p50_s) },
          { accessor: "wait_p95_s", title: "Wait p95", sortable: true, textAlign: "right", render: (r) => wait(r.wait_p95_s) },
          { accessor: "breach_rate", title: "SLA missed", sortable: true, render: (r) => <Rate value={r.breach_rate} /> },
          { accessor: "escalated", title: "Escalated", sortable: true, textAlign: "right" },
          { accessor: "rejected", title: "Rejected", sortable: true, textAlign: "right" },
        ]}
      />
    </TableCard>
  );
}

function AssigneesTable({ rows }: { rows: Assignee[] }) {
  const { sorted, sortStatus, setSortStatus } = useSorted(rows, { columnAccessor: "decisions", direction: "desc" });
  return (
    <TableCard title="Per person">
      <DataTable<Assignee>
        {...common}
        aria-label="Decisions per person"
        idAccessor="user"
        records={sorted}
        sortStatus={sortStatus}
        onSortStatusChange={setSortStatus}
        emptyState={<Text size="sm" c="dimmed">Nobody decided in this window.</Text>}
        columns={[
          { accessor: "user", title: "Person", sortable: true },
          { accessor: "decisions", title: "Decisions", sortable: true, textAlign: "right" },
          { accessor: "approved", title: "Approved", sortable: true, textAlign: "right" },
          { accessor: "rejected", title: "Rejected", sortable: true, textAlign: "right" },
          { accessor: "decision_p50_s", title: "p50", sortable: true, textAlign: "right", render: (r) => wait(r.decision_p50_s) },
        ]}
      />
    </TableCard>
  );
}

function GroupsTable({ rows }: { rows: GroupFigures[] }) {
  const { sorted, sortStatus, setSortStatus } = useSorted(rows, { columnAccessor: "tasks", direction: "desc" });
  return (
    <TableCard title="Per group">
      <DataTable<GroupFigures>
        {...common}
        aria-label="Tasks per group"
        idAccessor="group"
        records={sorted}
        sortStatus={sortStatus}
        onSortStatusChange={setSortStatus}
        emptyState={<Text size="sm" c="dimmed">No task was assigned to a group.</Text>}
        columns={[
          { accessor: "group", title: "Group", sortable: true },
          { accessor: "tasks", title: "Tasks", sortable: true, textAlign: "right" },
          { accessor: "open", title: "Open", sortable: true, textAlign: "right" },
          { accessor: "breached", title: "SLA missed", sortable: true, textAlign: "right" },
          { accessor: "wait_p50_s", title: "Wait p50", sortable: true, textAlign: "right", render: (r) => wait(r.wait_p50_s) },
        ]}
      />
    </TableCard>
  );
}

export function HumanWork({ human }: { human: HumanStats }) {
  return (
    <Box component="section" aria-labelledby="human-work-title" mb="md">
      <Title order={2} size="h3" id="human-work-title" mb={4}>
        Human work
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Approvals and forms closed in the window or open now: how long people took, how often the due time was missed.
      </Text>
      {noHumanWork(human) ? (
        <Empty
          icon={<IconUsers size={28} />}
          title="No human work in this window"
          description="When a workflow asks people to approve or fill in a form, their waits, decisions and missed due times show here."
        />
      ) : (
        <>
          <Totals human={human} />
          <Box mb="md">
            <StepsTable rows={human.steps} />
          </Box>
          <div className={classes.tables}>
            <WaitChart steps={human.steps} />
            <AssigneesTable rows={human.assignees} />
            <GroupsTable rows={human.groups} />
          </div>
        </>
      )}
    </Box>
  );
}
