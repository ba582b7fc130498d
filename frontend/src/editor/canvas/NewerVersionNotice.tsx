/**
 * Over the canvas while someone else has saved a newer version than the one being edited (the
 * designer's socket said so: editor/presence.ts): who, which, and what to do about it before a
 * save is refused as stale: look at what they changed, or take their version.
 */
import { Alert, Button, Group, Text } from "@mantine/core";
import { IconGitCompare, IconRefresh, IconUsers } from "@tabler/icons-react";

import { newerText } from "../presence";
import { isDirty, useEditor } from "../store";
import { useVersions } from "../useSave";

export function NewerVersionNotice() {
  const newer = useEditor((s) => s.newer);
  const base = useEditor((s) => s.meta.version);
  const editing = useEditor((s) => s.mode.kind === "edit");
  const dirty = useEditor(isDirty);
  const { compare, reloadLatest } = useVersions();
  // While a version or a comparison is shown, its own banner is there instead.
  if (newer === null || !editing) return null;
  return (
    <Alert
      role="status" // named by its title
      variant="light"
      color="yellow"
      icon={<IconUsers size={20} />}
      title={newerText(newer, base)}
      withCloseButton
      closeButtonLabel="Dismiss"
      onClose={() => useEditor.getState().setNewer(null)}
      w="100%"
      // The title in the text colour: yellow on pale yellow (or on brown, dark) reads too faintly.
      styles={{ root: { boxShadow: "var(--mantine-shadow-md)" }, title: { color: "var(--mantine-color-text)" } }}
    >
      {newer.note && (
        <Text size="sm" mb={6}>
          Their note: “{newer.note}”
        </Text>
      )}
      <Text size="sm" mb="xs">
        {dirty ? "Saving now would be refused; your edits are still here." : "You have no unsaved edits."}
      </Text>
      <Group gap="xs">
        <Button size="xs" variant="default" leftSection={<IconGitCompare size={16} />} onClick={() => void compare(base, newer.number)}>
          View differences
        </Button>
        <Button size="xs" color="yellow" leftSection={<IconRefresh size={16} />} onClick={() => void reloadLatest()}>
          {dirty ? `Reload version ${newer.number}, drop my edits` : `Reload version ${newer.number}`}
        </Button>
      </Group>
    </Alert>
  );
}
