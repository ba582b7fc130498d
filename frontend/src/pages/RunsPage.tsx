/** /runs (the runs list), /runs/:id (one run) and /runs/compare/:a/:b (two runs). */
import { Center, Loader } from "@mantine/core";
import { Suspense, lazy } from "react";
import { useParams } from "react-router";

import { parseComparePath } from "../runcompare/model";
import { RunView } from "../runview/RunView";
import { NotFoundPage } from "./NotFoundPage";
import { RunsListPage } from "./RunsListPage";

// The JSON diff (jsondiffpatch) loads with the compare page only.
const ComparePage = lazy(() => import("../runcompare/ComparePage").then((m) => ({ default: m.ComparePage })));

export function RunsPage() {
  const id = useParams()["*"];
  if (!id) return <RunsListPage />;
  const pair = parseComparePath(id);
  if (pair) {
    return (
      <Suspense
        fallback={
          <Center h={200} role="status" aria-label="Loading the comparison">
            <Loader size="sm" />
          </Center>
        }
      >
        <ComparePage key={id} a={pair.a} b={pair.b} />
      </Suspense>
    );
  }
  if (!/^\d+$/.test(id)) return <NotFoundPage />;
  // A new run is a new page: its selection and dialogs start afresh.
  return <RunView key={id} id={Number(id)} />;
}
