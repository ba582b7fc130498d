import { Badge, type BadgeProps } from "@mantine/core";
import { IconFlag } from "@tabler/icons-react";

import { PRIORITY_COLORS, type Priority, priorityLabel } from "../priority";

type Props = Omit<BadgeProps, "color" | "children"> & { priority: string | null | undefined };

/** A run's priority when it is not normal; nothing for a normal run. */
export function PriorityBadge({ priority, variant = "outline", ...rest }: Props) {
  const label = priorityLabel(priority);
  if (label === null) return null;
  return (
    <Badge
      color={PRIORITY_COLORS[priority as Priority]}
      variant={variant}
      leftSection={<IconFlag size={12} aria-hidden="true" />}
      data-priority={priority}
      {...rest}
    >
      {label}
    </Badge>
  );
}
