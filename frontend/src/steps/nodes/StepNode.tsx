/**
 * A step on the designer's canvas: a StepCard (icon, label, type, problem badge) with its
 * handles: the input on the left, a single output at the header's right, several outputs as
 * labelled rows, `error` from the bottom edge, and left of it `compensate` (an orange square
 * with an undo arrow: dragged to the step that undoes this one). Every handle is named
 * (aria-label, and on hover). A step that undoes another wears an orange "undo" badge. The category views (nodes/index.ts) are this view with their differences.
 */
import { Badge } from "@mantine/core";
import { IconArrowBackUp, IconPin } from "@tabler/icons-react";
import { Handle, type NodeProps, Position } from "@xyflow/react";
import clsx from "clsx";
import { type CSSProperties, memo } from "react";

import { COMPENSATE_HANDLE, ERROR_HANDLE } from "../../editor/graph";
import type { StepNode } from "../../editor/flowNodes";
import { StepCard } from "../../ui/StepCard";
import { COMPENSATE_BOX, COMPENSATE_X, STEP_HEADER, STEP_ROW, STEP_WIDTH, stepHeight } from "../geometry";
import classes from "./StepNode.module.css";

type Variant = {
  /** A trigger starts the workflow: nothing leads into it. */
  trigger?: boolean;
};

function ProblemBadge({ count }: { count: number }) {
  if (!count) return null;
  return (
    <Badge color="red" variant="filled" size="sm" circle={count < 10} aria-label={`${count} problems`}>
      {count}
    </Badge>
  );
}

export function StepNodeBody({ id, data, selected, trigger = false }: NodeProps<StepNode> & Variant) {
  const outputs = data.handles.filter((h) => h !== ERROR_HANDLE);
  const hasError = data.handles.includes(ERROR_HANDLE);
  const rows = outputs.length > 1;
  const style = {
    "--fd-step-w": `${STEP_WIDTH}px`,
    "--fd-step-h": `${stepHeight(outputs.length)}px`,
    "--fd-step-header": `${STEP_HEADER}px`,
    "--fd-step-row": `${STEP_ROW}px`,
    "--fd-compensate-size": `${COMPENSATE_BOX}px`,
  } as CSSProperties;
  const handle = (name: string, extra?: string) => (
    <Handle
      type="source"
      id={name}
      position={name === ERROR_HANDLE ? Position.Bottom : Position.Right}
      className={clsx(classes.handle, extra, name === ERROR_HANDLE && classes.error)}
      role="img"
      aria-label={`${id} output ${name}`}
      data-label={name}
    />
  );
  return (
    <div
      className={clsx(classes.node, data.change === "removed" && classes.nodeRemoved)}
      style={style}
      aria-label={`Step ${id}`}
      data-change={data.change}
    >
      {!trigger && (
        <Handle
          type="target"
          position={Position.Left}
          className={clsx(classes.handle, classes.target)}
          role="img"
          aria-label={`${id} input`}
          data-label="in"
        />
      )}
      <StepCard
        type={data.type}
        category={data.category}
        label={data.label}
        subtitle={data.title}
        selected={selected}
        className={clsx(classes.card, trigger && classes.trigger)}
        badge={
          <>
            {data.pinned && (
              <span className={classes.pinned} role="img" aria-label={`${id} output pinned`} title="Output pinned for tests">
                <IconPin size={14} stroke={2} />
              </span>
            )}
            {data.undoes !== undefined && (
              <span className={classes.undo} role="img" aria-label={`Undoes ${data.undoes}`} title={`Undoes ${data.undoes}`}>
                undo
              </span>
            )}
            <ProblemBadge count={data.problems} />
          </>
        }
      >
        {rows && (
          <div className={classes.rows}>
            {outputs.map((name) => (
              <div key={name} className={classes.row}>
                {name}
                {handle(name)}
              </div>
            ))}
          </div>
        )}
        {!rows && outputs.length === 1 && handle(outputs[0], classes.single)}
        {hasError && handle(ERROR_HANDLE)}
        <Handle
          type="source"
          id={COMPENSATE_HANDLE}
          position={Position.Bottom}
          className={clsx(classes.handle, classes.compensate)}
          style={{ left: COMPENSATE_X }}
          role="img"
          aria-label={`${id} output ${COMPENSATE_HANDLE}`}
          title="Drag to the step that undoes this one"
          data-label="undo with…"
        >
          <IconArrowBackUp size={12} stroke={2.4} aria-hidden="true" />
        </Handle>
      </StepCard>
      {data.change && <span className={clsx(classes.change, classes[data.change])}>{data.change}</span>}
    </div>
  );
}

/** Any step whose category has no view of its own. */
export const StepNodeView = memo(function StepNodeView(props: NodeProps<StepNode>) {
  return <StepNodeBody {...props} />;
});
