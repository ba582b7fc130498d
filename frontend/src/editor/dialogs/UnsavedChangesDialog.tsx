/** Leaving the editor with unsaved edits asks first (react-router's blocker), and so does
 * closing the tab (the browser's own question). */
import { Button, Group, Modal, Text } from "@mantine/core";
import { useEffect } from "react";
import { useBlocker } from "react-router";

import { isDirty, useEditor } from "../store";

export function UnsavedChangesDialog() {
  // Read when navigation starts, which may be before the next render (just after a save).
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) =>
      isDirty(useEditor.getState()) && currentLocation.pathname !== nextLocation.pathname,
  );
  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (isDirty(useEditor.getState())) event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, []);
  return (
    <Modal opened={blocker.state === "blocked"} onClose={() => blocker.reset?.()} title="Unsaved changes" size="sm">
      <Text size="sm">This workflow has unsaved changes. Leave and lose them?</Text>
      <Group justify="flex-end" mt="lg">
        <Button variant="default" onClick={() => blocker.proceed?.()}>
          Leave without saving
        </Button>
        <Button onClick={() => blocker.reset?.()} data-autofocus>
          Stay
        </Button>
      </Group>
    </Modal>
  );
}
