/**
 * The panel shown when no step is selected: the workflow's inputs (what a run is started with,
 * and what `input.*` names in expressions) and its output. Inputs are edited as a list of
 * fields; the JSON Schema behind them is written for the user and can be edited directly too.
 */
import {
  Accordion,
  ActionIcon,
  Button,
  Checkbox,
  Code,
  Group,
  JsonInput,
  Paper,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
  Tooltip,
} from "@mantine/core";
import { IconPlus, IconTrash } from "@tabler/icons-react";
import { useEffect, useState } from "react";

import { PRIORITIES, type Priority, priorityOf, storedPriority } from "../../priority";
import { FIELD_TYPES, type FieldType, type InputField, fieldNameProblem, fieldsOf, schemaOf } from "../inputSchema";
import { useEditor } from "../store";
import { TestsPanel } from "./TestsPanel";

function sameJson(text: string, other: string): boolean {
  try {
    return JSON.stringify(text.trim() ? JSON.parse(text) : undefined) === JSON.stringify(other ? JSON.parse(other) : undefined);
  } catch {
    return false;
  }
}

/** A JSON editor: the value is applied when it parses, else the parse error is shown. */
function JsonArea({
  label,
  description,
  value,
  onApply,
}: {
  label: string;
  description?: string;
  value: unknown;
  onApply: (value: unknown) => void;
}) {
  const shown = value === undefined ? "" : JSON.stringify(value, null, 2);
  const [text, setText] = useState(shown);
  const [error, setError] = useState<string | null>(null);
  // Follow the graph when it changes elsewhere (undo, the fields list), but never rewrite
  // what the user is typing: text that already means the value, or does not parse yet, stays.
  useEffect(() => {
    setText((current) => (error || sameJson(current, shown) ? current : shown));
  }, [shown, error]);
  return (
    <JsonInput
      label={label}
      description={description}
      value={text}
      autosize
      minRows={4}
      maxRows={16}
      spellCheck={false}
      error={error ? <span role="alert">{error}</span> : undefined}
      onChange={(next) => {
        setText(next);
        if (!next.trim()) {
          setError(null);
          onApply(undefined);
          return;
        }
        try {
          const parsed = JSON.parse(next);
          setError(null);
          onApply(parsed);
        } catch (err) {
          setError((err as Error).message);
        }
      }}
    />
  );
}

export function WorkflowPanel() {
  const schema = useEditor((s) => s.graph.input_schema);
  const output = useEditor((s) => s.graph.output);
  const priority = useEditor((s) => priorityOf(s.graph));
  const setGraphPart = useEditor((s) => s.setGraphPart);
  const fields = fieldsOf(schema);
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  const setFields = (next: InputField[]) => setGraphPart("input_schema", schemaOf(next, schema));
  const change = (index: number, patch: Partial<InputField>) =>
    setFields(fields.map((f, i) => (i === index ? { ...f, ...patch } : f)));

  const add = () => {
    const trimmed = name.trim();
    const refused = fieldNameProblem(trimmed, fields.map((f) => f.name));
    setProblem(refused);
    if (refused) return;
    setFields([...fields, { name: trimmed, type: "string", title: "", required: false }]);
    setName("");
  };

  return (
    <Stack gap="md" component="aside" aria-label="Workflow settings" p="md">
      <div>
        <Title order={2} size="h4">
          Workflow
        </Title>
        <Text size="sm" c="dimmed">
          Select a step to configure it. The inputs below are asked for when a run starts.
        </Text>
      </div>
      <Stack gap={4} component="section" aria-label="Priority">
        <Title order={3} size="sm" id="workflow-priority">
          Priority
        </Title>
        <SegmentedControl
          aria-labelledby="workflow-priority"
          size="xs"
          fullWidth
          data={PRIORITIES.map((p) => ({ value: p, label: p }))}
          value={priority}
          onChange={(v) => setGraphPart("priority", storedPriority(v as Priority))}
        />
        <Text size="xs" c="dimmed">
          Runs are taken from the queue before lower ones; a start, a webhook or a schedule may ask for another.
        </Text>
      </Stack>
      <Stack gap="xs" component="section" aria-label="Inputs">
        <Title order={3} size="sm">
          Inputs
        </Title>
        {fields.length === 0 && (
          <Text size="sm" c="dimmed">
            No inputs yet: add one by name below.
          </Text>
        )}
        {fields.map((field, i) => (
          <Paper key={field.name} withBorder p="xs" aria-label={`Input ${field.name}`} component="div" role="group">
            <Group justify="space-between" wrap="nowrap" mb={4}>
              <Code>input.{field.name}</Code>
              <Tooltip label={`Remove input ${field.name}`}>
                <ActionIcon
                  variant="subtle"
                  color="red"
                  size={30}
                  aria-label={`Remove input ${field.name}`}
                  onClick={() => setFields(fields.filter((_, j) => j !== i))}
                >
                  <IconTrash size={16} />
                </ActionIcon>
              </Tooltip>
            </Group>
            <Group gap="xs" grow wrap="nowrap" align="flex-start">
              <Select
                label={`Type of ${field.name}`}
                size="xs"
                data={[...FIELD_TYPES]}
                value={field.type}
                allowDeselect={false}
                onChange={(v) => v && change(i, { type: v as FieldType })}
                comboboxProps={{ withinPortal: true }}
              />
              <TextInput
                label={`Title of ${field.name}`}
                size="xs"
                value={field.title}
                onChange={(e) => change(i, { title: e.currentTarget.value })}
              />
            </Group>
            <Checkbox
              mt={6}
              size="xs"
              label={`${field.name} is required`}
              checked={field.required}
              onChange={(e) => change(i, { required: e.currentTarget.checked })}
            />
          </Paper>
        ))}
        <Group gap="xs" wrap="nowrap" align="flex-start">
          <TextInput
            aria-label="New input name"
            placeholder="name, e.g. amount"
            size="sm"
            style={{ flex: 1 }}
            value={name}
            error={problem ? <span role="alert">{problem}</span> : undefined}
            onChange={(e) => setName(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                add();
              }
            }}
          />
          <Button variant="light" leftSection={<IconPlus size={15} />} onClick={add}>
            Add input
          </Button>
        </Group>
      </Stack>
      <Accordion variant="contained">
        <Accordion.Item value="schema">
          <Accordion.Control>Input schema (JSON)</Accordion.Control>
          <Accordion.Panel>
            <JsonArea
              label="Input schema"
              description="The JSON Schema of a run's input; `examples` gives the Run form its sample input."
              value={schema}
              onApply={(v) => setGraphPart("input_schema", v)}
            />
          </Accordion.Panel>
        </Accordion.Item>
      </Accordion>
      <JsonArea
        label="Output (templates over steps.*)"
        description="What the run returns when it succeeds"
        value={output}
        onApply={(v) => setGraphPart("output", v)}
      />
      <TestsPanel />
    </Stack>
  );
}
