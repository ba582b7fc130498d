/** The rjsf field for config properties that take any JSON value (see jsonValue.ts). */
import type { FieldProps, WidgetProps } from "@rjsf/utils";
import { useEffect, useState } from "react";

import { ExpressionField } from "./expressionForm";
import { parseJsonValue, showJsonValue } from "./jsonValue";

export function JsonValueField({
  formData,
  onChange,
  fieldPathId,
  schema,
  name,
  required,
  disabled,
  readonly,
  rawErrors,
  registry,
}: FieldProps) {
  const [text, setText] = useState(() => showJsonValue(formData));
  // Follow the value when it changes from elsewhere (undo), not while it matches the text.
  useEffect(() => {
    setText((current) => (JSON.stringify(parseJsonValue(current)) === JSON.stringify(formData) ? current : showJsonValue(formData)));
  }, [formData]);
  const title = (schema.title as string | undefined) ?? name;
  const id = fieldPathId.$id;
  // The expression editor in template mode: JSON text with templates in it, completed. Its own
  // label, hint and errors: FieldTemplate shows the errors rjsf gives.
  return (
    <ExpressionField
      {...({
        id,
        name,
        label: title,
        value: text,
        required,
        disabled,
        readonly,
        rawErrors,
        registry,
        schema: {
          ...schema,
          description: `${schema.description ? `${schema.description} ` : ""}JSON (an object, a list, a number…), or plain text for a string; templates allowed.`,
        },
        options: { mode: "template", multiline: true, emptyValue: "" },
        onChange: (next: string | undefined) => {
          const typed = next ?? "";
          setText(typed);
          onChange(parseJsonValue(typed), fieldPathId.path);
        },
        onBlur: () => {},
        onFocus: () => {},
      } as unknown as WidgetProps)}
    />
  );
}
