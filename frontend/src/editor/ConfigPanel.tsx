/**
 * The form for the selected step: its label and join, and its config generated from the step
 * type's JSON Schema by react-jsonschema-form (no hand-written form per type; STYLE 17).
 */
import Form from "@rjsf/core";
import type { RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";

import type { NodeDoc, StepTypeInfo } from "./graph";
import { useEditor } from "./store";

const JOINS = ["all_success", "one_success", "none_failed", "all_done"] as const;

/** The node's retry policy with one field changed; an emptied field is left out, and an
 * emptied policy is removed. */
function withRetry(node: NodeDoc, key: "max_attempts" | "backoff_s", raw: string): NodeDoc["retry"] {
  const retry = { ...(node.retry ?? {}) };
  if (raw === "") delete retry[key];
  else retry[key] = Number(raw);
  return Object.keys(retry).length ? retry : undefined;
}

export function ConfigPanel({ node, info }: { node: NodeDoc; info: StepTypeInfo | undefined }) {
  const updateNode = useEditor((s) => s.updateNode);
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
      <label>
        Id
        <input value={node.id} readOnly aria-describedby={`id-help-${node.id}`} />
      </label>
      <small id={`id-help-${node.id}`}>Expressions reach this step as steps.{node.id}.</small>
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
        <label>
          Max attempts
          <input
            type="number"
            min={1}
            max={100}
            value={node.retry?.max_attempts ?? ""}
            placeholder="1"
            onChange={(e) => updateNode(node.id, { retry: withRetry(node, "max_attempts", e.target.value) })}
          />
        </label>
        <label>
          Backoff (s)
          <input
            type="number"
            min={0}
            value={node.retry?.backoff_s ?? ""}
            placeholder="1"
            onChange={(e) => updateNode(node.id, { retry: withRetry(node, "backoff_s", e.target.value) })}
          />
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
      {info && (
        <Form
          // A new form per node: rjsf keeps internal state for the data it was given.
          key={node.id}
          schema={info.config_schema as RJSFSchema}
          formData={node.config}
          validator={validator}
          liveValidate
          showErrorList={false}
          uiSchema={{ "ui:submitButtonOptions": { norender: true } }}
          onChange={(event) => {
            const config = (event.formData ?? {}) as Record<string, unknown>;
            if (JSON.stringify(config) !== JSON.stringify(node.config)) updateNode(node.id, { config });
          }}
        />
      )}
    </aside>
  );
}
