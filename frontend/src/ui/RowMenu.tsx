/** A table row's actions: the "…" button (40 px, named "Actions for <name>") and its menu. */
import { ActionIcon, Menu } from "@mantine/core";
import { IconDots } from "@tabler/icons-react";
import type { ReactNode } from "react";

export function RowMenu({
  name,
  width,
  loading,
  children,
}: {
  name: string;
  width?: number;
  loading?: boolean;
  children: ReactNode;
}) {
  return (
    <Menu position="bottom-end" width={width} withinPortal>
      <Menu.Target>
        <ActionIcon variant="subtle" color="gray" size={40} aria-label={`Actions for ${name}`} loading={loading}>
          <IconDots size={20} />
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown>{children}</Menu.Dropdown>
    </Menu>
  );
}
