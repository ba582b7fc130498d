/**
 * Deciding, submitting and handing on a task: mutations that tell the user what happened
 * (a toast), take the task out of every cached open list at once (the inbox socket then
 * confirms by invalidating `["approvals", ...]`), and explain a 409 by reading the task again:
 * "bob already approved it" rather than "conflict".
 */
import { Anchor, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle } from "@tabler/icons-react";
import { type QueryClient, useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";

import { ApiError, api } from "../../api";
import { keys } from "../../query";
import { notifyError, notifySuccess } from "../../ui/notify";
import { type Task, type TaskPage, decidedBy } from "./model";

export type Decision =
  | { kind: "approve"; comment: string }
  | { kind: "reject"; comment: string }
  | { kind: "submit"; data: unknown }
  | { kind: "delegate"; to: string; comment: string };

const VERB = { approve: "Approved", reject: "Rejected", submit: "Submitted", delegate: "Handed over" } as const;
const ACTION = { approve: "Approve", reject: "Reject", submit: "Submit", delegate: "Hand over" } as const;

/** Every cached list of open tasks without `id` (and the open count one less). */
export function dropTask(client: QueryClient, id: number): void {
  client.setQueriesData<TaskPage>({ queryKey: ["approvals"] }, (page) => {
    if (!page || !Array.isArray(page.results)) return page;
    const had = page.results.some((t) => t.id === id);
    return {
      ...page,
      results: page.results.filter((t) => t.id !== id),
      count: had ? Math.max(0, page.count - 1) : page.count,
      open: Math.max(0, (page.open ?? 0) - 1),
    };
  });
}

function request(task: Task, decision: Decision): Promise<Task> {
  switch (decision.kind) {
    case "approve":
    case "reject":
      return api<Task>(`/api/approvals/${task.id}/decide/`, {
        method: "POST",
        body: { decision: decision.kind, comment: decision.comment },
      });
    case "submit":
      return api<Task>(`/api/approvals/${task.id}/decide/`, { method: "POST", body: { data: decision.data } });
    case "delegate":
      return api<Task>(`/api/approvals/${task.id}/delegate/`, {
        method: "POST",
        body: { to: decision.to, comment: decision.comment },
      });
  }
}

/** Decide `task`; `onDone` runs once it has left the list (to move on to the next one). */
export function useTaskAction(task: Task, onDone: () => void) {
  const client = useQueryClient();
  // Toasts render outside the router: their link navigates through this hook's function.
  const navigate = useNavigate();
  return useMutation({
    mutationFn: (decision: Decision) => request(task, decision),
    onSuccess: (answer, decision) => {
      const stillMine = decision.kind !== "delegate" && answer.can_decide;
      client.setQueryData(keys.approvals({ task: task.id }), answer);
      if (!stillMine) dropTask(client, task.id);
      void client.invalidateQueries({ queryKey: ["approvals"] });
      // The run moves on: its cached views are read again when next shown.
      void client.invalidateQueries({ queryKey: keys.run(task.run) });
      void client.invalidateQueries({ queryKey: ["runs"] });
      const who = decision.kind === "delegate" ? ` to ${decision.to}` : "";
      const waiting =
        decision.kind === "approve" && answer.status === "open"
          ? " It waits for more approvals."
          : decision.kind === "delegate"
            ? ""
            : " The run goes on.";
      notifySuccess(
        <Text size="sm">
          {task.title}
          {who}.{waiting}{" "}
          <Anchor component="button" type="button" size="sm" onClick={() => navigate(`/runs/${task.run}`)}>
            Open run {task.run}
          </Anchor>
        </Text>,
        `${VERB[decision.kind]}: ${task.title}`,
      );
      onDone();
    },
    onError: async (error, decision) => {
      if (error instanceof ApiError && error.status === 409) {
        // Someone else acted first: say who, and take the task out of the list.
        let detail = error.message;
        try {
          const fresh = await api<Task>(`/api/approvals/${task.id}/`);
          client.setQueryData(keys.approvals({ task: task.id }), fresh);
          detail = fresh.status === "open" ? error.message : decidedBy(fresh);
          if (!fresh.can_decide) dropTask(client, task.id);
        } catch {
          dropTask(client, task.id);
        }
        void client.invalidateQueries({ queryKey: ["approvals"] });
        notifications.show({
          color: "yellow",
          icon: <IconAlertTriangle size={18} />,
          title: `Already decided: ${task.title}`,
          message: `${detail} Your ${decision.kind === "submit" ? "form" : "decision"} was not recorded.`,
          autoClose: 10_000,
        });
        return;
      }
      notifyError(error, ACTION[decision.kind]);
    },
  });
}
