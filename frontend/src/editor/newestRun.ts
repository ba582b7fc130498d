/** The newest run of the workflow open in the editor, as completion's sample (its input and
 * each step's output): two reads of the runs API, cached a while by TanStack Query. */
import { useQuery } from "@tanstack/react-query";

import { api } from "../api";
import type { RunSample } from "./completion";

type Page = { results: { id: number }[] };
type RunDetail = { id: number; input: unknown; steps: { node: string; output: unknown }[] };

export async function newestRunSample(workflowId: number): Promise<RunSample | null> {
  const page = await api<Page>(`/api/workflows/${workflowId}/runs/?page_size=1`);
  const newest = page.results[0];
  if (!newest) return null;
  const run = await api<RunDetail>(`/api/runs/${newest.id}/`);
  return { run: run.id, input: run.input, outputs: Object.fromEntries(run.steps.map((s) => [s.node, s.output])) };
}

export function useNewestRunSample(workflowId: number | null): RunSample | null {
  const query = useQuery({
    queryKey: ["newest-run-sample", workflowId],
    queryFn: () => newestRunSample(workflowId!),
    enabled: workflowId !== null,
    staleTime: 30_000,
    retry: false,
  });
  return query.data ?? null;
}
