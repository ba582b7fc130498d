/**
 * Under an expression or template field: its value with the newest run's data (the run being
 * debugged, when one is) and the pinned outputs over it, evaluated by the server in the run's
 * sandbox (`POST /api/workflows/{id}/preview/`) a moment after each change, so a user sees what
 * the step would get while typing. Nothing is shown for a workflow never saved, or without a
 * run or a pin, for plain text in a template field (it is its own value), nor in a map's
 * per-item fields (`item` and `index` exist only while a run maps a list).
 */
import { Code, Group, Loader, Text } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { api } from "../api";
import type { ExpressionMode } from "./completion";
import { useEditor } from "./store";
import { usePins } from "./testing";

type Preview = {
  run: { id: number; status: string } | null;
  pinned: string[];
  value: unknown;
  error: { code: string; message: string } | null;
};

/** How long a value's text may be on screen before it is cut (the server sends up to 64 kB). */
const SHOWN_CHARS = 400;

/** Whether `source` has anything to evaluate: a template without a placeholder is plain text,
 * and a map's per-item field names `item` and `index`, which no run's data holds. */
export function needsPreview(source: string, mode: ExpressionMode, items = false): boolean {
  if (items || source.trim() === "") return false;
  return mode === "expression" || /\{\{|\{%/.test(source);
}

/** The value as one line of JSON, cut to `limit` characters. */
export function shownValue(value: unknown, limit = SHOWN_CHARS): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/** What the value was computed with: "In run 12", "In run 12 with pins", "With pins". */
export function previewSource(run: number | null, pinned: number): string {
  if (run === null) return "With pins";
  return pinned > 0 ? `In run ${run} with pins` : `In run ${run}`;
}

export function ExpressionPreview({ source, mode, items, label }: { source: string; mode: ExpressionMode; items: boolean; label: string }) {
  const workflowId = useEditor((s) => s.meta.id);
  const [typed] = useDebouncedValue(source, 300);
  const debugRun = useEditor((s) => s.debugRun?.id);
  const pins = usePins(workflowId);
  // A pin set, changed or removed gives another answer: part of the key.
  const pinsVersion = Object.entries(pins)
    .map(([node, pin]) => `${node}@${pin.pinned_at}`)
    .join(",");
  const enabled = workflowId !== null && needsPreview(typed, mode, items);
  const preview = useQuery({
    queryKey: ["preview", workflowId, mode, typed, debugRun ?? null, pinsVersion],
    queryFn: () =>
      api<Preview>(`/api/workflows/${workflowId}/preview/`, {
        method: "POST",
        body: debugRun ? { source: typed, mode, run: debugRun } : { source: typed, mode },
      }),
    enabled,
    placeholderData: keepPreviousData,
    staleTime: 15_000,
    retry: false,
  });
  if (!enabled || !preview.data || (!preview.data.run && preview.data.pinned.length === 0)) return null;
  const { run, value, error } = preview.data;
  const where = previewSource(run?.id ?? null, preview.data.pinned.length);
  return (
    <Group gap={6} wrap="nowrap" align="flex-start" mt={4} role="status" aria-label={`${label} ${where.toLowerCase()}`}>
      <Text size="xs" c="dimmed" style={{ whiteSpace: "nowrap" }}>
        {where}:
      </Text>
      {error ? (
        <Text size="xs" c="red" style={{ overflowWrap: "anywhere" }} data-preview="error">
          {error.message}
        </Text>
      ) : (
        <Code fz="xs" style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }} data-preview="value">
          {shownValue(value)}
        </Code>
      )}
      {preview.isFetching && <Loader size={10} aria-label="Evaluating" />}
    </Group>
  );
}
