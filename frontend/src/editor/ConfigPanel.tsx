/**
 * The form for the selected step: its label and join, and its config generated from the step
 * type's JSON Schema by react-jsonschema-form (no hand-written form per type; STYLE 17). The
 * schema is first simplified for the form (formSchema.ts); then fields holding expressions get
 * the expression widget (expressionForm.tsx).
 */
import Form from "@rjsf/core";
import type { ErrorSchema, RJSFSchema, UiSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useMemo, useRef, useState } from "react";

import { CREDENTIAL_WIDGET, credentialUiSchema } from "../credentials";
import { CredentialWidget } from "./CredentialWidget";
import { WIDGETS, expressionForm } from "./expressionForm";
import { formSchemaOf, mergeUiSchemas } from "./formSchema";
import { type NodeDoc, type Problem, type StepTypeInfo, countReferences } from "./graph";
import { JsonValueField } from "./JsonValueField";
import { SchedulePreview } from "./SchedulePreview";
import { useEditor } from "./store";

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
function IdField({ node }: { node: NodeDoc }) {
  const renameNode = useEditor((s) => s.renameNode);
  const references = useEditor((s) => countReferences([s.graph.nodes.map((n) => n.config), s.graph.output], node.id));
  const [text, setText] = useState(node.id);
  const [refusal, setRefusal] = useState<string | null>(null);
  const apply = () => {
    const wanted = text.trim();
    const problem = wanted === node.id ? null : renameNode(node.id, wanted);
    setRefusal(problem);
    if (problem) setText(node.id);
  };
  return (
    <>
      <label>
        Id
        <input
          value={text}
          aria-describedby={`id-help-${node.id}`}
          aria-invalid={refusal !== null}
          onChange={(e) => setText(e.target.value)}
          onBlur={apply}
          onKeyDown={(e) => {
            if (e.key === "Enter") apply();
            if (e.key === "Escape") setText(node.id);
          }}
        />
      </label>
      {refusal && <small role="alert">{refusal}</small>}
      <small id={`id-help-${node.id}`}>
        Expressions reach this step as steps.{node.id}
        {references > 0 && `; renaming updates the ${references} that name it`}.
      </small>
    </>
  );
}

const JOINS = ["all_success", "one_success", "none_failed", "all_done"] as const;

/** The retry policy's number fields (CONTRACT §1), with the engine's defaults as placeholders. */
const RETRY_NUMBERS = [
  { key: "max_attempts", label: "Max attempts", min: 1, max: 100, placeholder: "1" },
  { key: "backoff_s", label: "Backoff (s)", min: 0, placeholder: "1" },
  { key: "backoff_factor", label: "Backoff factor", min: 1, step: "any", placeholder: "2" },
  { key: "max_backoff_s", label: "Backoff cap (s)", min: 0, placeholder: "300" },
] as const;

/** The node's retry policy with one field changed; an emptied field is left out, and an
 * emptied policy is removed. */
function withRetry(
  node: NodeDoc,
  key: "max_attempts" | "backoff_s" | "backoff_factor" | "max_backoff_s" | "jitter",
  raw: string | boolean,
): NodeDoc["retry"] {
  const retry: Record<string, number | boolean> = { ...(node.retry ?? {}) };
  if (raw === "") delete retry[key];
  else retry[key] = typeof raw === "boolean" ? raw : Number(raw);
  return Object.keys(retry).length ? retry : undefined;
}

export function ConfigPanel({
  node,
  info,
  problems = [],
}: {
  node: NodeDoc;
  info: StepTypeInfo | undefined;
  /** This step's problems (client and server): config ones appear under their fields. */
  problems?: Problem[];
}) {
  const updateNode = useEditor((s) => s.updateNode);
  const form = useMemo(() => {
    if (!info) return null;
    const simple = formSchemaOf(info.config_schema);
    const { schema, uiSchema } = expressionForm({ ...info, config_schema: simple.schema }, node.config);
    // Credential fields last: a select of credentials, whatever the other passes made of them.
    const merged = mergeUiSchemas(mergeUiSchemas(uiSchema, simple.uiSchema), credentialUiSchema(info.credential_fields));
    const ui = { ...merged, "ui:submitButtonOptions": { norender: true } };
    return { schema: schema as RJSFSchema, uiSchema: ui as UiSchema };
  }, [info, node.config]);
  const extraErrors = useMemo(() => configErrors(problems), [problems]);
  // The widget reads the graph from the store; which node it edits comes through the form.
  const formContext = useMemo(() => ({ nodeId: node.id }), [node.id]);
  // rjsf reports a change when it fills in the schema's defaults on mount; only what the user
  // does in the form is an edit (opening a step must not mark the workflow unsaved).
  const touched = useRef<string | null>(null);
  return (
    <aside className="config-panel" aria-label={`Configure ${node.id}`}>
      <h2>{info?.title ?? node.type}</h2>
      {info?.description && <p className="help">{info.description}</p>}
      <label>
        Label
        <input
          value={node.label ?? ""}
          onChange={(e) => updateNode(node.id, { label: e.target.value })}
        />
      </label>
      <IdField key={node.id} node={node} />
      <label>
        Join
        <select
          value={node.join ?? "all_success"}
          onChange={(e) => updateNode(node.id, { join: e.target.value as NodeDoc["join"] })}
        >
          {JOINS.map((join) => (
            <option key={join} value={join}>
              {join}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>Retries and timeout</legend>
        {RETRY_NUMBERS.map(({ key, label, ...input }) => (
          <label key={key}>
            {label}
            <input
              type="number"
              {...input}
              value={node.retry?.[key] ?? ""}
              onChange={(e) => updateNode(node.id, { retry: withRetry(node, key, e.target.value) })}
            />
          </label>
        ))}
        <label className="inline">
          <input
            type="checkbox"
            checked={node.retry?.jitter ?? true}
            onChange={(e) => updateNode(node.id, { retry: withRetry(node, "jitter", e.target.checked) })}
          />
          Jitter (spread retries at random)
        </label>
        <label>
          Timeout per attempt (s)
          <input
            type="number"
            min={1}
            value={node.timeout_s ?? ""}
            placeholder="none"
            onChange={(e) =>
              updateNode(node.id, { timeout_s: e.target.value === "" ? undefined : Number(e.target.value) })
            }
          />
        </label>
      </fieldset>
      {form && (
        <div
          className="config-form"
          onInputCapture={() => {
            touched.current = node.id;
          }}
          onChangeCapture={() => {
            touched.current = node.id;
          }}
          onClickCapture={() => {
            touched.current = node.id;
          }}
          onKeyDownCapture={() => {
            touched.current = node.id;
          }}
        >
        <Form
          // A new form per node: rjsf keeps internal state for the data it was given.
          key={node.id}
          schema={form.schema}
          formData={node.config}
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
            const config = (event.formData ?? {}) as Record<string, unknown>;
            if (touched.current !== node.id) return;
            if (JSON.stringify(config) !== JSON.stringify(node.config)) updateNode(node.id, { config });
          }}
        />
        </div>
      )}
      {node.type === "trigger.schedule" && <SchedulePreview config={node.config} />}
    </aside>
  );
}
