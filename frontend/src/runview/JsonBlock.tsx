import { ActionIcon, Code, CopyButton, Group, ScrollArea, Stack, Text, Tooltip } from "@mantine/core";
import { IconCheck, IconCopy } from "@tabler/icons-react";
import type { ReactNode } from "react";

export function jsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value, null, 2);
}

/** A JSON value, read-only, monospace, with a copy button; `label` names it for screen
 * readers (and tests): "Step output". */
export function JsonBlock({
  value,
  label,
  title,
  empty = "—",
  maxHeight = 320,
}: {
  value: unknown;
  label: string;
  title?: ReactNode;
  empty?: string;
  maxHeight?: number;
}) {
  const text = jsonText(value);
  return (
    <Stack gap={4}>
      <Group justify="space-between" gap="xs" wrap="nowrap" mih={28}>
        <Text size="xs" fw={600} c="dimmed" tt="uppercase">
          {title ?? label}
        </Text>
        {text !== null && (
          <CopyButton value={text}>
            {({ copied, copy }) => (
              <Tooltip label={copied ? "Copied" : "Copy"}>
                <ActionIcon variant="subtle" color={copied ? "teal" : "gray"} size={32} onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
                  {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                </ActionIcon>
              </Tooltip>
            )}
          </CopyButton>
        )}
      </Group>
      <ScrollArea.Autosize mah={maxHeight} type="auto" offsetScrollbars>
        <Code block role="figure" aria-label={label} c={text === null ? "dimmed" : undefined} style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
          {text ?? empty}
        </Code>
      </ScrollArea.Autosize>
    </Stack>
  );
}
