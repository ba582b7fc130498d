/**
 * Create a credential (no ``credential``) or change one, in a modal. Secrets are write-only:
 * a secret that is set shows as "Set" with a Replace button, and only a replaced one is sent;
 * an empty one keeps the stored value. The server checks every field; its 400 errors show
 * under the fields they name.
 */
import {
  Alert,
  Badge,
  Button,
  Fieldset,
  Group,
  Modal,
  NumberInput,
  PasswordInput,
  Select,
  Stack,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { IconAlertTriangle, IconLock, IconRefresh } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useMemo, useState } from "react";

import { ApiError, api } from "../../api";
import {
  type Credential,
  type KindField,
  type KindInfo,
  credentialData,
  errorsByField,
  initialValues,
  kindFields,
} from "../../credentials";
import { notifyError, notifySuccess } from "../../ui/notify";

type Errors = Record<string, string[]>;

const joined = (errors: string[] | undefined) => (errors?.length ? errors.join(" ") : undefined);

/** One field of the kind: a choice, a number, an email or text, or a secret. */
function KindFieldInput({
  field,
  value,
  error,
  stored,
  editing,
  onChange,
}: {
  field: KindField;
  value: string;
  error: string | undefined;
  /** A secret is set on the server. */
  stored: boolean;
  editing: boolean;
  onChange: (value: string) => void;
}) {
  const [replacing, setReplacing] = useState(false);
  const common = { label: field.label, required: field.required, error, withAsterisk: field.required };
  if (field.secret) {
    if (editing && stored && !replacing) {
      return (
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            {field.label}
          </Text>
          <Group gap="xs" justify="space-between" wrap="nowrap">
            <Badge color="teal" variant="light" leftSection={<IconLock size={12} />} tt="none">
              Set, never shown
            </Badge>
            <Button
              size="xs"
              variant="default"
              leftSection={<IconRefresh size={14} />}
              onClick={() => setReplacing(true)}
            >
              Replace {field.label.toLowerCase()}
            </Button>
          </Group>
          {error && (
            <Text size="xs" c="red">
              {error}
            </Text>
          )}
        </Stack>
      );
    }
    const input = (
      <PasswordInput
        {...common}
        value={value}
        description={
          replacing
            ? "The new value replaces the stored one when you save."
            : editing
              ? "Not set."
              : "Write-only: never shown again once saved."
        }
        // Never offer to fill a secret from the browser's saved passwords.
        autoComplete="new-password"
        autoFocus={replacing}
        maxLength={field.maxLength}
        onChange={(e) => onChange(e.currentTarget.value)}
        visibilityToggleButtonProps={{ "aria-label": `Show or hide the ${field.label.toLowerCase()} as typed` }}
      />
    );
    if (!replacing) return input;
    return (
      <Stack gap={4}>
        {input}
        <Button
          variant="subtle"
          size="compact-sm"
          style={{ alignSelf: "flex-start" }}
          onClick={() => {
            onChange("");
            setReplacing(false);
          }}
        >
          Keep the stored {field.label.toLowerCase()}
        </Button>
      </Stack>
    );
  }
  if (field.input === "select") {
    return (
      <Select
        {...common}
        data={field.options ?? []}
        value={value || null}
        onChange={(v) => onChange(v ?? "")}
        clearable={!field.required}
        placeholder={field.required ? "Choose one" : "Not set"}
        comboboxProps={{ withinPortal: true }}
      />
    );
  }
  if (field.input === "number") {
    return (
      <NumberInput
        {...common}
        value={value}
        min={field.min}
        max={field.max}
        allowDecimal={false}
        onChange={(v) => onChange(String(v))}
      />
    );
  }
  return (
    <TextInput
      {...common}
      type={field.input === "email" ? "email" : "text"}
      value={value}
      maxLength={field.maxLength}
      autoComplete="off"
      onChange={(e) => onChange(e.currentTarget.value)}
    />
  );
}

