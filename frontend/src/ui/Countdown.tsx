/** A due time counting down, the same wherever a task is shown (ui/countdown.ts says how it
 * reads and which tone it takes). It ticks on its own, on the server's clock, without any
 * request: only the badge re-renders. */
import { Badge, type BadgeProps, Tooltip } from "@mantine/core";
import { IconClock, IconClockExclamation } from "@tabler/icons-react";
import { useEffect, useState } from "react";

import { useNow } from "../clock";
import { TONE_COLOR, countdown } from "./countdown";
import { exactTime } from "./RelativeTime";

export type CountdownProps = {
  /** The due time (ISO); nothing is drawn without one. */
  due: string | null | undefined;
  /** The start of its SLA window (ISO): the last 20 % of it is amber. */
  from?: string | null;
  /** The groups the task was escalated to, if it was. */
  escalatedTo?: readonly string[];
  size?: BadgeProps["size"];
  className?: string;
};

export function Countdown({ due, from, escalatedTo = [], size = "sm", className }: CountdownProps) {
  const [tickMs, setTickMs] = useState(1000);
  const now = useNow(Boolean(due), tickMs);
  const info = countdown(due, from, now, escalatedTo);
  const wanted = info?.tickMs ?? 1000;
  useEffect(() => setTickMs(wanted), [wanted]);
  if (!info || !due) return null;
  const Icon = info.tone === "normal" ? IconClock : IconClockExclamation;
  return (
    // The whole text too: on a narrow card or row the badge may cut it short.
    <Tooltip label={`${info.text} · due ${exactTime(due)}`}>
      <Badge
        component="span"
        role="timer"
        size={size}
        variant="light"
        color={TONE_COLOR[info.tone]}
        tt="none"
        fw={info.tone === "overdue" ? 700 : 600}
        leftSection={<Icon size={12} aria-hidden="true" />}
        className={className}
        data-countdown={info.tone}
        maw="100%"
      >
        {info.text}
      </Badge>
    </Tooltip>
  );
}
