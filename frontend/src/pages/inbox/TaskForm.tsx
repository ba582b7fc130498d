/**
 * A `human.form` task's fields, drawn from its JSON Schema by react-jsonschema-form with the
 * Mantine theme (@rjsf/mantine): inputs, selects, arrays and nested objects in the app's look.
 * The array buttons are replaced by labelled ones ("Add item", "Remove item 2") at least 40 px
 * tall, so that they can be tapped on a phone and read by a screen reader.
 */
import { ActionIcon, Button, Group } from "@mantine/core";
import { Form } from "@rjsf/mantine";
import type { IconButtonProps, RJSFSchema, UiSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { IconArrowDown, IconArrowUp, IconCopy, IconPlus, IconSend, IconTrash } from "@tabler/icons-react";
import { useState } from "react";

import { SCHEMA_FORM_TEMPLATES } from "../../ui/schemaForm";

/** "root_lines_2__remove" (the button's id) → "item 3": which item a button acts on, for its name. */
export function itemName(id: string | undefined): string {
  const match = id?.match(/_(\d+)(?:_+[a-z]+)?$/i);
  return match ? `item ${Number(match[1]) + 1}` : "item";
}

function AddButton({ registry: _r, uiSchema: _u, iconType: _i, icon: _icon, ...props }: IconButtonProps) {
  return (
    <Button {...(props as object)} variant="light" size="sm" h={40} leftSection={<IconPlus size={16} />}>
      Add item
    </Button>
  );
}

function iconButton(label: string, Icon: typeof IconPlus, color?: string) {
  return function ItemButton({ registry: _r, uiSchema: _u, iconType: _i, icon: _icon, id, ...props }: IconButtonProps) {
    const name = `${label} ${itemName(id)}`;
    return (
      <ActionIcon
        {...(props as object)}
        id={id}
        size={40}
        variant="subtle"
        color={color ?? "gray"}
        aria-label={name}
        title={name}
      >
        <Icon size={18} />
      </ActionIcon>
    );
  };
}

const templates = {
  ...SCHEMA_FORM_TEMPLATES,
  ButtonTemplates: {
    AddButton,
    RemoveButton: iconButton("Remove", IconTrash, "red"),
    MoveUpButton: iconButton("Move up", IconArrowUp),
    MoveDownButton: iconButton("Move down", IconArrowDown),
    CopyButton: iconButton("Copy", IconCopy),
  },
};

// Items are added and removed; reordering and copying would crowd a phone's row.
const uiSchema: UiSchema = { "ui:globalOptions": { orderable: false, copyable: false } };

export function TaskForm({
  schema,
  disabled,
  busy,
  onSubmit,
}: {
  schema: Record<string, unknown> | null;
  disabled: boolean;
  busy: boolean;
  onSubmit: (data: unknown) => void;
}) {
  const [data, setData] = useState<unknown>(undefined);
  return (
    <Form
      schema={(schema ?? { type: "object" }) as RJSFSchema}
      uiSchema={uiSchema}
      validator={validator}
      templates={templates}
      formData={data}
      onChange={(event) => setData(event.formData)}
      disabled={disabled || busy}
      // The schema's own messages under each field, not the browser's tooltips.
      noHtml5Validate
      showErrorList={false}
      onSubmit={(event) => onSubmit(event.formData ?? {})}
    >
      <Group justify="flex-end" mt="md">
        <Button type="submit" size="md" loading={busy} disabled={disabled} leftSection={<IconSend size={18} />}>
          Submit
        </Button>
      </Group>
    </Form>
  );
}
