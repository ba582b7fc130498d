import { ActionIcon, Alert, Code, CopyButton, Group, Stack, Text, Tooltip } from "@mantine/core";
import { IconCheck, IconCopy, IconEyeOff } from "@tabler/icons-react";
import type { ReactNode } from "react";

/** A secret the server shows this once (a one-time password, a set-password link, an API
 * token's key): in full, selectable, with a copy button, and a line saying it will not be
 * shown again. */
export function OnceSecret({ label, value, children }: { label: string; value: string; children?: ReactNode }) {
  return (
    <Stack gap="xs">
      <Alert color="yellow" variant="light" icon={<IconEyeOff size={18} />} title="Shown once">
        Copy it now: Flowdeck keeps no readable copy and cannot show it again.
      </Alert>
      <Text size="sm" fw={500}>
        {label}
      </Text>
      <Group gap="xs" wrap="nowrap" align="center">
        <Code
          block
          aria-label={label}
          style={{ flex: 1, minWidth: 0, wordBreak: "break-all", whiteSpace: "pre-wrap", userSelect: "all" }}
        >
          {value}
        </Code>
        <CopyButton value={value} timeout={2000}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? "Copied" : "Copy"}>
              <ActionIcon
                size={40}
                variant={copied ? "filled" : "light"}
                color={copied ? "teal" : undefined}
                onClick={copy}
                aria-label={copied ? `${label} copied` : `Copy ${label}`}
              >
                {copied ? <IconCheck size={18} /> : <IconCopy size={18} />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      </Group>
      {children}
    </Stack>
  );
}
