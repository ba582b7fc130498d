/** Start a run of the saved workflow, with an input form generated from its input_schema. */
import Form from "@rjsf/core";
import type { RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useState } from "react";
import { useNavigate } from "react-router";

import { ApiError, api } from "../api";

export function RunDialog({
  workflowId,
  inputSchema,
  onClose,
}: {
  workflowId: number;
  inputSchema: Record<string, unknown> | undefined;
  onClose: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const navigate = useNavigate();
  const schema = (inputSchema ?? { type: "object", properties: {} }) as RJSFSchema;

  const start = async (input: unknown) => {
    try {
      const run = await api<{ id: number }>(`/api/workflows/${workflowId}/runs/`, {
        method: "POST",
        body: { input: input ?? {} },
      });
      navigate(`/runs/${run.id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.errors.map((x) => `${x.field ?? ""} ${x.message}`).join("; ") : (e as Error).message);
    }
  };

  return (
    <div role="dialog" aria-label="Run the workflow" className="run-dialog">
      <h2>Run</h2>
      {error && <p role="alert">{error}</p>}
      <Form
        schema={schema}
        validator={validator}
        showErrorList={false}
        onSubmit={(event) => start(event.formData)}
        uiSchema={{ "ui:submitButtonOptions": { submitText: "Start run" } }}
      />
      <button type="button" onClick={onClose}>
        Cancel
      </button>
    </div>
  );
}
