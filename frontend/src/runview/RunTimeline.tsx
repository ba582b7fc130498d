/** The run's timeline (issue 18, item 7): where the time went (working, waiting for people,
 * for timers and retries), then a row per step with a bar per attempt, wait and backoff, on
 * one time axis whose long idle stretches are compressed into labelled fixed-width breaks.
 * The maths is in timeline.ts; colours come from the status palette (CSS variables from
 * status.ts, right in light and dark), the patterns that tell waiting from working from the
 * module's CSS. */
import { Box, Group, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { type CSSProperties, useMemo } from "react";

import type { LiveEvent } from "../live";
import { statusVar } from "../status";
import { exactTime } from "../ui/RelativeTime";
import { compensationBarColours, compensationLinks } from "./compensation";
import { type RunStep, formatDuration } from "./model";
import classes from "./RunTimeline.module.css";
import { BREAK_PX, type Segment, type Summary, type X, cssX, segmentLabel, timeline } from "./timeline";

const PEOPLE = { "--bar": "var(--mantine-color-grape-filled)", "--bar-light": "var(--mantine-color-grape-light)" };

const clock = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour12: false });

const at = (left: X, width?: X): CSSProperties => ({ left: cssX(left), ...(width ? { width: cssX(width) } : {}) });

function Figure({ label, value }: { label: string; value: number }) {
  return (
    <div className={classes.figure}>
      <Text component="dt" size="xs" c="dimmed">
        {label}
      </Text>
      <Text component="dd" size="sm" fw={600}>
        {formatDuration(value)}
      </Text>
    </div>
  );
}

/** Where the time went, each instant counted once (work first, then people, then timers). */
function TimeSummary({ summary, open }: { summary: Summary; open: boolean }) {
  return (
    <Box component="dl" aria-label="Where the time went" className={classes.summary}>
      <Figure label={open ? "Total so far" : "Total"} value={summary.total} />
      <Figure label="Working" value={summary.working} />
      <Figure label="Waiting for people" value={summary.people} />
      <Figure label="Waiting for timers and retries" value={summary.timers} />
      {summary.children > 0 && <Figure label="Waiting for child runs" value={summary.children} />}
      {summary.idle >= 1000 && <Figure label="Queued or between steps" value={summary.idle} />}
    </Box>
  );
}

/** What the bars' looks mean. */
function Legend({ gaps, compensation }: { gaps: boolean; compensation: boolean }) {
  const items: [string, string][] = [
    ["working", "Attempt (colour: how it ended)"],
    ["people", "Waiting for people"],
    ["timers", "Timer or backoff"],
  ];
  if (compensation) items.push(["compensation", "Compensation (undoing a step)"]);
  if (gaps) items.push(["break", "Gap not drawn to scale"]);
  return (
    <Group component="ul" gap="md" className={classes.legend} aria-label="Timeline legend">
      {items.map(([swatch, label]) => (
        <Text component="li" key={swatch} size="xs" c="dimmed">
          <span className={classes.swatch} data-swatch={swatch} aria-hidden="true" /> {label}
        </Text>
      ))}
    </Group>
  );
}

