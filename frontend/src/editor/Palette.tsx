/**
 * The palette: every step type by category, searchable, each with its icon, title and
 * description. Drag one onto the canvas (it lands where it is dropped), or click it (or press
 * Enter on it) to put it in a free spot of the view.
 */
import { Box, ScrollArea, Stack, Text, TextInput, Title, UnstyledButton } from "@mantine/core";
import { IconSearch } from "@tabler/icons-react";
import { type DragEvent, useMemo, useState } from "react";

import { STEP_HEADER, STEP_WIDTH, dropPosition, stepHeight } from "../steps/geometry";
import { useReactFlow } from "@xyflow/react";
import { useCallback } from "react";
import { StepIcon, categoryLook } from "../steps/icons";
import { DRAG_TYPE } from "./canvas/Canvas";
import type { Position } from "./graph";
import classes from "./Palette.module.css";
import { byCategory, matchesType } from "./StepTypePicker";
import { useEditor } from "./store";


/**
 * Where a clicked palette entry lands: the free spot of the visible canvas nearest its middle
 * (no step under it), so nothing has to move to show it.
 */
export function freeSpot(
  view: { x: number; y: number; width: number; height: number },
  taken: { x: number; y: number; width: number; height: number }[],
): Position {
  const cx = view.x + view.width / 2;
  const cy = view.y + view.height / 2;
  const stepX = STEP_WIDTH + 40;
  const stepY = STEP_HEADER + 44;
  const candidates: Position[] = [];
  for (let x = view.x + 20; x + STEP_WIDTH <= view.x + view.width; x += stepX) {
    for (let y = view.y + 20; y + STEP_HEADER <= view.y + view.height; y += stepY) candidates.push({ x, y });
  }
  candidates.sort(
    (a, b) =>
      Math.hypot(a.x + STEP_WIDTH / 2 - cx, a.y + STEP_HEADER / 2 - cy) -
      Math.hypot(b.x + STEP_WIDTH / 2 - cx, b.y + STEP_HEADER / 2 - cy),
  );
  const gap = 20;
  const free = candidates.find(
    (c) =>
      !taken.some(
        (t) =>
          c.x < t.x + t.width + gap &&
          c.x + STEP_WIDTH + gap > t.x &&
          c.y < t.y + t.height + gap &&
          c.y + STEP_HEADER * 1.5 + gap > t.y,
      ),
  );
  return free ?? dropPosition({ x: cx, y: cy });
}

/** Put a step of `type` in a free spot of the visible canvas (a palette click, a command). */
export function useAddStep(): (type: string) => string | null {
  const flow = useReactFlow();
  return useCallback(
    (type: string) => {
      const box = document.querySelector("[data-testid=designer-canvas]")?.getBoundingClientRect();
      const state = useEditor.getState();
      if (!box) return null;
      // Below the overlays along the top edge (hints, the problems' count).
      const topLeft = flow.screenToFlowPosition({ x: box.left, y: box.top + 56 });
      const bottomRight = flow.screenToFlowPosition({ x: box.right, y: box.bottom });
      const taken = state.graph.nodes.map((n) => {
        const measured = flow.getNode(n.id)?.measured;
        return {
          x: n.position?.x ?? 0,
          y: n.position?.y ?? 0,
          width: measured?.width ?? STEP_WIDTH,
          height: measured?.height ?? stepHeight(1),
        };
      });
      const view = { x: topLeft.x, y: topLeft.y, width: bottomRight.x - topLeft.x, height: bottomRight.y - topLeft.y };
      return state.addNode(type, freeSpot(view, taken));
    },
    [flow],
  );
}

export function Palette() {
  const catalog = useEditor((s) => s.catalog);
  const [query, setQuery] = useState("");
  const add = useAddStep();
  const groups = useMemo(
    () => byCategory(Object.values(catalog).filter((info) => matchesType(info, query))),
    [catalog, query],
  );

  const onDragStart = (event: DragEvent, type: string) => {
    event.dataTransfer.setData(DRAG_TYPE, type);
    event.dataTransfer.effectAllowed = "move";
  };

  return (
    <Box component="aside" aria-label="Steps" className={classes.palette}>
      <Box p="sm" pb={6}>
        <TextInput
          type="search"
          aria-label="Search steps"
          placeholder="Search steps"
          leftSection={<IconSearch size={16} />}
          value={query}
          onChange={(e) => setQuery(e.currentTarget.value)}
        />
        <Text size="xs" c="dimmed" mt={6}>
          Drag a step onto the canvas, or click it to add it.
        </Text>
      </Box>
      <ScrollArea style={{ flex: 1 }} type="auto" px="xs">
        {groups.length === 0 && (
          <Text size="sm" c="dimmed" p="sm">
            No step matches “{query}”.
          </Text>
        )}
        <Stack gap="sm" pb="md">
          {groups.map(([category, infos]) => (
            <section key={category} aria-label={categoryLook(category).label}>
              <Title order={2} size="xs" tt="uppercase" c="dimmed" fw={600} px={10} py={4} style={{ letterSpacing: "0.04em" }}>
                {categoryLook(category).label}
              </Title>
              <Stack gap={2}>
                {infos.map((info) => (
                  // The whole entry drags and clicks; its button (icon and title) is the
                  // keyboard's way in, and names it; the description is read with it.
                  <div
                    key={info.type}
                    className={classes.entry}
                    draggable
                    onDragStart={(e) => onDragStart(e, info.type)}
                    onClick={() => void add(info.type)}
                  >
                    <StepIcon type={info.type} category={info.category} size={30} />
                    <div className={classes.text}>
                      <UnstyledButton
                        className={classes.title}
                        aria-describedby={`palette-${info.type}`}
                        fz="sm"
                        fw={600}
                        lh={1.3}
                      >
                        {info.title}
                      </UnstyledButton>
                      <Text id={`palette-${info.type}`} size="xs" c="dimmed" lh={1.35} lineClamp={2}>
                        {info.description}
                      </Text>
                    </div>
                  </div>
                ))}
              </Stack>
            </section>
          ))}
        </Stack>
      </ScrollArea>
    </Box>
  );
}
