/** /runs (the runs list) and /runs/:id (one run). */
import { useParams } from "react-router";

import { RunView } from "../runview/RunView";
import { NotFoundPage } from "./NotFoundPage";
import { RunsListPage } from "./RunsListPage";

export function RunsPage() {
  const id = useParams()["*"];
  if (!id) return <RunsListPage />;
  if (!/^\d+$/.test(id)) return <NotFoundPage />;
  // A new run is a new page: its selection and dialogs start afresh.
  return <RunView key={id} id={Number(id)} />;
}
