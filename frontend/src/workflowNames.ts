/** The names of the workflows the user may see, for the filters of the runs and dashboard pages. */
import { useEffect, useState } from "react";

import { api } from "./api";

export type WorkflowName = { id: number; name: string };

export function useWorkflowNames(): WorkflowName[] {
  const [workflows, setWorkflows] = useState<WorkflowName[]>([]);
  useEffect(() => {
    api<{ results: WorkflowName[] }>("/api/workflows/?page_size=200&ordering=name")
      .then((page) => setWorkflows(page.results))
      .catch(() => setWorkflows([]));
  }, []);
  return workflows;
}
