import { Badge, Tooltip } from "@mantine/core";

import type { LiveStatus } from "../live";

const LOOKS: Record<LiveStatus, { label: string; color: string; hint: string }> = {
  connecting: { label: "connecting…", color: "gray", hint: "Opening the live connection" },
  live: { label: "live", color: "teal", hint: "Changes show here as they happen" },
  reconnecting: { label: "reconnecting…", color: "yellow", hint: "The connection dropped; nothing is missed when it is back" },
  refused: { label: "not live", color: "red", hint: "The server refused live updates: reload the page" },
};

/** Whether the page follows the server live (role status, name "Live updates"). */
export function LiveBadge({ status }: { status: LiveStatus }) {
  const look = LOOKS[status];
  return (
    <Tooltip label={look.hint}>
      <Badge role="status" aria-label="Live updates" variant="dot" color={look.color} size="lg" tt="none" fw={500}>
        {look.label}
      </Badge>
    </Tooltip>
  );
}
