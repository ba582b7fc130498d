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
        // rjsf names its inputs root_<path with _>; the panel renders a moment later (and the
        // expression editor may still be loading): try for a second.
        const fieldId = `root_${field.slice("config.".length).replaceAll(".", "_")}`;
        const started = performance.now();
        let held = 0;
        const focus = () => {
          const element = document.getElementById(fieldId);
          if (element && element.closest(`[aria-label="Configure ${id}"]`)) {
            if (document.activeElement === element) held++;
            else element.focus();
          }
          // Done once the field has kept the focus a few rounds (the panel may re-render).
          if (held < 4 && performance.now() - started < 2000) window.setTimeout(focus, 50);
        };
        window.setTimeout(focus, 30);
      }
    },
    [flow],
  );
}
