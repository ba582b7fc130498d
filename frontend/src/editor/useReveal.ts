/** Select a step and bring it to the middle of the view (find, a problem clicked), and put the
 * cursor in a config field the problem names. */
import { useReactFlow } from "@xyflow/react";
import { useCallback } from "react";

import { STEP_HEADER, STEP_WIDTH } from "../steps/geometry";
import { useEditor } from "./store";

export function useReveal() {
  const flow = useReactFlow();
  return useCallback(
    (id: string, field?: string | null) => {
      useEditor.getState().select([id]);
      const node = flow.getNode(id);
      if (node) {
        const w = node.measured?.width ?? STEP_WIDTH;
        const h = node.measured?.height ?? STEP_HEADER;
        void flow.setCenter(node.position.x + w / 2, node.position.y + h / 2, {
          zoom: Math.max(flow.getZoom(), 1),
          duration: 200,
        });
      }
      if (field?.startsWith("config.")) {
        // rjsf names its inputs root_<path with _>; the panel renders on the next frame.
        const fieldId = `root_${field.slice("config.".length).replaceAll(".", "_")}`;
        window.setTimeout(() => document.getElementById(fieldId)?.focus(), 80);
      }
    },
    [flow],
  );
}
