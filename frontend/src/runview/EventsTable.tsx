/** The run's event log, newest first, growing live. */
import { Code, Text, Tooltip } from "@mantine/core";
import { DataTable } from "mantine-datatable";
import { useMemo } from "react";

import type { LiveEvent } from "../live";
import { exactTime } from "../ui/RelativeTime";
import { eventSummary } from "./model";

const clock = (iso: string) => {
  const d = new Date(iso);
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
};

export function EventsTable({ events, loading }: { events: LiveEvent[]; loading: boolean }) {
  const records = useMemo(() => [...events].reverse(), [events]);
  return (
    <DataTable
      aria-label="Events"
      withTableBorder
      borderRadius="md"
      striped
      maxHeight={520}
      minHeight={records.length ? undefined : 160}
      fetching={loading && records.length === 0}
      records={records}
      customRowAttributes={(e) => ({ "data-event": e.id })}
      noRecordsText="No events yet"
      verticalAlign="top"
      columns={[
        {
          accessor: "created_at",
          title: "Time",
          noWrap: true,
          render: (e) => (
            <Tooltip label={exactTime(e.created_at)}>
              <Text component="time" dateTime={e.created_at} size="xs" ff="monospace">
                {clock(e.created_at)}
              </Text>
            </Tooltip>
          ),
        },
        { accessor: "type", title: "Event", noWrap: true, render: (e) => <Code>{e.type}</Code> },
        { accessor: "node", title: "Step", render: (e) => (e.node ? <Text size="sm" ff="monospace">{e.node}</Text> : <Text size="sm" c="dimmed">run</Text>) },
        {
          accessor: "actor",
          title: "By",
          visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
          // An email-only assignee has no account: the event names them by address (data.by).
          render: (e) =>
            e.actor ?? (typeof e.data?.by === "string" ? e.data.by : <Text span size="sm" c="dimmed">system</Text>),
        },
        { accessor: "details", title: "Details", render: (e) => <Text size="sm" style={{ wordBreak: "break-word" }}>{eventSummary(e)}</Text> },
      ]}
    />
  );
}
