/**
 * Out of office, on the account page: plan an absence (from, until, a deputy, a note) and see
 * or delete the current and planned ones. While one lasts, tasks assigned to the user by name
 * go to the deputy (the server does it when a task is assigned; groups are left alone).
 */
import "@mantine/dates/styles.css";

import { ActionIcon, Autocomplete, Badge, Button, Group, Paper, Stack, Table, Text, TextInput, Title, Tooltip } from "@mantine/core";
import { DateTimePicker } from "@mantine/dates";
import { useDebouncedValue } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import { IconPlaneDeparture, IconTrash } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { type Absence, useAbsences, useCreateAbsence, useDeleteAbsence, when } from "../../absences";
import { api } from "../../api";
import { fieldError } from "../../people";
import { keys, queryString } from "../../query";
import { notifyError, notifySuccess } from "../../ui/notify";

// The picker's placeholder is text in a button: the theme's placeholder grey is 2:1 on white.
const READABLE_PLACEHOLDER = { placeholder: { color: "var(--mantine-color-dimmed)" } };

/** Mantine's picker gives local "YYYY-MM-DD HH:mm:ss"; the API takes an instant. */
function instant(value: string | null): string {
  if (!value) return "";
  const at = new Date(value.replace(" ", "T"));
  return Number.isNaN(at.getTime()) ? "" : at.toISOString();
}

/** Staff may search the users for a deputy; everyone may type a username (the server checks). */
function useDeputySuggestions(search: string, isStaff: boolean, absences: Absence[]): string[] {
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const params = { search: debounced, active: true, page_size: 20 };
  const users = useQuery({
    queryKey: keys.users(params),
    queryFn: () => api<{ results: { username: string }[] }>(`/api/users/${queryString(params)}`),
    enabled: isStaff,
    retry: false,
    staleTime: 60_000,
  });
  const names = new Set([...(users.data?.results ?? []).map((u) => u.username), ...absences.map((a) => a.deputy)]);
  return [...names].sort();
}

export function OutOfOffice({ username, isStaff }: { username: string; isStaff: boolean }) {
  const absences = useAbsences();
  const create = useCreateAbsence();
  const remove = useDeleteAbsence();
  const [from, setFrom] = useState<string | null>(null);
  const [until, setUntil] = useState<string | null>(null);
  const [deputy, setDeputy] = useState("");
  const [note, setNote] = useState("");
  const rows = absences.data ?? [];
  const suggestions = useDeputySuggestions(deputy, isStaff, rows).filter((n) => n !== username);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { starts_at: instant(from), ends_at: instant(until), deputy: deputy.trim(), note },
      {
        onSuccess: (made) => {
          notifySuccess(`From ${when(made.starts_at)} until ${when(made.ends_at)}, ${made.deputy} gets your tasks.`, "Out of office planned");
          setFrom(null);
          setUntil(null);
          setNote("");
        },
        onError: (e) => notifyError(e, "Planning the absence"),
      },
    );
  };

  const confirmDelete = (absence: Absence) =>
    modals.openConfirmModal({
      title: absence.current ? "End this absence now?" : "Delete this absence?",
      children: (
        <Text size="sm">
          New tasks will come to you again{absence.current ? " from now on" : ""}. Tasks already handed to {absence.deputy}{" "}
          stay with them.
        </Text>
      ),
      labels: { confirm: absence.current ? "End it" : "Delete", cancel: "Cancel" },
      confirmProps: { color: "red", size: "md" },
      cancelProps: { size: "md" },
      onConfirm: () =>
        remove.mutate(absence.id, {
          onSuccess: () => notifySuccess("New tasks come to you again while it would have lasted.", "Absence deleted"),
          onError: (e) => notifyError(e, "Deleting the absence"),
        }),
    });

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="ooo-title">
      <Stack gap="md">
        <div>
          <Title order={2} size="h3" id="ooo-title">
            <Group gap="xs" component="span">
              <IconPlaneDeparture size={22} aria-hidden="true" />
              Out of office
            </Group>
          </Title>
          <Text size="sm" c="dimmed">
            While you are away, tasks assigned to you by name go to your deputy, who sees them as yours. Tasks of your
            groups stay with the other members.
          </Text>
        </div>
        <form onSubmit={submit} aria-label="Plan an absence">
          <Group align="flex-start" gap="sm" wrap="wrap">
            <DateTimePicker
              label="From"
              placeholder="Pick a day and time"
              required
              value={from}
              onChange={setFrom}
              valueFormat="D MMM YYYY HH:mm"
              styles={READABLE_PLACEHOLDER}
              size="md"
              clearable
              error={fieldError(create.error, "starts_at")}
              style={{ flex: "1 1 200px" }}
            />
            <DateTimePicker
              label="Until"
              placeholder="Pick a day and time"
              required
              value={until}
              onChange={setUntil}
              valueFormat="D MMM YYYY HH:mm"
              styles={READABLE_PLACEHOLDER}
              size="md"
              clearable
              error={fieldError(create.error, "ends_at")}
              style={{ flex: "1 1 200px" }}
            />
            <Autocomplete
              label="Deputy"
              placeholder="Username"
              required
              data={suggestions}
              value={deputy}
              onChange={setDeputy}
              size="md"
              error={fieldError(create.error, "deputy")}
              style={{ flex: "1 1 160px" }}
            />
            <TextInput
              label="Note"
              placeholder="Optional"
              maxLength={500}
              value={note}
              onChange={(e) => setNote(e.currentTarget.value)}
              size="md"
              style={{ flex: "2 1 200px" }}
            />
          </Group>
          <Group justify="flex-end" mt="sm">
            <Button type="submit" size="md" loading={create.isPending} disabled={!from || !until || !deputy.trim()}>
              Plan absence
            </Button>
          </Group>
        </form>
        {rows.length === 0 ? (
          <Text size="sm" c="dimmed">
            No absence planned.
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={480}>
            <Table aria-label="Your absences" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>From</Table.Th>
                  <Table.Th>Until</Table.Th>
                  <Table.Th>Deputy</Table.Th>
                  <Table.Th>Note</Table.Th>
                  <Table.Th>
                    <span className="fd-visually-hidden">Actions</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((a) => (
                  <Table.Tr key={a.id} data-absence={a.id}>
                    <Table.Td>
                      <Group gap={6} wrap="nowrap">
                        <Text size="sm">{when(a.starts_at)}</Text>
                        {a.current && (
                          <Badge size="sm" color="indigo" variant="light">
                            now
                          </Badge>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{when(a.ends_at)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{a.deputy}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{a.note}</Text>
                    </Table.Td>
                    <Table.Td ta="right">
                      <Tooltip label={a.current ? "End it now" : "Delete"}>
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          size={40}
                          aria-label={`Delete the absence until ${when(a.ends_at)}`}
                          onClick={() => confirmDelete(a)}
                        >
                          <IconTrash size={18} />
                        </ActionIcon>
                      </Tooltip>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
    </Paper>
  );
}
