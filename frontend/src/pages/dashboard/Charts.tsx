/** The dashboard's charts (@mantine/charts on Recharts), coloured from the status palette:
 * runs per hour or day by outcome, and the window's outcomes as a donut. Text and grid take the
 * theme's colours, so they read in both schemes. */
import { BarChart, DonutChart } from "@mantine/charts";
import { Group, Paper, Stack, Text, Title } from "@mantine/core";

import { statusLook } from "../../status";
import classes from "./Dashboard.module.css";
import { type Stats, chartColor, chartData, chartVar, finished, percent, successRate } from "./kpi";

const OUTCOMES = ["succeeded", "failed", "cancelled"] as const;

export function RunsChart({ stats }: { stats: Stats }) {
  const unit = stats.interval === "1d" ? "day" : "hour";
  return (
    <Paper withBorder p="md" component="figure" aria-label="Runs per interval" className={classes.chartCard}>
      <Group justify="space-between" mb="sm" wrap="wrap" gap="xs">
        <Title order={2} size="h4" component="figcaption">
          Runs finished per {unit}
        </Title>
        <Text size="xs" c="dimmed">
          {stats.totals.started} started · {finished(stats.totals)} finished
        </Text>
      </Group>
      <BarChart
        h={240}
        data={chartData(stats)}
        dataKey="label"
        type="stacked"
        withLegend
        legendProps={{ verticalAlign: "bottom", height: 36 }}
        series={OUTCOMES.map((status) => ({ name: status, label: statusLook(status).label, color: chartColor(status) }))}
        tickLine="y"
        gridAxis="y"
        yAxisProps={{ allowDecimals: false, width: 32 }}
        xAxisProps={{ minTickGap: 16 }}
        maxBarWidth={28}
        barProps={{ isAnimationActive: false }}
        textColor="var(--fd-chart-text)"
      />
    </Paper>
  );
}

export function OutcomeDonut({ stats }: { stats: Stats }) {
  const data = OUTCOMES.map((status) => ({
    name: statusLook(status).label,
    value: stats.totals[status],
    color: chartColor(status),
  })).filter((d) => d.value > 0);
  const rate = successRate(stats.totals);
  return (
    <Paper withBorder p="md" component="figure" aria-label="Outcomes" className={classes.chartCard}>
      <Title order={2} size="h4" component="figcaption" mb="sm">
        Outcomes
      </Title>
      <Stack align="center" gap="sm">
        {data.length ? (
          <DonutChart
            data={data}
            size={170}
            thickness={22}
            withTooltip
            tooltipDataSource="segment"
            chartLabel={rate === null ? "—" : percent(rate).replace(" ", "")}
            pieProps={{ isAnimationActive: false }}
          />
        ) : (
          <Text size="sm" c="dimmed" py="xl">
            No run finished in this window.
          </Text>
        )}
        <Group gap="md" justify="center" wrap="wrap">
          {OUTCOMES.map((status) => (
            <Group key={status} gap={6} wrap="nowrap">
              <span className={classes.swatch} style={{ background: chartVar(status) }} />
              <Text size="xs">
                {statusLook(status).label} <b>{stats.totals[status]}</b>
              </Text>
            </Group>
          ))}
        </Group>
      </Stack>
    </Paper>
  );
}