function Bar({ node, segment, undoes }: { node: string; segment: Segment; undoes: string | null }) {
  const label = segmentLabel(node, segment, clock) + (undoes ? `, undoing ${undoes}` : "");
  // Waiting for people has its own colour whatever the step's status (the dashboard's human
  // work view uses the same); a compensation's work is orange (issue 20) unless it failed;
  // everything else takes the status palette's.
  const compensation = undoes ? compensationBarColours(segment.status, statusVar) : null;
  const colours = (
    segment.wait === "people"
      ? PEOPLE
      : compensation
        ? { "--bar": compensation.bar, "--bar-light": compensation.light }
        : { "--bar": statusVar(segment.status), "--bar-light": statusVar(segment.status, "light") }
  ) as CSSProperties;
  return (
    <Tooltip label={label}>
      <span
        role="img"
        aria-label={label}
        className={classes.bar}
        data-open={segment.open || undefined}
        data-kind={segment.kind}
        data-wait={segment.wait ?? undefined}
        data-attempt={segment.attempt ?? undefined}
        data-compensation={undoes ? true : undefined}
        style={{ ...colours, ...at(segment.left, segment.width) }}
      />
    </Tooltip>
  );
}

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
  // Compensations by the steps' own word (a bar exists only once its row does).
  const undone = useMemo(() => {
    const map = new Map<string, string>();
    for (const [node, link] of compensationLinks(steps, null)) if (link.undoes) map.set(node, link.undoes);
    return map;
  }, [steps]);
  if (!chart) {
    return (
      <Text size="sm" c="dimmed" py="md">
        No step has started yet: bars appear here as the steps run.
      </Text>
    );
  }
  const open = chart.rows.some((r) => r.duration === null);
  const undoneLabel = (node: string) => {
    const undoes = undone.get(node);
    return undoes ? (labels.get(undoes) ?? undoes) : null;
  };
  // Breaks are fixed-width: a chart with several needs room, and scrolls inside its box on a
  // narrow screen rather than squeezing the time drawn to scale to nothing.
  const chartStyle = { "--fd-breaks": chart.gaps.length, "--fd-break": `${BREAK_PX}px` } as CSSProperties;
  return (
    <Box>
      <TimeSummary summary={chart.summary} open={open} />
      <Legend gaps={chart.gaps.length > 0} compensation={undone.size > 0} />
      <div className={classes.scroller}>
        <div className={classes.chart} style={chartStyle}>
          {chart.gaps.length > 0 && (
            <div className={classes.row}>
              <span />
              <Box component="ul" aria-label="Compressed gaps" className={classes.gaps}>
                {chart.gaps.map((gap) => (
                  <li key={gap.from} className={classes.gap} style={at(gap.left)} title={`${gap.label}, not drawn to scale`}>
                    <Text span size="xs" fw={600} className={classes.gapLength}>
                      ⋯ {formatDuration(gap.to - gap.from)} ⋯
                    </Text>{" "}
                    <Text span size="xs" c="dimmed">
                      {gap.what}
                    </Text>
                  </li>
                ))}
              </Box>
              <span />
            </div>
          )}
          <Box component="ul" aria-label="Timeline" className={classes.list}>
            {chart.rows.map((row) => (
              <li key={row.node} className={classes.row} data-selected={row.node === selected || undefined}>
                <UnstyledButton className={classes.name} onClick={() => onSelect(row.node)} aria-label={`Inspect ${labels.get(row.node) ?? row.node} on the timeline`}>
                  <Text size="sm" truncate>
                    {labels.get(row.node) ?? row.node}
                  </Text>
                </UnstyledButton>
                <span className={classes.track}>
                  {row.segments.map((segment, index) => (
                    <Bar key={index} node={row.node} segment={segment} undoes={undoneLabel(row.node)} />
                  ))}
                  {chart.gaps.map((gap) => (
                    <span key={gap.from} className={classes.break} style={at(gap.left)} aria-hidden="true" />
                  ))}
                </span>
                <Text size="xs" c="dimmed" className={classes.duration} title={row.duration === null ? "so far" : undefined}>
                  {formatDuration(row.duration ?? now - row.segments[0].from)}
                  {row.duration === null ? "…" : ""}
                </Text>
              </li>
            ))}
          </Box>
          <div className={classes.row} aria-hidden="true">
            <span />
            <Group justify="space-between" gap="xs" wrap="nowrap">
              <Text size="xs" c="dimmed" truncate>
                {exactTime(chart.start)}
              </Text>
              <Text size="xs" c="dimmed" className={classes.nowrap}>
                +{formatDuration(chart.end - chart.start)}
              </Text>
            </Group>
            <span />
          </div>
        </div>
      </div>
    </Box>
  );
}
