/** Who has which role on a credential, and the owner's controls to give and take roles. */
import {
  ActionIcon,
  Alert,
  Button,
  Group,
  Modal,
  Paper,
  SegmentedControl,
  Select,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from "@mantine/core";
import { IconAlertTriangle, IconShare, IconTrash, IconUser, IconUsersGroup } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { ApiError, api } from "../../api";
import { type Credential, type Grant, ROLES, type Role, errorsByField } from "../../credentials";
import { keys } from "../../query";
import { notifyError, notifySuccess } from "../../ui/notify";

const ROLE_HELP: Record<Role, string> = {
  viewer: "sees it",
  runner: "uses it in workflows",
  editor: "also changes it",
  owner: "also deletes and shares it",
};

type Errors = Record<string, string[]>;

function Holder({ kind, name, role, note, action }: { kind: "user" | "group"; name: string; role: string; note?: string; action?: React.ReactNode }) {
  return (
    <Group component="li" justify="space-between" wrap="nowrap" gap="xs" py={4}>
      <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
        {kind === "user" ? <IconUser size={16} aria-hidden="true" /> : <IconUsersGroup size={16} aria-hidden="true" />}
        <Text size="sm" truncate>
          {kind} {name}: {role}
          {note && (
            <Text span size="xs" c="dimmed">
              {" "}
              ({note})
            </Text>
          )}
        </Text>
      </Group>
      {action}
    </Group>
  );
}

function Sharing({ credential }: { credential: Credential }) {
  const [to, setTo] = useState<"user" | "group">("user");
  const [who, setWho] = useState("");
  const [role, setRole] = useState<Role>("runner");
  const [errors, setErrors] = useState<Errors>({});
  const client = useQueryClient();
  const key = keys.credentialGrants(credential.id);
  const grants = useQuery({
    queryKey: key,
    queryFn: () => api<Grant[]>(`/api/credentials/${credential.id}/grants/`),
  });

  const failed = (error: unknown, shown: string[]) => {
    if (error instanceof ApiError && error.status === 400 && error.errors.length) {
      setErrors(errorsByField(error.errors, shown));
    } else {
      setErrors({});
      notifyError(error);
    }
  };

  const share = useMutation({
    mutationFn: () =>
      api<Grant>(`/api/credentials/${credential.id}/grants/`, { method: "POST", body: { [to]: who.trim(), role } }),
    onSuccess: (grant) => {
      setWho("");
      setErrors({});
      void client.invalidateQueries({ queryKey: key });
      notifySuccess(`${grant.user ? `User ${grant.user}` : `Group ${grant.group}`} is ${grant.role} of ${credential.name}.`, "Shared");
    },
    onError: (error) => failed(error, ["user", "group", "role"]),
  });

  const revoke = useMutation({
    mutationFn: (grant: Grant) => api(`/api/credentials/${credential.id}/grants/${grant.id}/`, { method: "DELETE" }),
    onSuccess: () => {
      setErrors({});
      void client.invalidateQueries({ queryKey: key });
    },
    onError: (error) => failed(error, []),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (who.trim()) share.mutate();
  };
  const holder = (g: Grant) => (g.user ? `user ${g.user}` : `group ${g.group}`);
  const whoError = errors[to]?.join(" ");

  return (
    <Stack gap="md">
      <Paper withBorder p="xs" px="sm">
        <Stack component="ul" aria-label="Roles" gap={0} m={0} p={0} style={{ listStyle: "none" }}>
          <Holder kind="user" name={credential.owner} role="owner" note="its creator" />
          {grants.isPending && <Skeleton height={24} my={4} />}
          {grants.data?.map((g) => (
            <Holder
              key={g.id}
              kind={g.user ? "user" : "group"}
              name={g.user ?? g.group ?? ""}
              role={g.role}
              action={
                <Tooltip label="Revoke">
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    size={36}
                    aria-label={`Revoke the role of ${holder(g)}`}
                    loading={revoke.isPending && revoke.variables?.id === g.id}
                    onClick={() => revoke.mutate(g)}
                  >
                    <IconTrash size={16} />
                  </ActionIcon>
                </Tooltip>
              }
            />
          ))}
        </Stack>
      </Paper>
      <form aria-label={`Share ${credential.name}`} onSubmit={submit} noValidate>
        <Stack gap="sm">
          <SegmentedControl
            aria-label="Share with"
            data={[
              { value: "user", label: "A user" },
              { value: "group", label: "A group" },
            ]}
            value={to}
            onChange={(value) => {
              setTo(value === "group" ? "group" : "user");
              setErrors({});
            }}
          />
          <Group gap="xs" align="flex-start" wrap="wrap">
            <TextInput
              label={to === "user" ? "User name" : "Group name"}
              value={who}
              required
              error={whoError}
              onChange={(e) => setWho(e.currentTarget.value)}
              style={{ flex: "1 1 12rem" }}
            />
            <Select
              label="Role"
              data={ROLES.map((r) => ({ value: r, label: r }))}
              value={role}
              onChange={(value) => value && setRole(value as Role)}
              allowDeselect={false}
              error={errors.role?.join(" ")}
              comboboxProps={{ withinPortal: true }}
              w={150}
            />
          </Group>
          {errors[""] && (
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
              {errors[""].join(" ")}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button type="submit" disabled={!who.trim()} loading={share.isPending} leftSection={<IconShare size={16} />}>
              Share
            </Button>
          </Group>
        </Stack>
      </form>
      <Text size="xs" c="dimmed">
        {ROLES.map((r) => `${r}: ${ROLE_HELP[r]}`).join(" · ")}.
      </Text>
    </Stack>
  );
}

export function SharingModal({ credential, onClose }: { credential: Credential | null; onClose: () => void }) {
  return (
    <Modal opened={credential !== null} onClose={onClose} title={credential ? `Sharing of ${credential.name}` : ""} size="lg">
      {credential && <Sharing key={credential.id} credential={credential} />}
    </Modal>
  );
}
