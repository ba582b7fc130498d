/** One key figure: its name, its value (large), a line of context, and where the series allows,
 * a sparkline of its buckets over the window. The card is a named group (tests and screen
 * readers find "Runs started" and its value). */
import { Sparkline } from "@mantine/charts";
import { Group, Paper, Text, ThemeIcon } from "@mantine/core";
import type { Icon } from "@tabler/icons-react";
import type { ReactNode } from "react";

import classes from "./Dashboard.module.css";
import { worthDrawing } from "./kpi";

export function KpiCard({
  label,
  value,
  detail,
  icon: IconComponent,
  color = "flow",
  warn = false,
  spark,
}: {
  label: string;
  value: ReactNode;
  detail?: ReactNode;
  icon: Icon;
  color?: string;
  warn?: boolean;
  spark?: (number | null)[];
}) {
  return (
    <Paper withBorder p="md" className={classes.kpi} role="group" aria-label={label} data-warn={warn || undefined}>
      <Group justify="space-between" align="flex-start" wrap="nowrap" gap="xs">
        <Text size="sm" c="dimmed" fw={500}>
          {label}
        </Text>
        <ThemeIcon variant="light" color={warn ? "red" : color} size={30} radius="md" aria-hidden="true">
          <IconComponent size={18} stroke={1.7} />
        </ThemeIcon>
      </Group>
      <Text className={`${classes.kpiValue} value`} fw={650} c={warn ? "red" : undefined}>
        {value}
      </Text>
      {detail && (
        <Text size="xs" c="dimmed" className={classes.kpiDetail}>
          {detail}
        </Text>
      )}
      {spark && worthDrawing(spark) ? (
        // Decoration for the eye (the value says it): hidden from screen readers, and inert so
        // that Recharts' keyboard layer does not put a hidden stop in the tab order.
        <div aria-hidden="true" inert>
          <Sparkline
            data={spark}
            h={36}
            mt={6}
            color={warn ? "red" : color}
            curveType="monotone"
            fillOpacity={0.25}
            strokeWidth={1.6}
          />
        </div>
      ) : (
        <div className={classes.sparkSpace} aria-hidden="true" />
      )}
    </Paper>
  );
}
