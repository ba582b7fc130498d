/** The operator's confirmations: cancel a run, retry a step (perhaps with an edited input),
 * skip a step; each with a reason for the event log. A refusal (a 409: the run or step moved
 * on meanwhile) is explained in the dialog, which stays open. */
import { Alert, Button, Group, JsonInput, Modal, Stack, Text, TextInput } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { ApiError, api } from "../api";
import { keys } from "../query";
import { errorText, notifySuccess } from "../ui/notify";
import { putRun, putStep } from "./cache";
import { type Run, type RunStep, parseInput } from "./model";

export type Action =
  | { kind: "cancel" }
  | { kind: "retry"; node: string; edit: boolean; input: unknown; attempt: number }
  | { kind: "skip"; node: string; status: string };

export function actionTitle(runId: number, action: Action): string {
  if (action.kind === "cancel") return `Cancel run ${runId}`;
  if (action.kind === "skip") return `Skip step ${action.node}`;
  return action.edit ? `Retry step ${action.node} with edited input` : `Retry step ${action.node}`;
}

const CONFIRM = { cancel: "Cancel run", retry: "Retry step", skip: "Skip step" } as const;

function explain(runId: number, action: Action): string {
  if (action.kind === "cancel") {
    return `Running attempts are told to stop, waiting steps stop and child runs are cancelled. Run ${runId} cannot be resumed afterwards.`;
  }
  if (action.kind === "skip") {
    return action.status === "waiting"
      ? `Step ${action.node} stops waiting; its outgoing connections are not taken and the run goes on without it.`
      : `Step ${action.node}'s outgoing connections are not taken; the run goes on without it.`;
  }
  const next = action.attempt + 1;
  return action.edit
    ? `Step ${action.node} runs again as attempt ${next} with the input below (its rendered configuration). The run reopens if it had failed.`
    : `Step ${action.node} runs again as attempt ${next} with the same input. The run reopens if it had failed.`;
}

/** The dialog for `action` (null: closed). */
export function ActionDialog({ runId, action, onClose }: { runId: number; action: Action | null; onClose: () => void }) {
  return (
    <Modal opened={action !== null} onClose={onClose} title={action ? actionTitle(runId, action) : ""} size="lg" closeButtonProps={{ "aria-label": "Close the dialog" }}>
      {action && <ActionForm key={JSON.stringify(action)} runId={runId} action={action} onClose={onClose} />}
    </Modal>
  );
}

function ActionForm({ runId, action, onClose }: { runId: number; action: Action; onClose: () => void }) {
  const client = useQueryClient();
  const [reason, setReason] = useState("");
  const [input, setInput] = useState(action.kind === "retry" ? JSON.stringify(action.input ?? {}, null, 2) : "");
  const editing = action.kind === "retry" && action.edit;
  const parsed = editing ? parseInput(input) : null;
  const invalid = parsed && "error" in parsed ? parsed.error : null;

  const act = useMutation({
    mutationFn: async () => {
      if (action.kind === "cancel") {
        return api<Run>(`/api/runs/${runId}/cancel/`, { method: "POST", body: { reason } });
      }
      const node = encodeURIComponent(action.node);
      if (action.kind === "skip") {
        return api<RunStep>(`/api/runs/${runId}/steps/${node}/skip/`, { method: "POST", body: { reason } });
      }
      const body: Record<string, unknown> = { reason };
      if (parsed && "value" in parsed) body.input = parsed.value;
      return api<RunStep>(`/api/runs/${runId}/steps/${node}/retry/`, { method: "POST", body });
    },
    onSuccess: (answer) => {
      if (action.kind === "cancel") {
        putRun(client, answer as Run);
        notifySuccess(`Run ${runId} cancelled.`, "Cancelled");
      } else {
        putStep(client, runId, answer as RunStep);
        notifySuccess(
          action.kind === "skip" ? `Step ${action.node} skipped.` : `Step ${action.node} queued again.`,
          action.kind === "skip" ? "Skipped" : "Retrying",
        );
      }
      onClose();
    },
    onError: (error) => {
      // The run moved on meanwhile: show its newest state behind the explanation.
      if (error instanceof ApiError && error.status === 409) void client.invalidateQueries({ queryKey: keys.run(runId), exact: true });
    },
  });
  const problem = act.error ? errorText(act.error) : null;

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!invalid) act.mutate();
      }}
    >
      <Stack gap="md">
        <Text size="sm">{explain(runId, action)}</Text>
        {editing && (
          <JsonInput
            label="Input (JSON)"
            description="A JSON object; it must still be a valid configuration of the step's type."
            value={input}
            onChange={setInput}
            autosize
            minRows={8}
            maxRows={18}
            spellCheck={false}
            error={invalid}
            data-autofocus
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)", fontSize: "var(--mantine-font-size-xs)" } }}
          />
        )}
        <TextInput
          label="Reason"
          description="Recorded in the run's event log with your name."
          placeholder={action.kind === "cancel" ? "Wrong input" : "The service is back"}
          value={reason}
          maxLength={1000}
          onChange={(e) => setReason(e.currentTarget.value)}
          data-autofocus={editing ? undefined : true}
        />
        {problem && (
          <Alert role="alert" color={act.error instanceof ApiError && act.error.status === 409 ? "yellow" : "red"} icon={<IconAlertTriangle size={18} />} title={problem.title}>
            {problem.message}
          </Alert>
        )}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onClose} mih={40}>
            Close
          </Button>
          <Button type="submit" color={action.kind === "cancel" ? "red.9" : undefined} loading={act.isPending} disabled={invalid !== null} mih={40}>
            {CONFIRM[action.kind]}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
