/**
 * The selected step's connections as a form: what each output leads to, remove one, put a step
 * in its middle, add one. It is the keyboard's way to connect steps (dragging a handle needs a
 * pointer), and it applies the same rules as the canvas. It names the step's compensation
 * (the step that undoes it) or the step it undoes, each a link to that step; "compensate" is
 * one more output to connect from.
 */
import { ActionIcon, Anchor, Button, Fieldset, Group, Select, Stack, Text, Tooltip } from "@mantine/core";
import { IconArrowBackUp, IconArrowRight, IconPlus, IconRowInsertBottom, IconX } from "@tabler/icons-react";
import { memo, useMemo, useState } from "react";
import { useShallow } from "zustand/react/shallow";

import { dropPosition } from "../../steps/geometry";
import {
  COMPENSATE_HANDLE,
  DEFAULT_HANDLE,
  compensationOf,
  compensations,
  connectableTargets,
  handlesOf,
  insertableTypes,
  isCompensateEdge,
} from "../graph";
import { StepTypePicker } from "../StepTypePicker";
import { useEditor } from "../store";
import { useReveal } from "../useReveal";

const NO_CONFIG: Record<string, unknown> = {};

/** What the list of next steps depends on, besides the edges: the other steps' ids, labels and
 * types (not this step's label, which is being typed while the panel is open). */
function othersKey(nodes: { id: string; label?: string; type: string }[], nodeId: string): string[] {
  return nodes.filter((n) => n.id !== nodeId).map((n) => `${n.id}\u0000${n.label ?? ""}\u0000${n.type}`);
}

export const ConnectionsPanel = memo(function ConnectionsPanel({ nodeId }: { nodeId: string }) {
  // Read again when the edges or the other steps change, not for a key typed in this step's
  // label: the candidates' check walks the graph, and the select parses 1,000 options.
  const edges = useEditor((s) => s.graph.edges);
  const others = useEditor(useShallow((s) => othersKey(s.graph.nodes, nodeId)));
  const self = useEditor(useShallow((s) => {
    const n = s.graph.nodes.find((x) => x.id === nodeId);
    return { id: nodeId, type: n?.type ?? "", position: n?.position, config: n?.config ?? NO_CONFIG };
  }));
  const graph = useMemo(() => useEditor.getState().graph, [edges, others, self]);
  const node = self;
  const catalog = useEditor((s) => s.catalog);
  const { connect, disconnect, insertOnEdge } = useEditor.getState();
  const handles = [...handlesOf(node, catalog), COMPENSATE_HANDLE];
  const reveal = useReveal();
  const undoneBy = compensationOf(graph.edges, node.id);
  const undoes = compensations(graph.edges).get(node.id) ?? null;
  const [picked, setHandle] = useState(handles[0] ?? DEFAULT_HANDLE);
  const handle = handles.includes(picked) ? picked : (handles[0] ?? DEFAULT_HANDLE);
  const [target, setTarget] = useState("");
  const outgoing = graph.edges.filter((e) => e.source === node.id);
  const incoming = graph.edges.filter((e) => e.target === node.id);
  const candidates = useMemo(
    () => connectableTargets(graph, catalog, node.id, handle),
    [graph, catalog, node.id, handle],
  );
  const insertable = useMemo(() => insertableTypes(catalog), [catalog]);
  const options = useMemo(
    () => candidates.map((n) => ({ value: n.id, label: n.label ? `${n.label} (${n.id})` : n.id })),
    [candidates],
  );
  const chosen = candidates.some((n) => n.id === target) ? target : (candidates[0]?.id ?? "");
  const labelOf = (id: string) => graph.nodes.find((n) => n.id === id)?.label || id;
  const between = (targetId: string) => {
    const a = graph.nodes.find((n) => n.id === node.id)?.position ?? { x: 0, y: 0 };
    const b = graph.nodes.find((n) => n.id === targetId)?.position ?? a;
    return dropPosition({ x: (a.x + b.x) / 2 + 100, y: (a.y + b.y) / 2 + 28 });
  };

  return (
    <Fieldset legend="Connections" aria-label={`Connections of ${node.id}`} variant="filled" p="sm">
      <Stack gap="xs">
        {(undoneBy || undoes) && (
          <Group gap={6} wrap="nowrap" data-testid="compensation-link">
            <IconArrowBackUp size={15} aria-hidden="true" color="var(--mantine-color-orange-filled)" />
            <Text size="sm">
              {undoneBy ? "Compensation: " : "Undoes "}
              <Anchor component="button" type="button" size="sm" onClick={() => reveal((undoneBy ?? undoes)!)}>
                {labelOf((undoneBy ?? undoes)!)}
              </Anchor>
            </Text>
          </Group>
        )}
        {incoming.length > 0 && (
          <Text size="xs" c="dimmed">
            From: {incoming.map((e) => labelOf(e.source)).join(", ")}
          </Text>
        )}
        {outgoing.length === 0 && (
          <Text size="xs" c="dimmed">
            No connection leaves this step yet.
          </Text>
        )}
        {outgoing.map((edge) => {
          const out = edge.source_handle || DEFAULT_HANDLE;
          return (
            <Group key={edge.id} gap={6} wrap="nowrap" justify="space-between">
              <Text size="sm" style={{ minWidth: 0 }} truncate>
                <Text span ff="monospace" size="xs" c="dimmed">
                  {out}
                </Text>{" "}
                <IconArrowRight size={13} style={{ verticalAlign: "-2px" }} /> {labelOf(edge.target)}
              </Text>
              <Group gap={2} wrap="nowrap">
                {!isCompensateEdge(edge) && (
                  <StepTypePicker
                    types={insertable}
                    label="Search steps to insert"
                    onPick={(type) => insertOnEdge(edge.id, type, between(edge.target))}
                  >
                    <Tooltip label="Insert a step in this connection">
                      <ActionIcon variant="subtle" size={32} aria-label={`Insert a step between ${node.id} and ${edge.target}`}>
                        <IconRowInsertBottom size={17} />
                      </ActionIcon>
                    </Tooltip>
                  </StepTypePicker>
                )}
                <Tooltip label="Remove this connection">
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    size={32}
                    aria-label={`Remove connection ${out} to ${edge.target}`}
                    onClick={() => disconnect(edge.id)}
                  >
                    <IconX size={17} />
                  </ActionIcon>
                </Tooltip>
              </Group>
            </Group>
          );
        })}
        {handles.length > 0 && (
          <Group gap={6} align="flex-end" wrap="nowrap">
            <Select
              label="Output"
              size="xs"
              w={96}
              data={handles}
              value={handle}
              allowDeselect={false}
              onChange={(v) => v && setHandle(v)}
              comboboxProps={{ withinPortal: true }}
            />
            <Select
              label="Next step"
              size="xs"
              style={{ flex: 1, minWidth: 0 }}
              data={options}
              value={chosen || null}
              placeholder={candidates.length ? undefined : "none can follow"}
              allowDeselect={false}
              searchable
              onChange={(v) => setTarget(v ?? "")}
              comboboxProps={{ withinPortal: true }}
            />
            <Button
              size="xs"
              variant="light"
              leftSection={<IconPlus size={14} />}
              disabled={!chosen}
              onClick={() => connect({ source: node.id, target: chosen, sourceHandle: handle })}
            >
              Connect
            </Button>
          </Group>
        )}
      </Stack>
    </Fieldset>
  );
});
