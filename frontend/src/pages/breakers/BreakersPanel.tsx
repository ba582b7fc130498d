/**
 * Circuit breakers where operators look: the dashboard's panel lists the open and half-open
 * ones (GET /api/breakers/?tripped=true) with their failure counts and times, and whoever may
 * close one (staff, the credential's editors) closes it here (POST /api/breakers/<id>/close/,
 * audited on the server). The credentials page shows each credential's breaker with
 * `CredentialBreaker`.
 */
import { Badge, Button, Group, Paper, Text, Title, Tooltip } from "@mantine/core";
import { IconCircuitSwitchClosed, IconPlugConnected } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DataTable } from "mantine-datatable";

import { api } from "../../api";
import { type Breaker, STATE_COLORS, STATE_LABELS, breakerName, failureCount, nextStep } from "../../breakers";
import { keys, queryString } from "../../query";
import { RelativeTime } from "../../ui/RelativeTime";
import { notifyError, notifySuccess } from "../../ui/notify";
import classes from "../dashboard/Dashboard.module.css";

function useCloseBreaker() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (breaker: Breaker) => api<Breaker>(`/api/breakers/${breaker.id}/close/`, { method: "POST", body: {} }),
    onSuccess: (_, breaker) => notifySuccess("Calls go through again; its failures are forgotten.", `Closed ${breakerName(breaker)}`),
    onError: (error) => notifyError(error, "Close the breaker"),
    onSettled: () => client.invalidateQueries({ queryKey: ["breakers"] }),
  });
}

export function StateBadge({ breaker }: { breaker: Pick<Breaker, "state"> }) {
  return (
    <Badge color={STATE_COLORS[breaker.state]} variant="light">
      {STATE_LABELS[breaker.state]}
    </Badge>
  );
}

function CloseButton({ breaker, close }: { breaker: Breaker; close: ReturnType<typeof useCloseBreaker> }) {
  if (!breaker.may_close) return null;
  return (
    <Button
      size="sm"
      h={40}
      variant="light"
      leftSection={<IconCircuitSwitchClosed size={16} />}
      loading={close.isPending && close.variables?.id === breaker.id}
      onClick={() => close.mutate(breaker)}
      aria-label={`Close breaker ${breaker.key}`}
    >
      Close
    </Button>
  );
}

export function BreakersPanel() {
  const close = useCloseBreaker();
  const params = { tripped: true };
  const list = useQuery({
    queryKey: keys.breakers(params),
    queryFn: () => api<Breaker[]>(`/api/breakers/${queryString(params)}`),
    // Breakers change in the workers, not through run events: read again every 15 s.
    refetchInterval: 15_000,
  });
  const rows = list.data ?? [];
  return (
    <Paper withBorder p="md" className={classes.tableCard} mb="md" component="section" aria-label="Circuit breakers">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Circuit breakers
        </Title>
        {rows.length > 0 && (
          <Badge color="red" variant="light">
            {rows.length} tripped
          </Badge>
        )}
      </Group>
      <DataTable<Breaker>
        withTableBorder={false}
        verticalSpacing={6}
        horizontalSpacing="xs"
        highlightOnHover
        minHeight={rows.length ? undefined : 90}
        noRecordsText=""
        fz="sm"
        aria-label="Tripped circuit breakers"
        records={rows}
        fetching={list.isPending}
        customRowAttributes={(b) => ({ "data-id": b.id })}
        emptyState={
          <Group gap={6} c="dimmed">
            <IconPlugConnected size={18} aria-hidden="true" />
            <Text size="sm">Every breaker is closed: calls go through.</Text>
          </Group>
        }
        columns={[
          {
            accessor: "key",
            title: "Breaker",
            render: (b) => (
              <div>
                <Text size="sm" fw={600}>
                  {breakerName(b)}
                </Text>
                {b.last_error.message && (
                  <Text size="xs" c="dimmed" lineClamp={1} title={b.last_error.message}>
                    {b.last_error.message}
                  </Text>
                )}
              </div>
            ),
          },
          { accessor: "state", title: "State", width: 110, render: (b) => <StateBadge breaker={b} /> },
          {
            accessor: "failures",
            title: "Failures",
            render: (b) => (
              <div>
                <Text size="sm">{failureCount(b)}</Text>
                <Text size="xs" c="dimmed">
                  {b.failures_total} in all · opened {b.opens_total}×
                </Text>
              </div>
            ),
          },
          {
            accessor: "opened_at",
            title: "Opened",
            width: 170,
            render: (b) => (
              <div>
                <RelativeTime value={b.opened_at} size="sm" />
                <Text size="xs" c="dimmed">
                  {nextStep(b)}
                </Text>
              </div>
            ),
          },
          {
            accessor: "actions",
            title: <span className="fd-visually-hidden">Actions</span>,
            textAlign: "right",
            width: 110,
            render: (b) => <CloseButton breaker={b} close={close} />,
          },
        ]}
      />
    </Paper>
  );
}

/** The credentials page's column: the credential's breaker, if it has one, with Close. */
export function CredentialBreaker({ breaker }: { breaker: Breaker | undefined }) {
  const close = useCloseBreaker();
  if (!breaker) {
    return (
      <Text size="sm" c="dimmed">
        —
      </Text>
    );
  }
  return (
    <Group gap="xs" wrap="nowrap">
      <Tooltip label={`${failureCount(breaker)}${breaker.state === "closed" ? "" : ` · ${nextStep(breaker)}`}`}>
        <span>
          <StateBadge breaker={breaker} />
        </span>
      </Tooltip>
      {breaker.state !== "closed" && <CloseButton breaker={breaker} close={close} />}
    </Group>
  );
}

/** The credentials' breakers by credential name (one query for the whole page). */
export function useCredentialBreakers(): Map<string, Breaker> {
  const params = { scope: "credential" };
  const list = useQuery({
    queryKey: keys.breakers(params),
    queryFn: () => api<Breaker[]>(`/api/breakers/${queryString(params)}`),
    refetchInterval: 15_000,
  });
  return new Map((list.data ?? []).map((b) => [b.target, b]));
}
