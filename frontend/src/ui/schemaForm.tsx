/**
 * Templates that every react-jsonschema-form of the app (the editor's config and Run forms,
 * the inbox's form tasks) puts over @rjsf/mantine's: a group's title and description on the
 * scale of the fields' labels and help (the theme draws an h3 and body-size text), and inputs
 * that are always controlled (an empty field gets "" rather than undefined: a new list item's
 * field would otherwise switch from uncontrolled to controlled as it is typed in).
 */
import { Group, Text, Title } from "@mantine/core";
import { RichDescription } from "@rjsf/core";
import { Theme } from "@rjsf/mantine";
import type { BaseInputTemplateProps, DescriptionFieldProps, TitleFieldProps } from "@rjsf/utils";
import type { ComponentType } from "react";

function TitleField({ id, title, optionalDataControl }: TitleFieldProps) {
  if (!title) return null;
  const heading = (
    <Title id={id} order={3} size="h5" fw={600}>
      {title}
    </Title>
  );
  if (!optionalDataControl) return heading;
  return (
    <Group justify="space-between" wrap="nowrap">
      {heading}
      {optionalDataControl}
    </Group>
  );
}

function DescriptionField({ id, description, registry, uiSchema }: DescriptionFieldProps) {
  if (!description) return null;
  return (
    <Text id={id} size="xs" c="dimmed" mt={2} mb="xs">
      <RichDescription description={description} registry={registry} uiSchema={uiSchema} />
    </Text>
  );
}

const ThemeInput = Theme.templates?.BaseInputTemplate as ComponentType<BaseInputTemplateProps>;

function BaseInputTemplate(props: BaseInputTemplateProps) {
  return <ThemeInput {...props} value={props.value ?? ""} />;
}

export const SCHEMA_FORM_TEMPLATES = {
  BaseInputTemplate,
  TitleFieldTemplate: TitleField,
  DescriptionFieldTemplate: DescriptionField,
};
