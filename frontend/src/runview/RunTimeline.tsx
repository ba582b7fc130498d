/** The run's timeline: a row per step, a bar per attempt, wait and backoff, in the status
 * palette (CSS variables from status.ts: right in light and dark), on one time scale. */
import { Box, Group, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { useMemo } from "react";

import type { LiveEvent } from "../live";
import { statusVar } from "../status";
import { exactTime } from "../ui/RelativeTime";
import { type RunStep, formatDuration, segmentLabel, timeline } from "./model";
import classes from "./RunTimeline.module.css";

const clock = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour12: false });

export function RunTimeline({
  steps,
  events,
  labels,
  now,
  selected,
  onSelect,
}: {
  steps: RunStep[];
  events: LiveEvent[];
  labels: Map<string, string>;
  now: number;
  selected: string | null;
  onSelect: (node: string) => void;
}) {
  const chart = useMemo(() => timeline(steps, events, now), [steps, events, now]);
  if (!chart) {
    return (
      <Text size="sm" c="dimmed" py="md">
        No step has started yet: bars appear here as the steps run.
      </Text>
    );
  }
  return (
    <Box>
      <Group justify="space-between" className={classes.axis} aria-hidden="true">
        <Text size="xs" c="dimmed">
          {exactTime(chart.start)}
        </Text>
        <Text size="xs" c="dimmed">
          +{formatDuration(chart.end - chart.start)}
        </Text>
      </Group>
      <Box component="ul" aria-label="Timeline" className={classes.list}>
        {chart.rows.map((row) => (
          <li key={row.node} className={classes.row} data-selected={row.node === selected || undefined}>
            <UnstyledButton className={classes.name} onClick={() => onSelect(row.node)} aria-label={`Inspect ${labels.get(row.node) ?? row.node} on the timeline`}>
              <Text size="sm" truncate>
                {labels.get(row.node) ?? row.node}
              </Text>
            </UnstyledButton>
            <span className={classes.track}>
              {row.segments.map((segment, index) => {
                const label = segmentLabel(row.node, segment, clock);
                return (
                  <Tooltip key={index} label={label}>
                    <span
                      role="img"
                      aria-label={label}
                      className={classes.bar}
                      data-open={segment.open || undefined}
                      data-kind={segment.kind}
                      style={{ left: `${segment.left}%`, width: `${segment.width}%`, background: statusVar(segment.status) }}
                    />
                  </Tooltip>
                );
              })}
            </span>
            <Text size="xs" c="dimmed" className={classes.duration}>
              {formatDuration(row.duration)}
            </Text>
          </li>
        ))}
      </Box>
    </Box>
  );
}
