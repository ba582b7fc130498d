/**
 * The inbox with nothing in it: what arrives here, and a way to see it work. With the
 * "Invoice approval" example at hand, one button starts it with an amount above its 1,000 EUR
 * threshold, so that its finance approval arrives here (live) a moment later; another opens it
 * in the designer. Without it, the way to the workflows.
 */
import { Button } from "@mantine/core";
import { IconInbox, IconPencil, IconPlayerPlay, IconSitemap } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";

import { api } from "../../api";
import { keys, queryString } from "../../query";
import { Empty } from "../../ui/Empty";
import { notifyError, notifySuccess } from "../../ui/notify";
import type { Me } from "./TaskDetail";

export const EXAMPLE = "Invoice approval";
/** The group the example's approval goes to (designer/examples/invoice_approval.json). */
export const EXAMPLE_GROUP = "finance";

type WorkflowRow = { id: number; name: string };
type WorkflowDetail = WorkflowRow & { version?: { graph?: { input_schema?: { examples?: unknown[] } } } };

/** The example's input: its own sample where it has one, with an amount that needs approval. */
export function exampleInput(detail: WorkflowDetail | undefined): Record<string, unknown> {
  const sample = detail?.version?.graph?.input_schema?.examples?.[0];
  const base =
    sample && typeof sample === "object" && !Array.isArray(sample)
      ? (sample as Record<string, unknown>)
      : { invoice: "INV-1042", supplier: "Northwind Traders" };
  const amount = typeof base.amount === "number" && base.amount > 1000 ? base.amount : 4200;
  return { invoice: "INV-1042", supplier: "Northwind Traders", ...base, amount };
}

export function InboxEmpty({ me }: { me: Me | undefined }) {
  const client = useQueryClient();
  const params = { search: EXAMPLE, page_size: 5 };
  const found = useQuery({
    queryKey: keys.workflows(params),
    queryFn: () => api<{ results: WorkflowRow[] }>(`/api/workflows/${queryString(params)}`),
    staleTime: 60_000,
  });
  const example = found.data?.results.find((w) => w.name === EXAMPLE);
  const inGroup = me?.groups?.includes(EXAMPLE_GROUP) ?? false;

  const start = useMutation({
    mutationFn: async (id: number) => {
      const detail = await client.fetchQuery({
        queryKey: keys.workflow(id),
        queryFn: () => api<WorkflowDetail>(`/api/workflows/${id}/`),
      });
      return api<{ id: number }>(`/api/workflows/${id}/runs/`, {
        method: "POST",
        body: { input: exampleInput(detail) },
      });
    },
    onSuccess: (run) => {
      void client.invalidateQueries({ queryKey: ["runs"] });
      notifySuccess(
        inGroup
          ? `Run ${run.id} is on its way: its approval will appear here in a moment.`
          : `Run ${run.id} is on its way: its approval goes to the ${EXAMPLE_GROUP} group, which you are not in.`,
        `Started ${EXAMPLE}`,
      );
    },
    onError: (error) => notifyError(error, `Start ${EXAMPLE}`),
  });

  return (
    <Empty
      icon={<IconInbox size={28} />}
      title="Nothing waits for you."
      description={
        <>
          When a workflow needs a person (an approval, a form to fill), the task arrives here, live, for you or
          your groups. Approve, reject or fill it in; the run goes on at once.
          {example ? ` Try it: the "${EXAMPLE}" example asks ${EXAMPLE_GROUP} to approve invoices over 1,000 EUR.` : ""}
        </>
      }
      actions={
        example ? (
          <>
            <Button
              size="md"
              leftSection={<IconPlayerPlay size={18} />}
              loading={start.isPending}
              onClick={() => start.mutate(example.id)}
            >
              Start an invoice to approve
            </Button>
            <Button
              size="md"
              variant="default"
              component={Link}
              to={`/designer/${example.id}`}
              leftSection={<IconPencil size={18} />}
            >
              Open the example
            </Button>
          </>
        ) : (
          <Button size="md" component={Link} to="/workflows" leftSection={<IconSitemap size={18} />}>
            Go to the workflows
          </Button>
        )
      }
    />
  );
}
