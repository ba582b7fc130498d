/** A save refused because someone saved a newer version meanwhile: the user's edits are still
 * here; keep them as a copy, or drop them for the newer version. */
import { Button, Modal, Stack, Text } from "@mantine/core";
import { IconCopy, IconRefresh } from "@tabler/icons-react";

import { useEditor } from "../store";
import { useSave, useVersions } from "../useSave";

export function StaleSaveDialog() {
  const stale = useEditor((s) => s.stale);
  const { save } = useSave();
  const { reloadLatest } = useVersions();
  const close = () => useEditor.getState().setStale(null);
  return (
    <Modal opened={stale !== null} onClose={close} title="Stale save" size="md">
      <Text size="sm">
        Someone saved version {stale} while you were editing; your edits are still here, not saved.
      </Text>
      <Stack gap="xs" mt="lg">
        <Button
          leftSection={<IconCopy size={16} />}
          onClick={() => {
            close();
            save(true);
          }}
        >
          Save my edits as a copy
        </Button>
        <Button
          variant="default"
          leftSection={<IconRefresh size={16} />}
          onClick={() => {
            close();
            void reloadLatest();
          }}
        >
          Reload version {stale} and drop my edits
        </Button>
        <Button variant="subtle" onClick={close}>
          Keep editing
        </Button>
      </Stack>
    </Modal>
  );
}
