/** The version history of a saved workflow: who saved each version, when, and why; open one
 * read-only, compare it with the latest. */
import { Badge, Button, CloseButton, Group, Loader, Paper, Stack, Text, Title } from "@mantine/core";
import { IconEye, IconGitCompare } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";

import { api } from "../../api";
import { keys } from "../../query";
import { RelativeTime } from "../../ui/RelativeTime";
import { useEditor } from "../store";
import { useVersions } from "../useSave";

export type VersionSummary = { number: number; author: string | null; note: string; created_at: string };

export function VersionsPanel({ workflowId }: { workflowId: number }) {
  const latest = useEditor((s) => s.meta.version);
  const mode = useEditor((s) => s.mode);
  const current = mode.kind === "edit" ? null : mode.number;
  const { openVersion, compare } = useVersions();
  const versions = useQuery({
    queryKey: keys.versions(workflowId),
    queryFn: () => api<{ results: VersionSummary[] }>(`/api/workflows/${workflowId}/versions/?page_size=200`),
  });

  return (
    <Stack gap="sm" component="aside" aria-label="Version history" p="md">
      <Group justify="space-between" wrap="nowrap">
        <Title order={2} size="h4">
          Version history
        </Title>
        <CloseButton aria-label="Close history" onClick={() => useEditor.getState().setHistoryOpen(false)} />
      </Group>
      {versions.isError && (
        <Text c="red" size="sm" role="alert">
          {(versions.error as Error).message}
        </Text>
      )}
      {versions.isPending && <Loader size="sm" aria-label="Loading the versions" />}
      <Stack component="ol" gap="xs" m={0} p={0} style={{ listStyle: "none" }}>
        {versions.data?.results.map((v) => (
          <Paper
            component="li"
            key={v.number}
            aria-label={`Version ${v.number}`}
            withBorder
            p="xs"
            style={v.number === current ? { borderColor: "var(--mantine-primary-color-filled)" } : undefined}
          >
            <Group gap={6} justify="space-between" wrap="nowrap">
              <Text fw={600} size="sm">
                Version {v.number}
              </Text>
              {v.number === latest && <Badge size="sm">latest</Badge>}
            </Group>
            <Text size="xs" c="dimmed">
              {v.author ?? "unknown"} · <RelativeTime value={v.created_at} size="xs" span />
            </Text>
            {v.note && (
              <Text size="sm" mt={4}>
                {v.note}
              </Text>
            )}
            <Group gap={6} mt={6}>
              <Button size="compact-xs" variant="light" leftSection={<IconEye size={14} />} onClick={() => void openVersion(v.number)}>
                Open version {v.number}
              </Button>
              {v.number !== latest && (
                <Button
                  size="compact-xs"
                  variant="default"
                  leftSection={<IconGitCompare size={14} />}
                  onClick={() => void compare(v.number)}
                >
                  Compare version {v.number} with latest
                </Button>
              )}
            </Group>
          </Paper>
        ))}
      </Stack>
    </Stack>
  );
}
