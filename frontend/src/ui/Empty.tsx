import { EmptyState, Group } from "@mantine/core";
import type { ReactNode } from "react";

/** An empty page or list that says what to do next, with the button that does it (issue 17:
 * "Nothing waits for you" guided nobody). */
export function Empty({
  icon,
  title,
  description,
  actions,
  color,
}: {
  icon: ReactNode;
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
  color?: string;
}) {
  return (
    <EmptyState
      py="xl"
      variant="light"
      color={color}
      icon={icon}
      title={title}
      description={description}
      role="region"
      aria-label={title}
    >
      {actions && (
        <EmptyState.Actions>
          <Group justify="center" gap="xs">
            {actions}
          </Group>
        </EmptyState.Actions>
      )}
    </EmptyState>
  );
}
