/**
 * Over the canvas while it shows an old version (read-only, with Restore) or a comparison of a
 * version with the latest (what was added, removed and changed, in words beside the colours).
 */
import { Badge, Button, Group, List, Paper, ScrollArea, Text } from "@mantine/core";
import { IconArrowBackUp, IconHistory } from "@tabler/icons-react";

import { type GraphDiff, edgeKey } from "../diff";
import { EDITING } from "../slices/view";
import { isDirty, useEditor } from "../store";
import { useVersions } from "../useSave";

const COLORS = { added: "teal", removed: "red", changed: "yellow", moved: "gray" } as const;

/** The changes of a diff in words, for the list beside the overlay. */
export function DiffSummary({ diff }: { diff: GraphDiff }) {
  const rows = [...diff.nodes].filter(([, kind]) => kind !== "moved");
  const moved = [...diff.nodes].filter(([, kind]) => kind === "moved").length;
  const none = !rows.length && !diff.edges.added.length && !diff.edges.removed.length && !diff.other.length && !moved;
  return (
    <ScrollArea.Autosize mah={160} type="auto">
      <List size="sm" spacing={2} aria-label="Changes" listStyleType="none">
        {rows.map(([id, kind]) => (
          <List.Item key={id} icon={<Badge size="xs" color={COLORS[kind]} variant="filled" w={62}>{kind}</Badge>}>
            {kind} {id}
            {kind === "changed" && `: ${diff.fields.get(id)?.join(", ")}`}
          </List.Item>
        ))}
        {diff.edges.added.map((e) => (
          <List.Item key={`+${edgeKey(e)}`} icon={<Badge size="xs" color="teal" variant="filled" w={62}>added</Badge>}>
            added connection {e.source} {e.source_handle || "out"} → {e.target}
          </List.Item>
        ))}
        {diff.edges.removed.map((e) => (
          <List.Item key={`-${edgeKey(e)}`} icon={<Badge size="xs" color="red" variant="filled" w={62}>removed</Badge>}>
            removed connection {e.source} {e.source_handle || "out"} → {e.target}
          </List.Item>
        ))}
        {diff.other.map((part) => (
          <List.Item key={part} icon={<Badge size="xs" color="yellow" variant="filled" w={62}>changed</Badge>}>
            changed {part}
          </List.Item>
        ))}
        {moved > 0 && <List.Item>{moved} moved</List.Item>}
        {none && <List.Item>no differences</List.Item>}
      </List>
    </ScrollArea.Autosize>
  );
}

export function ModeBanner() {
  const mode = useEditor((s) => s.mode);
  const dirty = useEditor(isDirty);
  const { restore } = useVersions();
  if (mode.kind === "edit") return null;
  const back = (
    <Button size="xs" variant="default" leftSection={<IconArrowBackUp size={16} />} onClick={() => useEditor.getState().setMode(EDITING)}>
      Back to editing
    </Button>
  );
  if (mode.kind === "version") {
    return (
      <Paper role="region" aria-label="Old version" withBorder shadow="md" p="sm" w="100%">
        <Group justify="space-between" gap="xs">
          <Group gap={8} wrap="nowrap">
            <IconHistory size={18} />
            <Text size="sm" fw={500}>
              Version {mode.number}, read-only.
            </Text>
          </Group>
          <Group gap="xs">
            <Button
              size="xs"
              onClick={() => restore(mode.number)}
              disabled={dirty}
              title={dirty ? "Save or undo your edits first" : undefined}
            >
              Restore version {mode.number} as a new version
            </Button>
            {back}
          </Group>
        </Group>
      </Paper>
    );
  }
  return (
    <Paper role="region" aria-label="Comparison" withBorder shadow="md" p="sm" w="100%">
      <Group justify="space-between" gap="xs" mb={6} wrap="nowrap">
        <Text size="sm" fw={500}>
          Version {mode.number} compared with version {mode.latest}: green is added, red removed, yellow changed.
        </Text>
        {back}
      </Group>
      <DiffSummary diff={mode.diff} />
    </Paper>
  );
}
