/** The step-type catalog (`GET /api/step-types/`) by type name: one query, one shape, for
 * every page that reads it (the designer and the run view share the cached answer). */
import { useQuery } from "@tanstack/react-query";

import { api } from "./api";
import type { Catalog, StepTypeInfo } from "./editor/graph";
import { keys } from "./query";

export async function loadCatalog(): Promise<Catalog> {
  const entries = await api<StepTypeInfo[]>("/api/step-types/");
  return Object.fromEntries(entries.map((entry) => [entry.type, entry]));
}

export function useCatalog() {
  return useQuery({ queryKey: keys.catalog(), queryFn: loadCatalog, staleTime: Infinity });
}
