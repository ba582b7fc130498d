/**
 * react-jsonschema-form with Mantine's theme (@rjsf/mantine), as the editor's forms use it: the
 * array buttons say what they do in words (issue 17: the default theme drew them as empty,
 * unlabelled boxes), and an object the schema leaves open (`{"type": "object"}`, no
 * properties) is entered as JSON, which is every value it allows.
 */
import { ActionIcon, Button, JsonInput, Tooltip } from "@mantine/core";
import { withTheme } from "@rjsf/core";
import { Theme } from "@rjsf/mantine";
import type { FieldProps, IconButtonProps, RJSFSchema } from "@rjsf/utils";
import { IconPlus, IconTrash } from "@tabler/icons-react";
import { useEffect, useState } from "react";

import { SCHEMA_FORM_TEMPLATES } from "../ui/schemaForm";

/** "root_lines_0__remove" → "lines item 1": which field a button belongs to, for its name. */
function fieldOf(id: string | undefined): string {
  const path = (id ?? "").replace(/__(add|remove|moveUp|moveDown|copy)$/, "").replace(/^root_?/, "");
  return path
    .split("_")
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `item ${Number(part) + 1}` : part))
    .join(" ");
}

function AddButton({ id, onClick, disabled, className }: IconButtonProps) {
  const field = fieldOf(id);
  return (
    <Button
      id={id}
      className={className}
      size="xs"
      variant="light"
      leftSection={<IconPlus size={15} />}
      onClick={onClick as () => void}
      disabled={disabled}
      aria-label={field ? `Add an item to ${field}` : "Add an item"}
    >
      Add item
    </Button>
  );
}

function RemoveButton({ id, onClick, disabled, className }: IconButtonProps) {
  const label = `Remove ${fieldOf(id) || "item"}`;
  return (
    <Tooltip label={label}>
      <ActionIcon
        id={id}
        className={className}
        color="red"
        variant="subtle"
        size={34}
        onClick={onClick as () => void}
        disabled={disabled}
        aria-label={label}
      >
        <IconTrash size={17} />
      </ActionIcon>
    </Tooltip>
  );
}

/** "lines-1" (rjsf's name of a list's second item) → "lines item 2"; a title wins. */
function itemLabel(name: string, title: string | undefined): string {
  const item = /^(.*)-(\d+)$/.exec(name);
  if (item) return `${title ?? item[1]} item ${Number(item[2]) + 1}`;
  return title ?? name;
}

/** A JSON object typed as text: applied when it parses to an object, else its error shown. */
export function JsonObjectField({ formData, onChange, fieldPathId, schema, name, required, disabled, readonly }: FieldProps) {
  const show = (value: unknown) => (value === undefined ? "" : JSON.stringify(value, null, 2));
  const [text, setText] = useState(() => show(formData));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText((current) => {
      try {
        if (JSON.stringify(JSON.parse(current || "null")) === JSON.stringify(formData ?? null)) return current;
      } catch {
        return current;
      }
      return show(formData);
    });
  }, [formData]);
  return (
    <JsonInput
      id={fieldPathId.$id}
      label={`${itemLabel(name, schema.title as string | undefined)} (JSON)`}
      description={schema.description}
      required={required}
      disabled={disabled || readonly}
      autosize
      minRows={2}
      value={text}
      error={error}
      placeholder='{"key": "value"}'
      onChange={(next) => {
        setText(next);
        if (!next.trim()) {
          setError(null);
          onChange(undefined, fieldPathId.path);
          return;
        }
        try {
          const parsed = JSON.parse(next);
          if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
            setError("an object: {\"key\": value, ...}");
            return;
          }
          setError(null);
          onChange(parsed, fieldPathId.path);
        } catch (e) {
          setError((e as Error).message);
        }
      }}
    />
  );
}

export const ThemedForm = withTheme({
  ...Theme,
  templates: {
    ...Theme.templates,
    ...SCHEMA_FORM_TEMPLATES,
    ButtonTemplates: { ...Theme.templates?.ButtonTemplates, AddButton, RemoveButton },
  },
});

type Schema = Record<string, unknown>;

/** The uiSchema entering every open object of `schema` (no properties) as JSON. */
export function openObjectsAsJson(schema: Schema | undefined): Record<string, unknown> {
  const walk = (s: unknown): Record<string, unknown> | null => {
    if (!s || typeof s !== "object") return null;
    const node = s as Schema;
    if (node.type === "object" && !node.properties && node.additionalProperties !== false) {
      return { "ui:field": "jsonObject" };
    }
    const ui: Record<string, unknown> = {};
    if (node.properties && typeof node.properties === "object") {
      for (const [key, sub] of Object.entries(node.properties as Schema)) {
        const inner = walk(sub);
        if (inner) ui[key] = inner;
      }
    }
    if (node.items && typeof node.items === "object" && !Array.isArray(node.items)) {
      const inner = walk(node.items);
      if (inner) ui.items = inner;
    }
    return Object.keys(ui).length ? ui : null;
  };
  return walk(schema) ?? {};
}

export type { RJSFSchema };