function CredentialForm({
  kinds,
  credential,
  initialKind,
  onDone,
}: {
  kinds: KindInfo[];
  credential?: Credential;
  initialKind?: string;
  onDone: () => void;
}) {
  const [kind, setKind] = useState(credential?.kind ?? initialKind ?? kinds[0]?.kind ?? "");
  const info = kinds.find((k) => k.kind === kind);
  const fields = useMemo(() => (info ? kindFields(info) : []), [info]);
  const [name, setName] = useState(credential?.name ?? "");
  const [description, setDescription] = useState(credential?.description ?? "");
  const [values, setValues] = useState(() => initialValues(fields, credential));
  const [errors, setErrors] = useState<Errors>({});
  const client = useQueryClient();

  const chooseKind = (next: string | null) => {
    if (!next) return;
    setKind(next);
    const nextInfo = kinds.find((k) => k.kind === next);
    setValues(nextInfo ? initialValues(kindFields(nextInfo)) : {});
    setErrors({});
  };

  const save = useMutation({
    mutationFn: () => {
      const data = credentialData(fields, values, credential);
      return credential
        ? api<Credential>(`/api/credentials/${credential.id}/`, {
            method: "PATCH",
            body: { name: name.trim(), description, data },
          })
        : api<Credential>("/api/credentials/", {
            method: "POST",
            body: { name: name.trim(), kind, description, data },
          });
    },
    onSuccess: (saved) => {
      // Forget the typed secrets at once: nothing keeps them after the save.
      setValues(initialValues(fields, saved));
      void client.invalidateQueries({ queryKey: ["credentials"] });
      notifySuccess(credential ? `Saved ${saved.name}` : `Created ${saved.name}`);
      onDone();
    },
    onError: (error) => {
      if (error instanceof ApiError && error.errors.length && error.status === 400) {
        setErrors(errorsByField(error.errors, ["name", "kind", "description", ...fields.map((f) => f.name)]));
      } else {
        setErrors({});
        notifyError(error, credential ? `${credential.name} not saved` : "Not created");
      }
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };

  const title = credential ? `Edit ${credential.name}` : "New credential";
  return (
    <form aria-label={title} onSubmit={submit} noValidate>
      <Stack gap="sm">
        <TextInput
          label="Name"
          required
          withAsterisk
          value={name}
          maxLength={128}
          description="Workflows name it: letters, digits, “_”, “.” and “-”."
          error={joined(errors.name)}
          onChange={(e) => setName(e.currentTarget.value)}
          data-autofocus
        />
        {credential ? (
          <Group gap="xs">
            <Text size="sm" fw={500}>
              Kind
            </Text>
            <Badge variant="light" tt="none">
              {info?.title ?? kind}
            </Badge>
          </Group>
        ) : (
          <Select
            label="Kind"
            data={kinds.map((k) => ({ value: k.kind, label: k.title }))}
            value={kind}
            onChange={chooseKind}
            allowDeselect={false}
            error={joined(errors.kind)}
            comboboxProps={{ withinPortal: true }}
          />
        )}
        <Textarea
          label="Description"
          value={description}
          autosize
          minRows={2}
          maxRows={5}
          maxLength={2000}
          error={joined(errors.description)}
          onChange={(e) => setDescription(e.currentTarget.value)}
        />
        {fields.length > 0 && (
          <Fieldset legend={info?.title ?? kind} variant="filled">
            <Stack gap="sm">
              {fields.map((f) => (
                <KindFieldInput
                  key={`${kind}-${f.name}`}
                  field={f}
                  value={values[f.name] ?? ""}
                  error={joined(errors[f.name])}
                  stored={credential?.secret_fields.includes(f.name) ?? false}
                  editing={credential !== undefined}
                  onChange={(value) => setValues((v) => ({ ...v, [f.name]: value }))}
                />
              ))}
            </Stack>
          </Fieldset>
        )}
        {errors[""] && (
          <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
            {errors[""].join(" ")}
          </Alert>
        )}
        <Group justify="flex-end" gap="xs" mt="xs">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {credential ? "Save changes" : "Create credential"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export type Editing = { mode: "create"; kind?: string } | { mode: "edit"; credential: Credential } | null;

export function CredentialModal({
  editing,
  kinds,
  onClose,
}: {
  editing: Editing;
  kinds: KindInfo[];
  onClose: () => void;
}) {
  const credential = editing?.mode === "edit" ? editing.credential : undefined;
  const initialKind =
    editing?.mode === "create" && kinds.some((k) => k.kind === editing.kind) ? editing.kind : undefined;
  return (
    <Modal
      opened={editing !== null && kinds.length > 0}
      onClose={onClose}
      title={credential ? `Edit ${credential.name}` : "New credential"}
      size="lg"
    >
      {editing && (
        <CredentialForm
          // A fresh form (and no typed secret left) each time it opens.
          key={credential ? `edit-${credential.id}` : `create-${initialKind ?? ""}`}
          kinds={kinds}
          credential={credential}
          initialKind={initialKind}
          onDone={onClose}
        />
      )}
    </Modal>
  );
}
