/** The inspector's Logs: each attempt's lines (time, level, message) with a level filter;
 * read again when one of the step's attempts ends, which the run's socket says (cache.ts). */
import { Alert, Badge, Box, Group, Loader, ScrollArea, Select, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";

import { errorText } from "../ui/notify";
import { type LogLevel, logRows, logTime } from "./logs";
import { useStepLogs } from "./queries";

const LEVEL_CHOICES: { value: LogLevel; label: string }[] = [
  { value: "debug", label: "All lines" },
  { value: "info", label: "Info and above" },
  { value: "warning", label: "Warning and above" },
  { value: "error", label: "Errors only" },
];

const LEVEL_COLORS: Record<string, string> = { debug: "gray", info: "blue", warning: "yellow", error: "red" };

export function StepLogs({ runId, node, status }: { runId: number; node: string; status: string }) {
  const logs = useStepLogs(runId, node);
  const [minLevel, setMinLevel] = useState<LogLevel>("debug");
  const data = logs.data && logs.data.node === node ? logs.data : null;

  return (
    <Stack component="section" aria-label="Logs" gap="sm">
      {logs.error && (
        <Alert color="red" title="The logs could not be read">
          {errorText(logs.error).message}
        </Alert>
      )}
      {!data ? (
        !logs.error && (
          <Group gap="xs">
            <Loader size="xs" />
            <Text size="sm" c="dimmed">
              Reading the logs…
            </Text>
          </Group>
        )
      ) : data.attempts.length === 0 ? (
        <Text size="sm" c="dimmed">
          {status === "running" ? "Lines logged by this attempt show when it ends." : "No lines logged."}
        </Text>
      ) : (
        <>
          <Select
            label="Log level"
            data={LEVEL_CHOICES}
            value={minLevel}
            onChange={(v) => v && setMinLevel(v as LogLevel)}
            allowDeselect={false}
            size="sm"
            maw={240}
          />
          {[...data.attempts].reverse().map((a) => {
            const rows = logRows(a, minLevel);
            return (
              <Box key={a.attempt} role="group" aria-label={`Logs of attempt ${a.attempt}`}>
                <Title order={4} size="h5" mb={4}>
                  Attempt {a.attempt}
                </Title>
                {rows.length === 0 ? (
                  <Text size="sm" c="dimmed">
                    No lines at this level.
                  </Text>
                ) : (
                  <ScrollArea.Autosize mah={300} type="auto" offsetScrollbars>
                    <Box component="ol" m={0} p="xs" ff="monospace" fz="xs" bg="var(--mantine-color-default-hover)" style={{ listStyle: "none", borderRadius: "var(--mantine-radius-sm)" }}>
                      {rows.map((row) =>
                        row.kind === "dropped" ? (
                          <Text component="li" key={row.key} className="log-dropped" size="xs" c="dimmed" fs="italic" ta="center" py={2}>
                            {row.text}
                          </Text>
                        ) : (
                          <Box component="li" key={row.key} className="log-line" data-level={row.line.level} py={1} style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
                            <Text span c="dimmed" ff="monospace" fz="xs">
                              <time dateTime={row.line.t}>{logTime(row.line.t)}</time>
                            </Text>{" "}
                            <Badge
                              component="span"
                              size="xs"
                              radius="sm"
                              variant="light"
                              color={LEVEL_COLORS[row.line.level] ?? "gray"}
                              w={62}
                              styles={{ root: { verticalAlign: "baseline" } }}
                            >
                              {row.line.level}
                            </Badge>{" "}
                            <Text span ff="monospace" fz="xs" c={row.line.level === "error" ? "var(--mantine-color-red-light-color)" : undefined}>
                              {row.line.message}
                            </Text>
                          </Box>
                        ),
                      )}
                    </Box>
                  </ScrollArea.Autosize>
                )}
              </Box>
            );
          })}
        </>
      )}
    </Stack>
  );
}

