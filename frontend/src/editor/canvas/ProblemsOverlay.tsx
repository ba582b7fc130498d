/**
 * The problems of the graph being edited, floating over the canvas's top-right corner (it
 * never pushes the canvas, and folded to its count it covers nearly nothing): what is wrong,
 * where; a click selects the step and puts the cursor in the field. The selected step's
 * problems are also in its panel.
 */
import { Group, Paper, ScrollArea, Text, UnstyledButton } from "@mantine/core";
import { IconAlertCircle, IconChevronDown, IconChevronUp } from "@tabler/icons-react";
import { useState } from "react";

import { problemNode, problemText } from "../problems";
import { useEditor } from "../store";
import { useReveal } from "../useReveal";
import classes from "./Canvas.module.css";

export function ProblemsOverlay() {
  const problems = useEditor((s) => s.problems);
  const [open, setOpen] = useState(false);
  const reveal = useReveal();
  if (!problems.length) return null;
  const count = `${problems.length} problem${problems.length > 1 ? "s" : ""}`;
  return (
    <Paper className={classes.problems} withBorder shadow="md" p={0} role="region" aria-label="Problems of the workflow" data-open={open || undefined}>
      <UnstyledButton
        onClick={() => setOpen(!open)}
        aria-expanded={open}
        w="100%"
        px="sm"
        py={8}
        aria-label={`${count}: ${open ? "hide" : "show"} the list`}
      >
        <Group justify="space-between" wrap="nowrap">
          <Group gap={8} wrap="nowrap">
            <IconAlertCircle size={18} color="var(--mantine-color-red-filled)" />
            <Text size="sm" fw={600}>
              {count}
            </Text>
          </Group>
          {open ? <IconChevronUp size={16} /> : <IconChevronDown size={16} />}
        </Group>
      </UnstyledButton>
      {open && (
        <ScrollArea.Autosize className={classes.problemList} type="auto">
          <ul aria-label="Problems" style={{ listStyle: "none", margin: 0, padding: "0 6px 6px" }}>
            {problems.map((p, i) => (
              <li key={i}>
                <UnstyledButton
                  onClick={() => {
                    const id = problemNode(p, useEditor.getState().graph);
                    if (id) reveal(id, p.field);
                  }}
                  w="100%"
                  px={8}
                  py={6}
                  style={{ borderRadius: "var(--mantine-radius-sm)" }}
                  className="fd-problem"
                >
                  <Text size="sm">
                    {p.node && (
                      <Text span fw={600} size="sm">
                        {p.node}:{" "}
                      </Text>
                    )}
                    {problemText({ ...p, node: null })}
                  </Text>
                </UnstyledButton>
              </li>
            ))}
          </ul>
        </ScrollArea.Autosize>
      )}
    </Paper>
  );
}
