/**
 * A connection on the canvas, with a "+" at its middle while it is hovered or selected: it
 * opens a searchable menu of step types and puts the one picked between the two steps (the
 * source keeps its output for the first half). The keyboard's way to the same is "Insert a
 * step" in the connections panel. A version comparison colours added and removed connections.
 * A compensate edge (issue 20) is dashed orange with an "undo" label and takes no step.
 */
import { ActionIcon, Tooltip } from "@mantine/core";
import { IconPlus } from "@tabler/icons-react";
import { BaseEdge, EdgeLabelRenderer, type Edge, type EdgeProps, getBezierPath } from "@xyflow/react";
import clsx from "clsx";
import { memo, useMemo, useRef, useState } from "react";

import { dropPosition } from "../../steps/geometry";
import { type EdgeKind, insertableTypes } from "../graph";
import { StepTypePicker } from "../StepTypePicker";
import { useEditor } from "../store";
import classes from "./Canvas.module.css";

export type StepEdgeData = {
  /** The edge can take a step in its middle (the graph is being edited). */
  insertable: boolean;
  change?: "added" | "removed";
  handle: string;
  /** A compensate edge is drawn dashed orange with an "undo" label. */
  kind?: EdgeKind;
};
export type StepEdgeType = Edge<StepEdgeData, "step">;

/** The "+" and its menu; `at` is the edge's middle in flow coordinates. */
function InsertButton({ edgeId, source, target, at, onOpenChange }: {
  edgeId: string;
  source: string;
  target: string;
  at: { x: number; y: number };
  onOpenChange: (open: boolean) => void;
}) {
  const catalog = useEditor((s) => s.catalog);
  const types = useMemo(() => insertableTypes(catalog), [catalog]);
  const name = `Insert a step between ${source} and ${target}`;
  return (
    <StepTypePicker
      types={types}
      label="Search steps to insert"
      onOpenChange={onOpenChange}
      onPick={(type) => useEditor.getState().insertOnEdge(edgeId, type, dropPosition(at))}
    >
      <Tooltip label="Insert a step">
        <ActionIcon size={26} radius="xl" variant="filled" aria-label={name} className={classes.insert}>
          <IconPlus size={16} stroke={2.2} />
        </ActionIcon>
      </Tooltip>
    </StepTypePicker>
  );
}

export const StepEdge = memo(function StepEdge({
  id,
  source,
  target,
  sourceX,
  sourceY,
  targetX,
  targetY,
  sourcePosition,
  targetPosition,
  selected,
  markerEnd,
  style,
  data,
  label,
}: EdgeProps<StepEdgeType>) {
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition });
  const [hovered, setHovered] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const leave = useRef<number | undefined>(undefined);
  const enter = () => {
    window.clearTimeout(leave.current);
    setHovered(true);
  };
  // Moving from the line to the button leaves the line: wait a moment before hiding it.
  // A button that appears under a still pointer gets no mouseenter: ask the page whether the
  // pointer is over it before hiding it.
  const middle = useRef<HTMLDivElement>(null);
  const exit = () => {
    window.clearTimeout(leave.current);
    leave.current = window.setTimeout(() => {
      if (!middle.current?.matches(":hover")) setHovered(false);
    }, 250);
  };
  const showPlus = !!data?.insertable && (hovered || !!selected || menuOpen);
  return (
    <>
      <g
        onMouseEnter={enter}
        onMouseLeave={exit}
        className={clsx(data?.change && classes[`edge-${data.change}`], data?.kind === "compensate" && classes.edgeCompensate)}
        data-kind={data?.kind}
      >
        <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} interactionWidth={24} />
      </g>
      {(showPlus || label) && (
        <EdgeLabelRenderer>
          <div
            ref={middle}
            className={`nodrag nopan ${classes.edgeMiddle}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            onMouseEnter={enter}
            onMouseLeave={exit}
          >
            {showPlus ? (
              <InsertButton
                edgeId={id}
                source={source}
                target={target}
                at={{ x: labelX, y: labelY }}
                onOpenChange={setMenuOpen}
              />
            ) : (
              <span
                className={clsx(classes.edgeLabel, data?.kind === "compensate" && classes.edgeLabelCompensate)}
                data-kind={data?.kind}
              >
                {label}
              </span>
            )}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
});

export const EDGE_TYPES = { step: StepEdge };
