/** The People page's groups: the list, one group's members, renaming and deleting. */
import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  List,
  Modal,
  MultiSelect,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import { IconPencil, IconPlus, IconTrash, IconUsersGroup, IconX } from "@tabler/icons-react";
import { DataTable, type DataTableSortStatus } from "mantine-datatable";
import { type FormEvent, useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";

import {
  type GroupRow,
  fieldError,
  fullName,
  useAddMembers,
  useCreateGroup,
  useDeleteGroup,
  useGroup,
  useGroups,
  useRemoveMember,
  useRenameGroup,
  useUsers,
} from "../../people";
import { Empty } from "../../ui/Empty";
import { notifyError, notifySuccess } from "../../ui/notify";
import { PHONE } from "./layout";
import { LIST_TABLE } from "../../ui/table";

export function GroupsTab({ selected }: { selected: number | null }) {
  const groups = useGroups();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const [sort, setSort] = useState<DataTableSortStatus<GroupRow>>({ columnAccessor: "name", direction: "asc" });
  const rows = useMemo(() => {
    const sorted = [...(groups.data ?? [])].sort((a, b) =>
      sort.columnAccessor === "member_count" ? a.member_count - b.member_count : a.name.localeCompare(b.name),
    );
    return sort.direction === "desc" ? sorted.reverse() : sorted;
  }, [groups.data, sort]);

  return (
    <Grid gap="md">
      <Grid.Col span={{ base: 12, md: 5 }}>
        <Stack gap="sm">
          <Group justify="space-between">
            <Title order={2}>Groups</Title>
            <Button leftSection={<IconPlus size={18} />} size="md" onClick={() => setCreating(true)}>
              New group
            </Button>
          </Group>
          {groups.isSuccess && rows.length === 0 ? (
            <Empty
              icon={<IconUsersGroup />}
              title="No groups yet"
              description="Workflows ask groups to approve or fill forms: create one, then add its members."
              actions={
                <Button size="md" onClick={() => setCreating(true)}>
                  Create a group
                </Button>
              }
            />
          ) : (
            <DataTable<GroupRow>
              aria-label="Groups"
              {...LIST_TABLE}
              fetching={groups.isLoading}
              records={rows}
              idAccessor="id"
              sortStatus={sort}
              onSortStatusChange={setSort}
              onRowClick={({ record }) => navigate(`/people/groups/${record.id}`)}
              rowStyle={(group) =>
                group.id === selected ? { background: "var(--mantine-color-default-hover)" } : undefined
              }
              customRowAttributes={(group) => ({ "data-selected-group": group.id === selected || undefined })}
              columns={[
                {
                  accessor: "name",
                  title: "Name",
                  sortable: true,
                  render: (group) => (
                    <Anchor
                      component={Link}
                      to={`/people/groups/${group.id}`}
                      fw={600}
                      size="sm"
                      display="inline-block"
                      py={10}
                      aria-current={group.id === selected ? "true" : undefined}
                      // The chosen group reads as plain text on its highlighted row.
                      c={group.id === selected ? "var(--mantine-color-text)" : undefined}
                    >
                      {group.name}
                    </Anchor>
                  ),
                },
                { accessor: "member_count", title: "Members", sortable: true, textAlign: "right" },
              ]}
            />
          )}
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 7 }}>
        {selected !== null ? (
          <GroupPanel id={selected} key={selected} />
        ) : (
          rows.length > 0 && (
            <Card>
              <Text c="dimmed" size="sm">
                Choose a group to see and change its members.
              </Text>
            </Card>
          )
        )}
      </Grid.Col>
      {creating && <NewGroupModal onClose={() => setCreating(false)} />}
    </Grid>
  );
}

