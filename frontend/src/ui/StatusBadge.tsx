import { Badge, type BadgeProps } from "@mantine/core";

import { statusLook } from "../status";

type Props = Omit<BadgeProps, "color" | "children"> & { status: string | null | undefined };

/** A run's, step's or task's status in the shared palette; a dot marks work going on. */
export function StatusBadge({ status, variant = "light", ...rest }: Props) {
  const look = statusLook(status);
  return (
    <Badge
      color={look.color}
      variant={variant}
      leftSection={look.active ? <span className="fd-pulse-dot" aria-hidden="true" /> : undefined}
      data-status={status ?? undefined}
      {...rest}
    >
      {look.label}
    </Badge>
  );
}
