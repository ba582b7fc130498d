/** A new workflow's empty canvas says what to do first, with the buttons that do it: a trigger. */
import { Button, Paper } from "@mantine/core";
import { IconBolt } from "@tabler/icons-react";
import { useReactFlow } from "@xyflow/react";

import { Empty } from "../../ui/Empty";
import { dropPosition } from "../../steps/geometry";
import { StepIcon } from "../../steps/icons";
import { useEditor } from "../store";
import classes from "./Canvas.module.css";

const TRIGGERS = [
  { type: "trigger.manual", label: "Manual" },
  { type: "trigger.schedule", label: "Schedule" },
  { type: "trigger.webhook", label: "Webhook" },
];

export function EmptyCanvas() {
  const flow = useReactFlow();
  const catalog = useEditor((s) => s.catalog);
  const add = (type: string) => {
    const box = document.querySelector("[data-testid=designer-canvas]")?.getBoundingClientRect();
    const middle = box
      ? { x: box.left + box.width / 2, y: box.top + box.height / 2 }
      : { x: window.innerWidth / 2, y: window.innerHeight / 2 };
    useEditor.getState().addNode(type, dropPosition(flow.screenToFlowPosition(middle)));
  };
  return (
    <div className={classes.empty}>
      <Paper withBorder shadow="sm" p="md" radius="lg">
        <Empty
          icon={<IconBolt size={26} />}
          title="Start with a trigger"
          description="A trigger says when the workflow runs: by hand, on a schedule, or when a webhook is called. Then drag steps from the palette and connect them."
          actions={TRIGGERS.filter((t) => catalog[t.type]).map((t) => (
            <Button
              key={t.type}
              variant="light"
              leftSection={<StepIcon type={t.type} size={22} variant="transparent" />}
              onClick={() => add(t.type)}
              aria-label={`Add a ${t.label.toLowerCase()} trigger`}
            >
              {t.label}
            </Button>
          ))}
        />
      </Paper>
    </div>
  );
}
