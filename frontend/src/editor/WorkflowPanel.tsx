/**
 * The panel shown when no step is selected: the workflow's inputs (what a run is started with,
 * and what `input.*` names in expressions) and its output. Inputs are edited as a list of
 * fields; the JSON Schema behind them is written for the user and can be edited directly too.
 */
import { useEffect, useState } from "react";

import { FIELD_TYPES, type FieldType, type InputField, fieldNameProblem, fieldsOf, schemaOf } from "./inputSchema";
import { useEditor } from "./store";

function sameJson(text: string, other: string): boolean {
  try {
    return JSON.stringify(text.trim() ? JSON.parse(text) : undefined) === JSON.stringify(other ? JSON.parse(other) : undefined);
  } catch {
    return false;
  }
}

/** A JSON text area: the value is applied when it parses, else the parse error is shown. */
function JsonArea({ label, value, onApply }: { label: string; value: unknown; onApply: (value: unknown) => void }) {
  const shown = value === undefined ? "" : JSON.stringify(value, null, 2);
  const [text, setText] = useState(shown);
  const [error, setError] = useState<string | null>(null);
  // Follow the graph when it changes elsewhere (undo, the fields list), but never rewrite
  // what the user is typing: text that already means the value, or does not parse yet, stays.
  useEffect(() => {
    setText((current) => (error || sameJson(current, shown) ? current : shown));
  }, [shown, error]);
  return (
    <label className="json-area">
      {label}
      <textarea
        value={text}
        rows={6}
        spellCheck={false}
        aria-invalid={error !== null}
        onChange={(e) => {
          setText(e.target.value);
          if (!e.target.value.trim()) {
            setError(null);
            onApply(undefined);
            return;
          }
          try {
            const parsed = JSON.parse(e.target.value);
            setError(null);
            onApply(parsed);
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      />
      {error && <small role="alert">{error}</small>}
    </label>
  );
}

export function WorkflowPanel() {
  const schema = useEditor((s) => s.graph.input_schema);
  const output = useEditor((s) => s.graph.output);
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
    <aside className="config-panel" aria-label="Workflow settings">
      <h2>Workflow</h2>
      <p className="help">Select a step to configure it. The inputs below are asked for when a run starts.</p>
      <fieldset>
        <legend>Inputs</legend>
        {fields.length === 0 && <p className="help">No inputs yet.</p>}
        <ul className="input-fields">
          {fields.map((field, i) => (
            <li key={field.name} aria-label={`Input ${field.name}`}>
              <code>input.{field.name}</code>
              <label>
                Type of {field.name}
                <select value={field.type} onChange={(e) => change(i, { type: e.target.value as FieldType })}>
                  {FIELD_TYPES.map((type) => (
                    <option key={type}>{type}</option>
                  ))}
                </select>
              </label>
              <label>
                Title of {field.name}
                <input value={field.title} onChange={(e) => change(i, { title: e.target.value })} />
              </label>
              <label className="inline">
                <input
                  type="checkbox"
                  checked={field.required}
                  onChange={(e) => change(i, { required: e.target.checked })}
                />
                {field.name} is required
              </label>
              <button type="button" onClick={() => setFields(fields.filter((_, j) => j !== i))}>
                Remove input {field.name}
              </button>
            </li>
          ))}
        </ul>
        <div className="add-input">
          <input
            aria-label="New input name"
            placeholder="name, e.g. amount"
            value={name}
            onChange={(e) => setName(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                add();
              }
            }}
          />
          <button type="button" onClick={add}>
            Add input
          </button>
        </div>
        {problem && <small role="alert">{problem}</small>}
      </fieldset>
      <details>
        <summary>Input schema (JSON)</summary>
        <JsonArea label="Input schema" value={schema} onApply={(v) => setGraphPart("input_schema", v)} />
      </details>
      <JsonArea label="Output (templates over steps.*)" value={output} onApply={(v) => setGraphPart("output", v)} />
    </aside>
  );
}
