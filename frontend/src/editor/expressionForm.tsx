/**
 * Which config fields get the expression widget (CodeMirror, loaded on first use), and the
 * widget's stand-in while it loads. This part is in the main bundle; what the fields complete
 * is completion.ts, which only the lazily loaded widget imports.
 */
import type { RegistryWidgetsType, WidgetProps } from "@rjsf/utils";
import { ariaDescribedByIds } from "@rjsf/utils";
import { Input, Textarea } from "@mantine/core";
import { Suspense, lazy, useRef } from "react";

import type { ExpressionFieldOptions } from "./completion";
import type { StepTypeInfo } from "./graph";

// Which fields get the expression widget is decided here, in the main bundle; what they complete
// is completion.ts, which only the lazily loaded widget imports.

/** The rjsf widget name the expression widget is registered under. */
export const EXPRESSION_WIDGET = "expression";

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Keywords that only annotate a schema: a property with nothing else accepts any JSON value.
const ANNOTATIONS = new Set(["title", "description", "$comment", "examples"]);

/** A free-text string, where a template is as good as a literal: no enum, no format that a
 * `{{ }}` would break (a URL may hold one), no pattern but the one for a single `{{ ... }}`. */
function holdsTemplates(schema: Schema): boolean {
  if (schema.type !== "string" || "enum" in schema || "const" in schema) return false;
  if (schema.format !== undefined && schema.format !== "uri") return false;
  return schema.pattern === undefined || String(schema.pattern).includes("\\{\\{");
}

function matches(path: string[], pattern: string, prefix = false): boolean {
  const parts = pattern.split(".");
  if (prefix ? parts.length > path.length : parts.length !== path.length) return false;
  // `*` in a pattern is any key or index; `*` in the path is every item of an array or map.
  return parts.every((part, i) => part === "*" || path[i] === "*" || part === path[i]);
}

type Walked = { schema: Schema; ui?: Record<string, unknown> };

/**
 * The schema and uiSchema for a step's config form, with the expression widget on every field
 * holding expressions: bare ones where the catalog's `expression_fields` say (`cases.*.expression`),
 * templates in the other free-text strings. A property that accepts any JSON value
 * (`data.transform`'s value) is shown as a template when it holds a string or nothing yet;
 * otherwise rjsf's own rendering stays. Trigger configs run no expressions and are left alone.
 */
export function expressionForm(
  info: StepTypeInfo,
  config: Record<string, unknown>,
): { schema: Schema; uiSchema: Record<string, unknown> } {
  if (info.is_trigger) return { schema: info.config_schema, uiSchema: {} };
  const itemFields = info.item_fields ?? [];

  const walk = (schema: Schema, path: string[], value: unknown, anyValue: boolean): Walked => {
    for (const key of ["anyOf", "oneOf"] as const) {
      const options = schema[key];
      if (!Array.isArray(options)) continue;
      // rjsf takes one uiSchema per option; the options' schemas stay as the catalog has them.
      const walked = options.map((option) => (isObject(option) ? walk(option, path, undefined, false).ui : null));
      return walked.some(Boolean) ? { schema, ui: { [key]: walked.map((ui) => ui ?? {}) } } : { schema };
    }
    if (schema.type === "object" || isObject(schema.properties)) {
      let properties = isObject(schema.properties) ? schema.properties : undefined;
      const ui: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(properties ?? {})) {
        if (!isObject(property)) continue;
        const inner = isObject(value) ? value[name] : undefined;
        const child = walk(property, [...path, name], inner, true);
        if (child.ui) ui[name] = child.ui;
        if (child.schema !== property) properties = { ...properties, [name]: child.schema };
      }
      if (isObject(schema.additionalProperties)) {
        const child = walk(schema.additionalProperties, [...path, "*"], undefined, false);
        if (child.ui) ui.additionalProperties = child.ui;
      }
      const shown = properties === schema.properties ? schema : { ...schema, properties };
      return Object.keys(ui).length ? { schema: shown, ui } : { schema: shown };
    }
    if (schema.type === "array" && isObject(schema.items)) {
      const child = walk(schema.items, [...path, "*"], undefined, false);
      return child.ui ? { schema, ui: { items: child.ui } } : { schema };
    }
    let shown = schema;
    const untyped = Object.keys(schema).every((key) => ANNOTATIONS.has(key));
    if (untyped && anyValue && (value === undefined || typeof value === "string")) {
      shown = { ...schema, type: "string" };
    }
    const bare = info.expression_fields.some((pattern) => matches(path, pattern));
    if (shown.type !== "string" || !(bare || holdsTemplates(shown))) return { schema };
    const options: ExpressionFieldOptions = {
      mode: bare ? "expression" : "template",
      items: itemFields.some((pattern) => matches(path, pattern, true)),
      multiline: !(shown.format === "uri" || (typeof shown.maxLength === "number" && shown.maxLength <= 1000)),
    };
    return { schema: shown, ui: { "ui:widget": EXPRESSION_WIDGET, "ui:options": options } };
  };

  const { schema, ui } = walk(info.config_schema, [], config, false);
  return { schema, uiSchema: ui ?? {} };
}

// CodeMirror is its own chunk: the designer's first paint does not wait for it.
const ExpressionEditor = lazy(() => import("./ExpressionWidget"));

/** The expression widget under its label, and a plain text area doing the same job while it
 * loads. rjsf's Mantine theme leaves labels to the widgets. */
export function ExpressionField(props: WidgetProps) {
  const { id, label, name, value, onChange, options, required, schema, hideLabel } = props;
  // Someone typing in the text area when the editor arrives keeps typing in the editor.
  const typing = useRef(false);
  const fallback = (
    <Textarea
      id={id}
      aria-label={label || name}
      aria-describedby={ariaDescribedByIds(id)}
      value={value ?? ""}
      autosize
      minRows={1}
      onFocus={() => {
        typing.current = true;
      }}
      onBlur={() => {
        typing.current = false;
      }}
      onChange={(e) => onChange(e.currentTarget.value === "" ? options.emptyValue : e.currentTarget.value)}
    />
  );
  return (
    <Input.Wrapper
      label={hideLabel ? undefined : label || name}
      required={required}
      description={schema.description}
      labelProps={{ htmlFor: id, id: `${id}__label` }}
      mb={4}
    >
      <Suspense fallback={fallback}>
        <ExpressionEditor {...props} focusOnMount={typing} />
      </Suspense>
    </Input.Wrapper>
  );
}

export const WIDGETS: RegistryWidgetsType = { [EXPRESSION_WIDGET]: ExpressionField };

