/**
 * A step drawn as a card, the same on the designer's canvas and on the run graph: its icon and
 * colour (steps/icons.tsx), its label, its type, and a badge on the right (problems in the
 * designer, the status in a run). A status, when given, colours the card's border and tints
 * its background from the shared palette (status.ts). Handles and anything else specific to
 * a page come as children.
 */
import clsx from "clsx";
import { type ReactNode, memo } from "react";

import { statusVar } from "../status";
import { stepLook } from "../steps/icons";
import classes from "./StepCard.module.css";

/** The label's font size in px: the designer computes the smallest readable zoom from it. */
export const STEP_LABEL_PX = 14;

export type StepCardProps = {
  type: string;
  category?: string;
  label: string;
  /** The second line: the type's title or name by default. */
  subtitle?: ReactNode;
  /** On the right of the label: a problem count, a status badge. */
  badge?: ReactNode;
  /** A run or step status: the border and background follow the status palette. */
  status?: string;
  selected?: boolean;
  /** Work is going on: the border pulses (unless the user asked for less motion). */
  active?: boolean;
  className?: string;
  children?: ReactNode;
};

export const StepCard = memo(function StepCard({
  type,
  category,
  label,
  subtitle,
  badge,
  status,
  selected,
  active,
  className,
  children,
}: StepCardProps) {
  const style = status
    ? ({ "--fd-step-border": statusVar(status), "--fd-step-tint": statusVar(status, "light") } as React.CSSProperties)
    : undefined;
  const look = stepLook(type, category);
  // Plain elements, not Mantine's Group/Text/ThemeIcon: a canvas of 1,000 steps mounts cards as
  // they scroll into view, and each Mantine component resolves its theme props on mount
  // (bench/designer_canvas.py: panning's p95 frame went from 16.7 to 33 ms with them).
  const iconStyle = {
    "--fd-icon-bg": `var(--mantine-color-${look.color}-light)`,
    "--fd-icon-fg": `var(--mantine-color-${look.color}-light-color)`,
  } as React.CSSProperties;
  return (
    <div
      className={clsx(classes.card, selected && classes.selected, active && classes.active, className)}
      style={style}
      data-status={status}
    >
      <div className={classes.head}>
        <span className={classes.icon} style={iconStyle} aria-hidden="true">
          <look.icon size={22} stroke={1.8} />
        </span>
        <div className={classes.text}>
          <div className={classes.label} title={label} data-step-label>
            {label}
          </div>
          <div className={classes.subtitle}>{subtitle ?? type}</div>
        </div>
        {badge}
      </div>
      {children}
    </div>
  );
});
