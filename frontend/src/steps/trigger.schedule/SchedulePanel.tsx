/**
 * Below a trigger.schedule step's form: the next five times its cron fires in its time zone,
 * read by the server as the schedule will read it (asked a moment after the last keystroke),
 * or what is wrong with the expression.
 */
import { Loader, Paper, Stack, Text, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconClock } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";

import { api } from "../../api";
import { keys } from "../../query";
import {
  PREVIEW_DEBOUNCE_MS,
  type PreviewResponse,
  formatFireTime,
  previewError,
  previewRequest,
} from "./schedulePreview";

export function SchedulePanel({ config }: { config: Record<string, unknown> }) {
  const request = previewRequest(config);
  const [settled] = useDebouncedValue(request, PREVIEW_DEBOUNCE_MS);
  const query = useQuery({
    queryKey: keys.schedulePreview(settled?.cron ?? "", settled?.timezone ?? ""),
    queryFn: () =>
      api<PreviewResponse>("/api/schedules/preview/", {
        method: "POST",
        body: { cron: settled!.cron, timezone: settled!.timezone },
      }),
    enabled: settled !== null,
    staleTime: 60_000,
    retry: false,
  });
  const waiting = request !== null && (query.isFetching || settled?.cron !== request.cron || settled?.timezone !== request.timezone);
  return (
    <Paper withBorder p="sm" component="section" aria-label="Next fire times" aria-busy={waiting}>
      <Title order={3} size="sm" mb={6}>
        <IconClock size={15} style={{ verticalAlign: "-2px", marginRight: 6 }} />
        Next fire times{request?.timezone ? ` (${request.timezone})` : ""}
        {waiting && <Loader size={12} ml={8} />}
      </Title>
      {!request && (
        <Text size="sm" c="dimmed">
          Enter a cron expression to see when it fires.
        </Text>
      )}
      {request && query.isError && !waiting && (
        <Text size="sm" c="red" role="alert">
          {previewError(query.error)}
        </Text>
      )}
      {request && query.data && !query.isError && !waiting && (
        <Stack component="ol" gap={2} m={0} pl="md">
          {query.data.next_fire_times.map((time) => (
            <Text component="li" size="sm" key={time} ff="monospace">
              <time dateTime={time}>{formatFireTime(time)}</time>
            </Text>
          ))}
        </Stack>
      )}
    </Paper>
  );
}
