/**
 * The form for the selected step: its label, id and join, its retries and timeout, and its
 * config generated from the step type's JSON Schema by react-jsonschema-form with Mantine's
 * theme (no hand-written form per type; STYLE 17). The schema is first simplified for the form
 * (formSchema.ts); then fields holding expressions get the expression widget
 * (expressionForm.tsx), credential fields a select of credentials. Problems on `config.*` show
 * under their fields.
 */
import { Checkbox, Code, Fieldset, NumberInput, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import type { ErrorSchema, RJSFSchema, UiSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { memo, useMemo, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";

import { CREDENTIAL_WIDGET, credentialUiSchema } from "../../credentials";
import { CredentialWidget } from "../CredentialWidget";
import { WIDGETS, expressionForm } from "../expressionForm";
import { ThemedForm } from "../form";
import { formSchemaOf, mergeUiSchemas } from "../formSchema";
import { type NodeDoc, type Problem, type StepTypeInfo, countReferences } from "../graph";
import { JsonValueField } from "../JsonValueField";
import { useEditor } from "../store";

const FIELDS = { jsonValue: JsonValueField };
const ALL_WIDGETS = { ...WIDGETS, [CREDENTIAL_WIDGET]: CredentialWidget };

/** The problems on `config.*` fields as rjsf's extraErrors, so each shows under its field. */
export function configErrors(problems: Problem[]): ErrorSchema {
  const errors: Record<string, unknown> = {};
  for (const p of problems) {
    if (!p.field?.startsWith("config.")) continue;
    let at = errors;
    for (const part of p.field.slice("config.".length).split(".")) {
      at[part] ??= {};
      at = at[part] as Record<string, unknown>;
    }
    at.__errors = [...((at.__errors as string[] | undefined) ?? []), p.message];
  }
  return errors as ErrorSchema;
}

/** The step's id, renamed on Enter or when the field is left; references follow. */
const IdField = memo(function IdField({ node }: { node: Pick<NodeDoc, "id"> }) {
  const renameNode = useEditor((s) => s.renameNode);
  // Counted when a config or the output changes: the list of configs is the same (shallowly)
  // when a label is typed, so this field does not render again then.
  const configs = useEditor(useShallow((s) => s.graph.nodes.map((n) => n.config)));
  const output = useEditor((s) => s.graph.output);
  const references = useMemo(() => countReferences([configs, output], node.id), [configs, output, node.id]);
  const [text, setText] = useState(node.id);
  const [refusal, setRefusal] = useState<string | null>(null);
  const apply = () => {
    const wanted = text.trim();
    const problem = wanted === node.id ? null : renameNode(node.id, wanted);
    setRefusal(problem);
    if (problem) setText(node.id);
  };
  return (
    <TextInput
      label="Id"
      value={text}
      styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
      description={
        <>
          Expressions reach this step as <Code fz="inherit">steps.{node.id}</Code>
          {references > 0 ? `; renaming updates the ${references} that name it` : ""}.
        </>
      }
      error={refusal ? <span role="alert">{refusal}</span> : undefined}
      onChange={(e) => setText(e.currentTarget.value)}
      onBlur={apply}
      onKeyDown={(e) => {
        if (e.key === "Enter") apply();
        if (e.key === "Escape") setText(node.id);
      }}
    />
  );
});

const JOINS = [
  { value: "all_success", label: "all_success: every step before it succeeded" },
  { value: "one_success", label: "one_success: at least one succeeded" },
  { value: "none_failed", label: "none_failed: none failed (skips are fine)" },
  { value: "all_done", label: "all_done: all finished, however" },
];

/** The retry policy's number fields (CONTRACT §1), with the engine's defaults as placeholders. */
const RETRY_NUMBERS = [
  { key: "max_attempts", label: "Max attempts", min: 1, max: 100, placeholder: "1", decimal: false },
  { key: "backoff_s", label: "Backoff (s)", min: 0, placeholder: "1", decimal: true },
  { key: "backoff_factor", label: "Backoff factor", min: 1, placeholder: "2", decimal: true },
  { key: "max_backoff_s", label: "Backoff cap (s)", min: 0, placeholder: "300", decimal: true },
] as const;

type RetryKey = "max_attempts" | "backoff_s" | "backoff_factor" | "max_backoff_s" | "jitter";

/** The node's retry policy with one field changed; an emptied field is left out, and an
 * emptied policy is removed. */
function withRetry(node: Pick<NodeDoc, "retry">, key: RetryKey, raw: string | number | boolean): NodeDoc["retry"] {
  const retry: Record<string, number | boolean> = { ...(node.retry ?? {}) };
  if (raw === "") delete retry[key];
  else retry[key] = typeof raw === "boolean" ? raw : Number(raw);
  return Object.keys(retry).length ? retry : undefined;
}

/** The config form generated from the schema; re-rendered only when the config, the type or
 * the problems change (not for each key typed in the label: with 1,000 steps, it counts). */
const ConfigForm = memo(function ConfigForm({
  nodeId,
  info,
  config,
  problems,
}: {
  nodeId: string;
  info: StepTypeInfo;
  config: Record<string, unknown>;
  problems: Problem[];
}) {
  const updateNode = useEditor((s) => s.updateNode);
  const form = useMemo(() => {
    const simple = formSchemaOf(info.config_schema);
    const { schema, uiSchema } = expressionForm({ ...info, config_schema: simple.schema }, config);
    // Credential fields last: a select of credentials, whatever the other passes made of them.
    const merged = mergeUiSchemas(mergeUiSchemas(uiSchema, simple.uiSchema), credentialUiSchema(info.credential_fields));
    const ui = { ...merged, "ui:submitButtonOptions": { norender: true } };
    return { schema: schema as RJSFSchema, uiSchema: ui as UiSchema };
  }, [info, config]);
  const extraErrors = useMemo(() => configErrors(problems), [problems]);
  // The widget reads the graph from the store; which node it edits comes through the form.
  const formContext = useMemo(() => ({ nodeId }), [nodeId]);
  // rjsf reports a change when it fills in the schema's defaults on mount; only what the user
  // does in the form is an edit (opening a step must not mark the workflow unsaved).
  const touched = useRef<string | null>(null);
  const touch = () => {
    touched.current = nodeId;
  };
  return (
    <div className="fd-config-form" onInputCapture={touch} onChangeCapture={touch} onClickCapture={touch} onKeyDownCapture={touch}>
      <ThemedForm
        // A new form per node: rjsf keeps internal state for the data it was given.
        key={nodeId}
        schema={form.schema}
        formData={config}
        validator={validator}
        fields={FIELDS}
        // Fill in defaults the schema states, but no empty list items or empty objects for
        // optional parts the user has not touched (escalate_to and its groups, say).
        experimental_defaultFormStateBehavior={{
          arrayMinItems: { populate: "never" },
          emptyObjectFields: "skipEmptyDefaults",
        }}
        extraErrors={extraErrors}
        showErrorList={false}
        uiSchema={form.uiSchema}
        widgets={ALL_WIDGETS}
        formContext={formContext}
        onChange={(event) => {
          const next = (event.formData ?? {}) as Record<string, unknown>;
          if (touched.current !== nodeId) return;
          const current = useEditor.getState().graph.nodes.find((n) => n.id === nodeId)?.config;
          if (JSON.stringify(next) !== JSON.stringify(current)) updateNode(nodeId, { config: next });
        }}
      />
    </div>
  );
});

/** The retry policy and the timeout; re-rendered only when they change. */
const RetryFields = memo(function RetryFields({ node }: { node: Pick<NodeDoc, "id" | "retry" | "timeout_s"> }) {
  const updateNode = useEditor((s) => s.updateNode);
  return (
    <Fieldset legend="Retries and timeout" variant="filled" p="sm">
      <SimpleGrid cols={2} spacing="xs" verticalSpacing="xs">
        {RETRY_NUMBERS.map(({ key, label, decimal, ...input }) => (
          <NumberInput
            key={key}
            label={label}
            size="xs"
            {...input}
            allowDecimal={decimal}
            value={node.retry?.[key] ?? ""}
            onChange={(value) => updateNode(node.id, { retry: withRetry(node, key, value) })}
          />
        ))}
      </SimpleGrid>
      <Checkbox
        mt="sm"
        size="xs"
        label="Jitter (spread retries at random)"
        checked={node.retry?.jitter ?? true}
        onChange={(e) => updateNode(node.id, { retry: withRetry(node, "jitter", e.currentTarget.checked) })}
      />
      <NumberInput
        mt="xs"
        size="xs"
        label="Timeout per attempt (s)"
        min={1}
        placeholder="none"
        value={node.timeout_s ?? ""}
        onChange={(value) => updateNode(node.id, { timeout_s: value === "" ? undefined : Number(value) })}
      />
      <Text size="xs" c="dimmed" mt={6}>
        Empty fields take the engine's defaults (shown in grey).
      </Text>
    </Fieldset>
  );
});

const JoinField = memo(function JoinField({ id, join }: { id: string; join: NodeDoc["join"] }) {
  const updateNode = useEditor((s) => s.updateNode);
  return (
    <Select
      label="Join"
      description="When this step runs, if several steps lead to it"
      data={JOINS}
      value={join ?? "all_success"}
      allowDeselect={false}
      onChange={(value) => value && updateNode(id, { join: value as NodeDoc["join"] })}
      comboboxProps={{ withinPortal: true }}
    />
  );
});

/** The step's label, straight from the store (undo shows in it at once); what is typed goes to
 * the graph, and the canvas shows it. */
function LabelField({ id }: { id: string }) {
  const label = useEditor((s) => s.graph.nodes.find((n) => n.id === id)?.label ?? "");
  return (
    <TextInput
      label="Label"
      value={label}
      onChange={(e) => useEditor.getState().updateNode(id, { label: e.currentTarget.value })}
    />
  );
}

const NO_PROBLEMS: Problem[] = [];

export const ConfigPanel = memo(function ConfigPanel({
  nodeId,
  info,
  problems = NO_PROBLEMS,
}: {
  nodeId: string;
  info: StepTypeInfo | undefined;
  /** This step's problems (client and server): config ones appear under their fields. */
  problems?: Problem[];
}) {
  // The parts of the node each memoised part shows, each read on its own: none of them
  // changes when only the label does.
  const find = (s: { graph: { nodes: NodeDoc[] } }) => s.graph.nodes.find((n) => n.id === nodeId);
  const join = useEditor((s) => find(s)?.join);
  const config = useEditor((s) => find(s)?.config);
  const retry = useEditor(
    useShallow((s) => ({ id: nodeId, retry: find(s)?.retry, timeout_s: find(s)?.timeout_s })),
  );
  const node = useMemo(() => ({ id: nodeId }), [nodeId]);
  return (
    <Stack gap="sm">
      <LabelField key={nodeId} id={nodeId} />
      <IdField key={`id-${nodeId}`} node={node} />
      <JoinField id={nodeId} join={join} />
      {info && config && <ConfigForm nodeId={nodeId} info={info} config={config} problems={problems} />}
      <RetryFields node={retry} />
    </Stack>
  );
});
