/** A workflow's actions in the list: open, run, duplicate, export, archive or restore. */
import { Menu } from "@mantine/core";
import {
  IconArchive,
  IconArchiveOff,
  IconCopy,
  IconFileCode,
  IconJson,
  IconPencil,
  IconPlayerPlay,
} from "@tabler/icons-react";
import { Link } from "react-router";

import type { WorkflowRow } from "./list";
import { RowMenu } from "../../ui/RowMenu";

const RUNNERS = new Set(["runner", "editor", "owner"]);

// Red text that reads at 4.5:1 on the menu in both schemes (the theme's red-6 is 3.3:1 on white).
const DANGER = "light-dark(var(--mantine-color-red-light-color), var(--mantine-color-red-4))";

export function RowActions({
  row,
  busy,
  onDuplicate,
  onArchive,
  onRestore,
}: {
  row: WorkflowRow;
  busy: boolean;
  onDuplicate: (row: WorkflowRow) => void;
  onArchive: (row: WorkflowRow) => void;
  onRestore: (row: WorkflowRow) => void;
}) {
  const exportUrl = (format: string) => `/api/workflows/${row.id}/export/?format=${format}`;
  return (
    <RowMenu name={row.name} width={220} loading={busy}>
      <Menu.Item component={Link} to={`/designer/${row.id}`} leftSection={<IconPencil size={16} />}>
        Open in the designer
      </Menu.Item>
      {!row.archived && row.role && RUNNERS.has(row.role) && (
        // The designer opens its Run dialog for ?run=1.
        <Menu.Item component={Link} to={`/designer/${row.id}?run=1`} leftSection={<IconPlayerPlay size={16} />}>
          Run…
        </Menu.Item>
      )}
      <Menu.Item leftSection={<IconCopy size={16} />} onClick={() => onDuplicate(row)}>
        Duplicate
      </Menu.Item>
      <Menu.Divider />
      <Menu.Label>Export the newest version</Menu.Label>
      <Menu.Item component="a" href={exportUrl("json")} download leftSection={<IconJson size={16} />}>
        Export as JSON
      </Menu.Item>
      <Menu.Item component="a" href={exportUrl("yaml")} download leftSection={<IconFileCode size={16} />}>
        Export as YAML
      </Menu.Item>
      {row.role === "owner" && <Menu.Divider />}
      {row.role === "owner" &&
        (row.archived ? (
          <Menu.Item leftSection={<IconArchiveOff size={16} />} onClick={() => onRestore(row)}>
            Restore
          </Menu.Item>
        ) : (
          <Menu.Item color={DANGER} leftSection={<IconArchive size={16} />} onClick={() => onArchive(row)}>
            Archive…
          </Menu.Item>
        ))}
    </RowMenu>
  );
}
