/**
 * The side panel of the selected step (by id, a moment after the canvas; see SidePanel): its
 * title and description, its problems, its config form, what its type adds (the webhook URL,
 * the schedule's next fire times), its connections. Each part reads from the store only what
 * it shows: a key typed in the label re-renders the label field and the step on the canvas,
 * nothing else (with 1,000 steps, the rest cost ~50 ms a key).
 */
import { Alert, Group, List, Stack, Tabs, Text, Title } from "@mantine/core";
import { IconAdjustments, IconAlertCircle, IconPlayerPlay } from "@tabler/icons-react";
import { memo, useDeferredValue, useMemo } from "react";

import { SchedulePanel } from "../../steps/trigger.schedule/SchedulePanel";
import { WebhookPanel } from "../../steps/trigger.webhook/WebhookPanel";
import { StepIcon } from "../../steps/icons";
import { problemText } from "../problems";
import { useEditor } from "../store";
import { ConfigPanel } from "./ConfigPanel";
import { ConnectionsPanel } from "./ConnectionsPanel";
import { TestPanel } from "./TestPanel";

const NO_CONFIG: Record<string, unknown> = {};

export const StepPanel = memo(function StepPanel({ nodeId }: { nodeId: string }) {
  const type = useEditor((s) => s.graph.nodes.find((n) => n.id === nodeId)?.type ?? "");
  const config = useEditor((s) => s.graph.nodes.find((n) => n.id === nodeId)?.config ?? NO_CONFIG);
  const info = useEditor((s) => s.catalog[type]);
  const problems = useDeferredValue(useEditor((s) => s.problems));
  const meta = useEditor((s) => s.meta);
  const mine = useMemo(() => problems.filter((p) => p.node === nodeId), [problems, nodeId]);
  const node = { id: nodeId, type };
  const tab = useEditor((s) => s.stepTab);
  const setTab = useEditor((s) => s.setStepTab);
  return (
    <Stack gap="md" component="aside" aria-label={`Configure ${node.id}`} p="md">
      <Group gap="sm" wrap="nowrap" align="flex-start">
        <StepIcon type={node.type} category={info?.category} size={36} />
        <div style={{ minWidth: 0 }}>
          <Title order={2} size="h4">
            {info?.title ?? node.type}
          </Title>
          {info?.description && (
            <Text size="sm" c="dimmed">
              {info.description}
            </Text>
          )}
        </div>
      </Group>
      {mine.length > 0 && (
        <Alert color="red" variant="light" icon={<IconAlertCircle size={18} />} p="xs" title={`${mine.length} to fix`}>
          <List size="sm" aria-label={`Problems of ${node.id}`}>
            {mine.map((p, i) => (
              <List.Item key={i}>{problemText({ ...p, node: null })}</List.Item>
            ))}
          </List>
        </Alert>
      )}
      {info && !info.is_trigger ? (
        // Configure and test side by side, one click apart: the loop of trying a step while
        // building it (issue 18). The tab stays as chosen from step to step.
        <Tabs value={tab} onChange={(t) => setTab(t === "test" ? "test" : "configure")} keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="configure" leftSection={<IconAdjustments size={16} />}>
              Configure
            </Tabs.Tab>
            <Tabs.Tab value="test" leftSection={<IconPlayerPlay size={16} />}>
              Test
            </Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="configure" pt="md">
            <Stack gap="md">
              <ConfigPanel nodeId={nodeId} info={info} problems={mine} />
              <ConnectionsPanel key={nodeId} nodeId={nodeId} />
            </Stack>
          </Tabs.Panel>
          <Tabs.Panel value="test" pt="md">
            <TestPanel nodeId={nodeId} />
          </Tabs.Panel>
        </Tabs>
      ) : (
        <>
          <ConfigPanel nodeId={nodeId} info={info} problems={mine} />
          {type === "trigger.schedule" && <SchedulePanel config={config} />}
          {type === "trigger.webhook" && <WebhookPanel workflowId={meta.id} version={meta.version} />}
          <ConnectionsPanel key={nodeId} nodeId={nodeId} />
        </>
      )}
    </Stack>
  );
});