function NewGroupModal({ onClose }: { onClose: () => void }) {
  const phone = useMediaQuery(PHONE);
  const create = useCreateGroup();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(name, {
      onSuccess: (group) => {
        notifySuccess(`Group ${group.name} created.`);
        onClose();
        navigate(`/people/groups/${group.id}`);
      },
      onError: (e) => notifyError(e, "Creating the group"),
    });
  };
  return (
    <Modal opened onClose={onClose} title="New group" fullScreen={phone}>
      <form onSubmit={submit} aria-label="New group">
        <Stack gap="sm">
          <TextInput
            label="Name"
            description="As workflows name it in their assignees, e.g. finance."
            required
            data-autofocus
            size="md"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={fieldError(create.error, "name")}
          />
          <Group justify="flex-end" gap="xs">
            <Button variant="default" size="md" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" size="md" loading={create.isPending}>
              Create group
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function GroupPanel({ id }: { id: number }) {
  const group = useGroup(id);
  const users = useUsers({ active: "true", page_size: 200, ordering: "username" });
  const rename = useRenameGroup();
  const remove = useDeleteGroup();
  const add = useAddMembers();
  const drop = useRemoveMember();
  const navigate = useNavigate();
  const [name, setName] = useState<string | null>(null);
  const [adding, setAdding] = useState<string[]>([]);

  if (group.isError) {
    return <Empty icon={<IconX />} title="No such group" description="It may have been deleted meanwhile." />;
  }
  if (!group.data) return null;
  const g = group.data;
  const members = new Set(g.members.map((m) => m.username));
  const candidates = (users.data?.results ?? []).map((u) => u.username).filter((u) => !members.has(u));
  const inUse = g.named_by.length > 0;

  const saveName = (event: FormEvent) => {
    event.preventDefault();
    if (name === null || name === g.name) return setName(null);
    rename.mutate(
      { id, name },
      {
        onSuccess: (renamed) => {
          notifySuccess(`Renamed to ${renamed.name}.`);
          setName(null);
        },
        onError: (e) => notifyError(e, `Renaming ${g.name}`),
      },
    );
  };

  const confirmDelete = () =>
    modals.openConfirmModal({
      title: `Delete group ${g.name}?`,
      children: (
        <Text size="sm">
          Its {g.member_count} member{g.member_count === 1 ? "" : "s"} stay; only the group goes, with any role it was
          given on workflows and credentials.
        </Text>
      ),
      labels: { confirm: "Delete group", cancel: "Cancel" },
      confirmProps: { color: "red", size: "md" },
      cancelProps: { size: "md" },
      onConfirm: () =>
        remove.mutate(id, {
          onSuccess: () => {
            notifySuccess(`Group ${g.name} deleted.`);
            navigate("/people/groups");
          },
          onError: (e) => notifyError(e, `Deleting ${g.name}`),
        }),
    });

  const addMembers = (event: FormEvent) => {
    event.preventDefault();
    if (!adding.length) return;
    add.mutate(
      { id, usernames: adding },
      {
        onSuccess: () => {
          notifySuccess(`${adding.join(", ")} added to ${g.name}.`);
          setAdding([]);
        },
        onError: (e) => notifyError(e, `Adding to ${g.name}`),
      },
    );
  };

  return (
    <Card component="section" aria-label={`Group ${g.name}`} padding="lg">
      <Stack gap="md">
        {name === null ? (
          <Group justify="space-between" wrap="wrap" gap="xs">
            <Title order={2}>{g.name}</Title>
            <Group gap="xs">
              <Button
                variant="default"
                size="md"
                leftSection={<IconPencil size={16} />}
                onClick={() => setName(g.name)}
                disabled={inUse}
              >
                Rename
              </Button>
              <Button
                variant="light"
                color="red"
                size="md"
                leftSection={<IconTrash size={16} />}
                onClick={confirmDelete}
                disabled={inUse}
              >
                Delete
              </Button>
            </Group>
          </Group>
        ) : (
          <form onSubmit={saveName} aria-label={`Rename ${g.name}`}>
            <Group align="flex-end" gap="xs" wrap="wrap">
              <TextInput
                label="New name"
                size="md"
                data-autofocus
                value={name}
                onChange={(e) => setName(e.currentTarget.value)}
                error={fieldError(rename.error, "name")}
                style={{ flex: "1 1 12rem" }}
              />
              <Button type="submit" size="md" loading={rename.isPending}>
                Save name
              </Button>
              <Button variant="default" size="md" onClick={() => setName(null)}>
                Cancel
              </Button>
            </Group>
          </form>
        )}
        {inUse && (
          <Alert color="blue" variant="light" title="Workflows ask this group">
            <Text size="sm">
              While these workflows name {g.name} in their approvals or forms, it cannot be renamed or deleted:
            </Text>
            <List size="sm" mt={4}>
              {g.named_by.map((w) => (
                <List.Item key={w.id}>
                  <Anchor component={Link} to={`/designer/${w.id}`}>
                    {w.name}
                  </Anchor>
                </List.Item>
              ))}
            </List>
          </Alert>
        )}
        <Stack gap="xs">
          <Title order={3}>
            Members <Badge variant="light">{g.member_count}</Badge>
          </Title>
          {g.members.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nobody yet: tasks assigned to {g.name} reach no one until you add members below.
            </Text>
          ) : (
            <Stack gap={4} component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Members">
              {g.members.map((member) => (
                <Group key={member.id} component="li" justify="space-between" wrap="nowrap" gap="xs">
                  <Stack gap={0} style={{ minWidth: 0 }}>
                    <Text size="sm" fw={500}>
                      {member.username}
                      {!member.is_active && (
                        <Badge ml={6} size="xs" color="gray" variant="outline">
                          Deactivated
                        </Badge>
                      )}
                    </Text>
                    {fullName(member) && (
                      <Text size="xs" c="dimmed">
                        {fullName(member)}
                      </Text>
                    )}
                  </Stack>
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    size={40}
                    aria-label={`Remove ${member.username} from ${g.name}`}
                    loading={drop.isPending && drop.variables?.userId === member.id}
                    onClick={() =>
                      drop.mutate(
                        { id, userId: member.id },
                        {
                          onSuccess: () => notifySuccess(`${member.username} left ${g.name}.`),
                          onError: (e) => notifyError(e, `Removing ${member.username}`),
                        },
                      )
                    }
                  >
                    <IconX size={18} />
                  </ActionIcon>
                </Group>
              ))}
            </Stack>
          )}
          <form onSubmit={addMembers} aria-label={`Add members to ${g.name}`}>
            <Group align="flex-end" gap="xs" wrap="wrap">
              <MultiSelect
                label="Add members"
                placeholder={adding.length ? undefined : "Choose users"}
                size="md"
                searchable
                data={candidates}
                value={adding}
                onChange={setAdding}
                nothingFoundMessage="Nobody else to add"
                style={{ flex: "1 1 14rem" }}
                comboboxProps={{ withinPortal: true }}
              />
              <Button type="submit" size="md" loading={add.isPending} disabled={!adding.length}>
                Add
              </Button>
            </Group>
          </form>
        </Stack>
      </Stack>
    </Card>
  );
}
