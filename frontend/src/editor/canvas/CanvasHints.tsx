/** What the user is told while editing the canvas, floating over it: why the connection being
 * dragged is refused, and why the last edit was refused (a second trigger, a cycle). */
import { Alert, CloseButton, Group, Text } from "@mantine/core";
import { IconAlertTriangle, IconPlugConnectedX } from "@tabler/icons-react";

import { isEditing, useEditor } from "../store";

export function CanvasHints() {
  const hint = useEditor((s) => s.connectHint);
  const refusal = useEditor((s) => (isEditing(s) ? s.problem : null));
  return (
    <>
      {hint && (
        <Alert
          role="status"
          aria-label="Connection refused"
          color="orange"
          variant="filled"
          py={6}
          icon={<IconPlugConnectedX size={18} />}
        >
          Cannot connect: {hint}
        </Alert>
      )}
      {refusal && !hint && (
        <Alert role="status" aria-label="Edit refused" color="orange" py={6} icon={<IconAlertTriangle size={18} />}>
          <Group gap="xs" wrap="nowrap" justify="space-between">
            <Text size="sm">{refusal}</Text>
            <CloseButton size="sm" aria-label="Dismiss" onClick={() => useEditor.getState().dismissProblem()} />
          </Group>
        </Alert>
      )}
    </>
  );
}
