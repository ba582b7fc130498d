/** The run's steps as a table: each one's status, attempt, time taken and error; a click (or
 * its Inspect button) opens it in the inspector. */
import { Group, Stack, Text, UnstyledButton } from "@mantine/core";
import { IconArrowBackUp } from "@tabler/icons-react";
import { DataTable } from "mantine-datatable";

import type { Catalog, GraphDoc } from "../editor/graph";
import { COMPENSATION_COLOR } from "../status";
import { StepIcon } from "../steps/icons";
import { Countdown } from "../ui/Countdown";
import { StatusBadge } from "../ui/StatusBadge";
import { type RunStep, elapsed, formatDuration } from "./model";
import { LIST_TABLE } from "../ui/table";

export function StepsTable({
  steps,
  graph,
  catalog,
  now,
  selected,
  onSelect,
  compact = false,
}: {
  /** A narrower table (the inspector is open beside it): the type is left out. */
  compact?: boolean;
  steps: RunStep[];
  graph: GraphDoc | undefined;
  catalog: Catalog | undefined;
  now: number;
  selected: string | null;
  onSelect: (node: string) => void;
}) {
  const docs = new Map((graph?.nodes ?? []).map((n) => [n.id, n]));
  // The graph's order where it is known (the order the author gave the steps).
  const order = new Map((graph?.nodes ?? []).map((n, i) => [n.id, i]));
  const records = [...steps].sort((a, b) => (order.get(a.node) ?? 1e9) - (order.get(b.node) ?? 1e9));
  return (
    <DataTable
      aria-label="Steps"
      {...LIST_TABLE}
      idAccessor="node"
      records={records}
      onRowClick={({ record }) => onSelect(record.node)}
      rowClassName={(s) => (s.node === selected ? "fd-row-selected" : undefined)}
      customRowAttributes={(s) => ({ "data-id": s.node, "data-status": s.status })}
      noRecordsText="This run has no steps yet"
      columns={[
        {
          accessor: "node",
          title: "Step",
          render: (s) => {
            const label = docs.get(s.node)?.label ?? s.node;
            // A compensation (issue 20) says which step it undoes, beside an orange undo arrow.
            const undoes = s.compensates ? `undoes ${docs.get(s.compensates)?.label ?? s.compensates}` : null;
            // The name holds the visible text (WCAG 2.5.3): "Inspect Finance approval approve".
            return (
            <UnstyledButton
              aria-label={`Inspect ${label === s.node ? s.node : `${label} ${s.node}`}${undoes ? ` ${undoes}` : ""}`}
              onClick={(e) => {
                e.stopPropagation();
                onSelect(s.node);
              }}
              mih={40}
            >
              <Group gap="xs" wrap="nowrap">
                <StepIcon type={s.type} category={catalog?.[s.type]?.category} size={28} />
                <div style={{ minWidth: 0 }}>
                  <Text size="sm" fw={500} truncate maw={220}>
                    {label}
                  </Text>
                  {label !== s.node && (
                    <Text size="xs" c="dimmed" ff="monospace">
                      {s.node}
                    </Text>
                  )}
                  {undoes && (
                    <Text size="xs" c="dimmed" data-testid="compensation-of">
                      <IconArrowBackUp
                        size={12}
                        aria-hidden="true"
                        color={`var(--mantine-color-${COMPENSATION_COLOR}-filled)`}
                        style={{ verticalAlign: "-2px" }}
                      />{" "}
                      {undoes}
                    </Text>
                  )}
                </div>
              </Group>
            </UnstyledButton>
            );
          },
        },
        {
          accessor: "type",
          title: "Type",
          hidden: compact,
          visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.md})`,
          render: (s) => (
            <Text size="sm">{catalog?.[s.type]?.title ?? s.type}</Text>
          ),
        },
        {
          accessor: "status",
          title: "Status",
          render: (s) =>
            s.status === "waiting" && s.task?.due_at ? (
              // A waiting person's time left, under the status it explains.
              <Stack gap={4} align="flex-start" maw={220}>
                <StatusBadge status={s.status} />
                <Countdown due={s.task.due_at} from={s.task.due_from} escalatedTo={s.task.escalated_to} size="sm" />
              </Stack>
            ) : (
              <StatusBadge status={s.status} />
            ),
        },
        {
          accessor: "attempt",
          title: "Attempt",
          textAlign: "right",
          noWrap: true,
          visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
        },
        {
          accessor: "took",
          title: "Took",
          textAlign: "right",
          noWrap: true,
          render: (s) => (s.started_at ? formatDuration(elapsed(s.started_at, s.finished_at, now)) : "—"),
        },
        {
          accessor: "error",
          title: "Error",
          visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
          render: (s) =>
            s.error?.message ? (
              <Text size="sm" c="var(--mantine-color-red-light-color)" lineClamp={2} title={s.error.message} maw={360}>
                {s.error.message}
              </Text>
            ) : null,
        },
      ]}
    />
  );
}
