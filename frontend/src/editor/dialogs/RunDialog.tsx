/**
 * Start a run of the saved workflow: a Mantine modal with the input form generated from the
 * workflow's `input_schema` (rjsf with Mantine's theme: every input the schema allows, lists
 * of objects included), the schema's sample input (`examples[0]`) one click away, and a JSON
 * tab to paste an input. A scheduled workflow says that a manual run gets the schedule's input,
 * and shows it. The run's priority starts as the workflow's and may be changed for this run.
 * Starting opens the run view.
 */
import { Alert, Button, Group, JsonInput, Modal, SegmentedControl, Stack, Tabs, Text } from "@mantine/core";
import type { RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { IconClock, IconCode, IconForms, IconPlayerPlay, IconSparkles } from "@tabler/icons-react";
import { useMutation } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useNavigate } from "react-router";

import { ApiError, api } from "../../api";
import { PRIORITIES, type Priority, priorityOf } from "../../priority";
import { errorText } from "../../ui/notify";
import { toastOk } from "../toast";
import { JsonObjectField, ThemedForm, openObjectsAsJson } from "../form";
import type { GraphDoc } from "../graph";
import { useEditor } from "../store";

const FIELDS = { jsonObject: JsonObjectField };

/** The schema's first sample input (JSON Schema's `examples`), if it gives one. */
export function sampleInput(schema: Record<string, unknown> | undefined): Record<string, unknown> | null {
  const examples = schema?.examples;
  if (!Array.isArray(examples) || !examples.length) return null;
  const first = examples[0];
  return first && typeof first === "object" && !Array.isArray(first) ? (first as Record<string, unknown>) : null;
}

/** A schedule trigger's configured input: what a run it starts (or a manual run) gets. */
export function scheduleInput(graph: GraphDoc): { input: Record<string, unknown> } | null {
  const trigger = graph.nodes.find((n) => n.type === "trigger.schedule");
  if (!trigger) return null;
  const input = trigger.config.input;
  return { input: input && typeof input === "object" && !Array.isArray(input) ? (input as Record<string, unknown>) : {} };
}

function RunForm({ workflowId, graph, onClose }: { workflowId: number; graph: GraphDoc; onClose: () => void }) {
  const navigate = useNavigate();
  const schema = (graph.input_schema ?? { type: "object", properties: {} }) as RJSFSchema;
  const uiSchema = useMemo(
    () => ({ ...openObjectsAsJson(graph.input_schema), "ui:submitButtonOptions": { norender: true } }),
    [graph.input_schema],
  );
  const scheduled = useMemo(() => scheduleInput(graph), [graph]);
  const sample = sampleInput(graph.input_schema);
  const [data, setData] = useState<Record<string, unknown>>(() => scheduled?.input ?? {});
  // A new form when the data is replaced from outside (the sample, the JSON tab).
  const [formKey, setFormKey] = useState(0);
  const [tab, setTab] = useState<string | null>("form");
  const [json, setJson] = useState(() => JSON.stringify(data, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [priority, setPriority] = useState<Priority>(() => priorityOf(graph));

  const replace = (next: Record<string, unknown>) => {
    setData(next);
    setJson(JSON.stringify(next, null, 2));
    setJsonError(null);
    setFormKey((k) => k + 1);
  };

  const start = useMutation({
    mutationFn: (input: Record<string, unknown>) =>
      api<{ id: number }>(`/api/workflows/${workflowId}/runs/`, { method: "POST", body: { input, priority } }),
    onSuccess: (run) => {
      toastOk(`Run ${run.id} started`, "Running");
      onClose();
      navigate(`/runs/${run.id}`);
    },
  });
  const failure = start.error
    ? start.error instanceof ApiError && start.error.errors.length
      ? start.error.errors.map((x) => `${x.field ? `${x.field}: ` : ""}${x.message}`).join("; ")
      : errorText(start.error).message
    : null;

  const submitJson = () => {
    try {
      const parsed = json.trim() ? JSON.parse(json) : {};
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        setJsonError("The input is a JSON object: {\"name\": value, ...}");
        return;
      }
      start.mutate(parsed);
    } catch (e) {
      setJsonError((e as Error).message);
    }
  };

  return (
    <Stack gap="sm">
      {scheduled && (
        <Alert color="blue" variant="light" icon={<IconClock size={18} />} title="A scheduled workflow">
          A run started by hand gets the schedule's input, shown below; change it here for this run only.
        </Alert>
      )}
      {sample && (
        <Group justify="space-between" wrap="nowrap">
          <Text size="sm" c="dimmed">
            The workflow comes with a sample input.
          </Text>
          <Button size="xs" variant="light" leftSection={<IconSparkles size={15} />} onClick={() => replace(sample)}>
            Use sample input
          </Button>
        </Group>
      )}
      <Group gap="sm" wrap="nowrap">
        <Text size="sm" fw={500} id="run-priority">
          Priority
        </Text>
        <SegmentedControl
          aria-labelledby="run-priority"
          size="xs"
          data={PRIORITIES.map((p) => ({ value: p, label: p }))}
          value={priority}
          onChange={(v) => setPriority(v as Priority)}
        />
      </Group>
      <Tabs
        value={tab}
        onChange={(next) => {
          if (next === "form" && tab === "json") {
            try {
              const parsed = json.trim() ? JSON.parse(json) : {};
              if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) replace(parsed);
            } catch {
              // Unparsable text stays in the JSON tab; the form keeps its data.
            }
          }
          if (next === "json") setJson(JSON.stringify(data, null, 2));
          setTab(next);
        }}
      >
        <Tabs.List>
          <Tabs.Tab value="form" leftSection={<IconForms size={15} />}>
            Form
          </Tabs.Tab>
          <Tabs.Tab value="json" leftSection={<IconCode size={15} />}>
            JSON
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="form" pt="sm">
          <ThemedForm
            key={formKey}
            schema={schema}
            uiSchema={uiSchema}
            formData={data}
            fields={FIELDS}
            validator={validator}
            showErrorList="top"
            noHtml5Validate
            id="run-form"
            onChange={(event) => setData((event.formData ?? {}) as Record<string, unknown>)}
            onSubmit={(event) => start.mutate((event.formData ?? {}) as Record<string, unknown>)}
          >
            <Group justify="flex-end" mt="md">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" leftSection={<IconPlayerPlay size={16} />} loading={start.isPending}>
                Start run
              </Button>
            </Group>
          </ThemedForm>
        </Tabs.Panel>
        <Tabs.Panel value="json" pt="sm">
          <JsonInput
            label="Input (JSON)"
            description="Paste the run's input as a JSON object"
            value={json}
            onChange={(next) => {
              setJson(next);
              setJsonError(null);
            }}
            error={jsonError}
            autosize
            minRows={8}
            maxRows={20}
          />
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button leftSection={<IconPlayerPlay size={16} />} loading={start.isPending} onClick={submitJson}>
              Start run
            </Button>
          </Group>
        </Tabs.Panel>
      </Tabs>
      {failure && (
        <Alert color="red" role="alert" title="Not started">
          {failure}
        </Alert>
      )}
    </Stack>
  );
}

export function RunDialog() {
  const open = useEditor((s) => s.runOpen);
  const id = useEditor((s) => s.meta.id);
  const graph = useEditor((s) => s.saved);
  const close = () => useEditor.getState().setRunOpen(false);
  return (
    <Modal opened={open && id !== null} onClose={close} title="Run the workflow" size="lg">
      {id !== null && <RunForm workflowId={id} graph={graph} onClose={close} />}
    </Modal>
  );
}
