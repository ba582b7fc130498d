/**
 * Bulk decisions: the bar that appears once approvals are selected in the list. One comment,
 * "Approve 3" or "Reject 3", a confirmation, then POST /api/approvals/bulk-decide/ (each task
 * its own decision on the server) and a summary per task: a toast, and the failures listed
 * inline until the next action. The lists are read again (TanStack Query invalidation).
 */
import { Alert, Button, Group, List, Paper, Stack, Text, Textarea } from "@mantine/core";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconCheck, IconThumbDown, IconThumbUp, IconX } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api } from "../../api";
import { notifyError } from "../../ui/notify";
import { type BulkResult, type Task, bulkSummary } from "./model";

type Choice = "approve" | "reject";
type Answer = { decided: number; failed: number; results: BulkResult[] };

function useBulkDecide() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ ids, decision, comment }: { ids: number[]; decision: Choice; comment: string }) =>
      api<Answer>("/api/approvals/bulk-decide/", { method: "POST", body: { tasks: ids, decision, comment } }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["approvals"] });
      void client.invalidateQueries({ queryKey: ["runs"] });
      void client.invalidateQueries({ queryKey: ["run"] });
    },
  });
}

export type Failures = { title: string; lines: string[] };

/** What a bulk decision could not do, task by task, until dismissed. Outside the list: it
 * stays when the list empties. */
export function BulkResults({ failures, onDismiss }: { failures: Failures | null; onDismiss: () => void }) {
  if (!failures) return null;
  return (
    <Alert
      color="yellow"
      icon={<IconAlertTriangle size={18} />}
      title={failures.title}
      withCloseButton
      closeButtonLabel="Dismiss the results"
      onClose={onDismiss}
      mb="md"
    >
      <List size="sm" spacing={2}>
        {failures.lines.map((line) => (
          <List.Item key={line}>{line}</List.Item>
        ))}
      </List>
    </Alert>
  );
}

export function BulkBar({
  selected,
  onClear,
  onDone,
}: {
  /** The selected tasks, in the list's order. */
  selected: Task[];
  onClear: () => void;
  /** After an answer: the ids that were decided (they leave the selection), and the
   * failures to show (null when none). */
  onDone: (decided: number[], failures: Failures | null) => void;
}) {
  const [comment, setComment] = useState("");
  const bulk = useBulkDecide();
  const count = selected.length;
  const titles = new Map(selected.map((t) => [t.id, t.title]));

  const run = (decision: Choice) => {
    const ids = selected.map((t) => t.id);
    bulk.mutate(
      { ids, decision, comment },
      {
        onSuccess: (answer) => {
          const summary = bulkSummary(answer.results, decision);
          const failed = answer.results.filter((r) => !r.ok);
          notifications.show({
            color: failed.length ? "yellow" : "teal",
            icon: failed.length ? <IconAlertTriangle size={18} /> : <IconCheck size={18} />,
            title: failed.length ? "Some tasks were not decided" : decision === "approve" ? "Approved" : "Rejected",
            message: summary,
            autoClose: failed.length ? 10_000 : 4000,
          });
          const failures = failed.length
            ? {
                title: summary,
                lines: failed.map(
                  (r) => `${titles.get(r.id) ?? `Task ${r.id}`}: ${r.errors?.[0]?.message ?? `failed (${r.status})`}`,
                ),
              }
            : null;
          if (!failed.length) setComment("");
          onDone(
            answer.results.filter((r) => r.ok).map((r) => r.id),
            failures,
          );
        },
        onError: (error) => notifyError(error, decision === "approve" ? "Approving" : "Rejecting"),
      },
    );
  };

  const confirm = (decision: Choice) => {
    const verb = decision === "approve" ? "Approve" : "Reject";
    modals.openConfirmModal({
      title: `${verb} ${count} task${count === 1 ? "" : "s"}?`,
      children: (
        <Stack gap="xs">
          <Text size="sm">
            Each task gets its own decision{comment.trim() ? " with your comment" : ""}; a task someone else closed
            meanwhile is left as it is.
          </Text>
          <List size="sm" spacing={2}>
            {selected.slice(0, 10).map((t) => (
              <List.Item key={t.id}>{t.title}</List.Item>
            ))}
            {count > 10 && <List.Item>and {count - 10} more</List.Item>}
          </List>
        </Stack>
      ),
      labels: { confirm: `${verb} ${count}`, cancel: "Cancel" },
      confirmProps: { color: decision === "approve" ? "teal" : "red", size: "md" },
      cancelProps: { size: "md" },
      onConfirm: () => run(decision),
    });
  };

  if (count === 0) return null;
  return (
    <Paper withBorder p="sm" mb="sm" radius="md" role="region" aria-label="Bulk decision">
          <Stack gap="xs">
            <Group justify="space-between" gap="xs">
              <Text size="sm" fw={600} role="status">
                {count} selected
              </Text>
              <Button variant="subtle" color="gray" size="compact-sm" leftSection={<IconX size={14} />} onClick={onClear}>
                Clear selection
              </Button>
            </Group>
            <Textarea
              label="Comment for all"
              placeholder="Optional; recorded with each decision"
              autosize
              minRows={1}
              maxRows={4}
              maxLength={10_000}
              value={comment}
              onChange={(e) => setComment(e.currentTarget.value)}
              size="md"
            />
            <Group gap="xs" grow>
              <Button
                color="teal"
                size="md"
                leftSection={<IconThumbUp size={18} />}
                loading={bulk.isPending}
                onClick={() => confirm("approve")}
              >
                Approve {count}
              </Button>
              <Button
                color="red"
                variant="light"
                size="md"
                leftSection={<IconThumbDown size={18} />}
                loading={bulk.isPending}
                onClick={() => confirm("reject")}
              >
                Reject {count}
              </Button>
            </Group>
          </Stack>
    </Paper>
  );
}
