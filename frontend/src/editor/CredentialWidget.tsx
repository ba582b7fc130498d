/**
 * A config field naming a credential (the catalog's `credential_fields`): a select of the
 * credentials the user may use, of the kinds the field accepts, and a link to create one. A
 * name outside that list (an imported graph, a grant taken back) stays selected and is flagged;
 * the server refuses to save it and its error shows under the field too.
 */
import { Anchor, Select, Stack, Text } from "@mantine/core";
import type { WidgetProps } from "@rjsf/utils";
import { ariaDescribedByIds } from "@rjsf/utils";
import { IconExternalLink } from "@tabler/icons-react";

import { credentialChoices, useUsableCredentials } from "../credentials";

export function CredentialWidget(props: WidgetProps) {
  const { id, value, onChange, onBlur, onFocus, options, disabled, readonly, label, required, rawErrors } = props;
  const kinds = Array.isArray(options.kinds) ? (options.kinds as string[]) : [];
  const { usable, error } = useUsableCredentials();
  const { options: choices, unknown } = credentialChoices(usable, kinds, value);
  const warningId = `${id}__credential`;
  const warning =
    unknown !== null
      ? `${unknown} is not among the ${kinds.join(", ")} credentials you may use, so this workflow cannot be saved with it. Pick another, or ask its owner for the runner role.`
      : error
        ? `Could not list your credentials: ${error}`
        : null;
  return (
    <Stack gap={4}>
      <Select
        id={id}
        label={label}
        required={required}
        placeholder="No credential"
        data={choices}
        value={typeof value === "string" && value !== "" ? value : null}
        clearable
        disabled={disabled || readonly}
        error={!!rawErrors?.length || undefined}
        aria-invalid={unknown !== null || undefined}
        aria-describedby={[ariaDescribedByIds(id), warning ? warningId : ""].filter(Boolean).join(" ")}
        // Empty is no credential: the key leaves the config rather than holding "".
        onChange={(next) => onChange(next ? next : undefined)}
        onBlur={() => onBlur(id, value)}
        onFocus={() => onFocus(id, value)}
        comboboxProps={{ withinPortal: true }}
      />
      {warning && (
        <Text id={warningId} size="xs" c="orange.8" role="alert">
          {warning}
        </Text>
      )}
      {/* A new tab: the workflow's unsaved edits stay here; the list is read again on return. */}
      <Anchor href={`/credentials?new=${encodeURIComponent(kinds[0] ?? "")}`} target="_blank" rel="noopener" size="xs">
        Create a credential (opens the Credentials page) <IconExternalLink size={12} />
      </Anchor>
    </Stack>
  );
}
